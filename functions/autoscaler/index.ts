/** Scheduled autoscaler: one run of the scaling engine (shared/scaling/autoscale.ts). */
import { createClients, serviceConfigFromEnv } from '../../shared/infra/clients.ts';
import { autoscaleOnce, rulesFromEnv } from '../../shared/scaling/autoscale.ts';
import type { ScalingRules } from '../../shared/scaling/rules.ts';

const clients = createClients(serviceConfigFromEnv());
// Read on first invocation, so a missing or invalid rules variable shows up as that invocation's error in the logs.
let rules: ScalingRules | undefined;

export const handler = async () => {
  rules ??= rulesFromEnv(process.env);
  const result = await autoscaleOnce(clients, rules);
  for (const d of result.decisions) {
    if (d.action !== 'hold' || d.error) console.log(JSON.stringify({ msg: 'scaling decision', ...d }));
  }
  for (const n of result.notes) console.warn(n);
  return result;
};
