/** Scheduled autoscaler: one run of the scaling engine (shared/scaling/autoscale.ts). */
import { createClients, serviceConfigFromEnv } from '../../shared/infra/clients.ts';
import { autoscaleOnce, rulesFromEnv } from '../../shared/scaling/autoscale.ts';

const clients = createClients(serviceConfigFromEnv());
const rules = rulesFromEnv(process.env);

export const handler = async () => {
  const result = await autoscaleOnce(clients, rules);
  for (const d of result.decisions) {
    if (d.action !== 'hold' || d.error) console.log(JSON.stringify({ msg: 'scaling decision', ...d }));
  }
  for (const n of result.notes) console.warn(n);
  return result;
};
