/** Scheduled autoscaler: one run of the scaling engine (shared/scaling/autoscale.ts). */
import { functionRuntime } from '../../shared/infra/handler-support.ts';
import { autoscaleOnce, rulesFromEnv } from '../../shared/scaling/autoscale.ts';
import type { ScalingRules } from '../../shared/scaling/rules.ts';

const { clients, logger } = await functionRuntime('autoscaler');
// Read on first invocation, so a missing or invalid rules variable shows up as that invocation's error in the logs.
let rules: ScalingRules | undefined;

export const handler = async () => {
  rules ??= rulesFromEnv(process.env);
  const result = await autoscaleOnce(clients, rules);
  for (const d of result.decisions) {
    if (d.action !== 'hold' || d.error) logger.info('scaling decision', { ...d });
  }
  for (const n of result.notes) logger.warn(n);
  return result;
};
