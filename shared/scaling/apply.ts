/**
 * Makes decisions through the Lambda concurrency APIs, one at a time, each with the same refusals as `scale set`,
 * and records each change (for cooldowns). A refused or failed decision does not stop the others.
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { errorMessage } from '../infra/errors.ts';
import { type ResourceNames, resolveFunctionName } from '../infra/names.ts';
import { setProvisioned, setReserved } from './concurrency.ts';
import { type Decision, targetKey } from './engine.ts';
import { recordChange } from './history.ts';

export interface AppliedDecision extends Decision {
  applied: boolean;
  error?: string;
}

export function changes(decisions: Decision[]): Decision[] {
  return decisions.filter((d) => d.action !== 'hold' && d.desired !== d.current);
}

export async function applyDecisions(
  deps: { lambda: LambdaClient; ddb: DynamoDBDocumentClient; names: ResourceNames; now?: () => number },
  decisions: Decision[],
): Promise<AppliedDecision[]> {
  const out: AppliedDecision[] = [];
  for (const d of decisions) {
    if (d.action === 'hold' || d.desired === d.current) {
      out.push({ ...d, applied: false });
      continue;
    }
    const fn = resolveFunctionName(deps.names, d.function);
    try {
      if (d.knob === 'reserved') await setReserved(deps.lambda, fn, d.desired, deps.names.alias);
      else await setProvisioned(deps.lambda, fn, d.desired, deps.names.alias);
      await recordChange(
        deps.ddb,
        deps.names.table('events'),
        targetKey(d.function, d.knob),
        d.desired,
        (deps.now ?? Date.now)(),
      ).catch(() => {
        // The change is made; only its cooldown record is missing: the next run may act sooner, never wrongly.
      });
      out.push({ ...d, applied: true });
    } catch (err) {
      out.push({ ...d, applied: false, error: errorMessage(err) });
    }
  }
  return out;
}
