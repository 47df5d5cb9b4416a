/**
 * Gathers what the engine decides on, from the same services production uses: Kafka (partitions, the consumer
 * group's lag), the events table (pending segments), Lambda (reserved/provisioned concurrency) and, where available,
 * concurrent executions. What cannot be read is left undefined (the engine then holds) and said in `notes`.
 */
import type { Clients } from '../infra/clients.ts';
import { errorMessage } from '../infra/errors.ts';
import { type ResourceNames, resolveFunctionName } from '../infra/names.ts';
import { eventsInProgress } from '../ops/events.ts';
import { withAdmin } from '../ops/kafka/admin.ts';
import { defaultConsumerGroup } from '../ops/kafka/group.ts';
import { fetchGroupLag, type GroupLag } from '../ops/kafka/lag.ts';
import { getConcurrency } from './concurrency.ts';
import type { FunctionMetrics, ScalingMetrics } from './engine.ts';
import type { ScalingRules } from './rules.ts';

export interface GatherOptions {
  now?: number;
  /** Concurrent executions of a deployed function (peak over the last minute), when the platform reports it. */
  inUse?: (functionName: string) => Promise<number | undefined>;
}

export interface GatheredMetrics {
  metrics: ScalingMetrics;
  lag?: GroupLag;
  notes: string[];
}

export function ruleFunctions(rules: ScalingRules): string[] {
  const fns = new Set<string>();
  if (rules.consumer) fns.add(rules.consumer.function);
  if (rules.worker) fns.add(rules.worker.function);
  for (const p of rules.provisioned) fns.add(p.function);
  return [...fns];
}

export async function gatherMetrics(
  clients: Pick<Clients, 'kafka' | 'lambda' | 'ddb'>,
  names: ResourceNames,
  rules: ScalingRules,
  opts: GatherOptions = {},
): Promise<GatheredMetrics> {
  const notes: string[] = [];
  const metrics: ScalingMetrics = { now: opts.now ?? Date.now(), partitions: 0, functions: {} };
  let lag: GroupLag | undefined;

  if (rules.consumer) {
    const topic = rules.consumer.topic ?? names.eventsTopic;
    try {
      const group =
        rules.consumer.group ??
        (await defaultConsumerGroup(clients.lambda, resolveFunctionName(names, rules.consumer.function), topic));
      lag = await withAdmin(clients.kafka, (a) => fetchGroupLag(a, group, topic));
      metrics.partitions = lag.partitions.length;
      metrics.lagByPartition = lag.partitions.map((p) => p.lag);
    } catch (err) {
      notes.push(`consumer lag unavailable: ${errorMessage(err)}`);
    }
  }

  if (rules.worker) {
    try {
      const events = await eventsInProgress(clients.ddb, names.table('events'));
      metrics.pendingSegments = events.reduce((s, e) => s + e.pending, 0);
      metrics.eventsInProgress = events.length;
    } catch (err) {
      notes.push(`pending segments unavailable: ${errorMessage(err)}`);
    }
  }

  for (const fn of ruleFunctions(rules)) {
    const name = resolveFunctionName(names, fn);
    const c = await getConcurrency(clients.lambda, name, names.alias);
    if (!c.exists) {
      notes.push(`function ${name} is not deployed`);
      continue;
    }
    const fm: FunctionMetrics = { reserved: c.reserved, provisioned: c.provisioned };
    if (rules.provisioned.some((p) => p.function === fn) && opts.inUse) {
      fm.inUse = await opts.inUse(name).catch((err) => {
        notes.push(`concurrent executions of ${name} unavailable: ${errorMessage(err)}`);
        return undefined;
      });
    }
    metrics.functions[fn] = fm;
  }
  return { metrics, lag, notes };
}
