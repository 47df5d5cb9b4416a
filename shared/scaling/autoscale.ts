/**
 * One autoscaler run: the same gather → decide → apply as `scale plan` + `scale apply --yes`, for the scheduled
 * function. Rules come from the environment (set by deploy from the profile's autoscaler.rules file):
 * QUAKECTL_SCALING_RULES (JSON) or QUAKECTL_SCALING_RULES_YAML.
 */
import type { Clients } from '../infra/clients.ts';
import { concurrentExecutions } from '../ops/logs/source.ts';
import { type AppliedDecision, applyDecisions } from './apply.ts';
import { decide } from './engine.ts';
import { readHistory } from './history.ts';
import { gatherMetrics } from './metrics.ts';
import { loadRules, parseRules, RulesError, rulesSchema, type ScalingRules } from './rules.ts';

export function rulesFromEnv(env: NodeJS.ProcessEnv): ScalingRules {
  if (env.QUAKECTL_SCALING_RULES) {
    let raw: unknown;
    try {
      raw = JSON.parse(env.QUAKECTL_SCALING_RULES);
    } catch (err) {
      throw new RulesError('QUAKECTL_SCALING_RULES is not JSON', { cause: err });
    }
    const parsed = rulesSchema.safeParse(raw);
    if (!parsed.success) throw new RulesError(`QUAKECTL_SCALING_RULES: ${parsed.error.message}`);
    return parsed.data;
  }
  if (env.QUAKECTL_SCALING_RULES_YAML)
    return parseRules(env.QUAKECTL_SCALING_RULES_YAML, 'QUAKECTL_SCALING_RULES_YAML');
  throw new RulesError('no scaling rules: set QUAKECTL_SCALING_RULES (JSON) or QUAKECTL_SCALING_RULES_YAML');
}

export interface AutoscaleResult {
  at: string;
  decisions: AppliedDecision[];
  notes: string[];
}

export async function autoscaleOnce(
  clients: Pick<Clients, 'kafka' | 'lambda' | 'ddb' | 'logs' | 'config'>,
  rules: ScalingRules,
  now = Date.now(),
): Promise<AutoscaleResult> {
  const names = clients.config.names;
  // Concurrent executions from CloudWatch Logs; the local stack has no CloudWatch, so provisioned rules hold there.
  const inUse = clients.config.local
    ? undefined
    : (fn: string) => concurrentExecutions({ kind: 'cloudwatch', logs: clients.logs }, fn, 60_000, now);
  const { metrics, notes } = await gatherMetrics(clients, names, rules, { now, inUse });
  const history = await readHistory(clients.ddb, names.table('events')).catch(() => ({}));
  const decisions = decide(rules, metrics, history);
  const applied = await applyDecisions({ lambda: clients.lambda, ddb: clients.ddb, names, now: () => now }, decisions);
  return { at: new Date(now).toISOString(), decisions: applied, notes };
}

/**
 * For `deploy`: the autoscaler's extra environment from the profile's `autoscaler.rules` file (validated here, so a
 * bad file fails the deploy, not every scheduled run). JSON keeps it compact: Lambda allows 4 KB of environment.
 */
export function autoscalerEnvironment(rulesFile: string): Record<string, string> {
  return { QUAKECTL_SCALING_RULES: JSON.stringify(loadRules(rulesFile)) };
}
