/**
 * Fan-out parallelism P and maxSegmentSize at run time. The functions read them from `QUAKECTL_FANOUT` (JSON of
 * FanoutSettings, parsed by shared/infra/function-env.ts), which `deploy` sets from the profile; `scale
 * set` changes that variable in place on every deployed function that has it (read-modify-write of the whole
 * environment: UpdateFunctionConfiguration replaces it). The profile stays the deployed baseline: a later deploy
 * writes the profile's values back.
 */
import {
  GetFunctionConfigurationCommand,
  type LambdaClient,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import type { FanoutSettings } from '../infra/config.ts';
import { FUNCTION_ROLES, type ResourceNames } from '../infra/names.ts';

export interface FunctionFanout {
  function: string;
  fanout: Partial<FanoutSettings>;
}

/** Deployed functions and the QUAKECTL_FANOUT each one runs with (missing functions are left out). */
export async function readFanout(lambda: LambdaClient, names: ResourceNames): Promise<FunctionFanout[]> {
  const out: FunctionFanout[] = [];
  for (const role of FUNCTION_ROLES) {
    const fn = names.function(role);
    try {
      const c = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: fn }));
      const raw = c.Environment?.Variables?.QUAKECTL_FANOUT;
      out.push({ function: fn, fanout: raw ? (JSON.parse(raw) as Partial<FanoutSettings>) : {} });
    } catch (err) {
      if ((err as { name?: string }).name !== 'ResourceNotFoundException') throw err;
    }
  }
  return out;
}

/** The effective settings: the consumer's (it starts the chains), else the profile's. */
export function effectiveFanout(fns: FunctionFanout[], names: ResourceNames, profile: FanoutSettings): FanoutSettings {
  const consumer = fns.find((f) => f.function === names.function('consumer'));
  return { ...profile, ...(consumer?.fanout ?? {}) };
}

export async function updateFanout(
  lambda: LambdaClient,
  names: ResourceNames,
  profile: FanoutSettings,
  patch: Partial<FanoutSettings>,
): Promise<string[]> {
  const changed: string[] = [];
  for (const f of await readFanout(lambda, names)) {
    const cfg = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: f.function }));
    const vars = { ...(cfg.Environment?.Variables ?? {}) };
    const next = { ...profile, ...f.fanout, ...patch };
    vars.QUAKECTL_FANOUT = JSON.stringify(next);
    await waitUpdated(lambda, f.function);
    await lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: f.function, Environment: { Variables: vars } }),
    );
    await waitUpdated(lambda, f.function);
    changed.push(f.function);
  }
  return changed;
}

/** AWS refuses a configuration update while the previous one is in progress (ResourceConflictException). */
async function waitUpdated(lambda: LambdaClient, fn: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: fn }));
    if (c.LastUpdateStatus !== 'InProgress') return;
    if (Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}
