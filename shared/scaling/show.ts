/** `scale show`: the knobs as they are now, with the metrics they answer to. */

import { type ExpectedRate, expectedRateFor, type RateHistory, readRateHistory } from '../fanout/rate.ts';
import type { Clients } from '../infra/clients.ts';
import type { FanoutSettings } from '../infra/config.ts';
import { errorMessage } from '../infra/errors.ts';
import { FUNCTION_ROLES, type ResourceNames } from '../infra/names.ts';
import { withAdmin } from '../ops/kafka/admin.ts';
import { defaultConsumerGroup } from '../ops/kafka/group.ts';
import { fetchGroupLag } from '../ops/kafka/lag.ts';
import { partitionCount } from '../ops/kafka/topics.ts';
import {
  type AccountConcurrency,
  accountConcurrency,
  type FunctionConcurrency,
  getConcurrency,
} from './concurrency.ts';
import { effectiveFanout, readFanout } from './fanout-settings.ts';

export interface ScaleShow {
  functions: Array<FunctionConcurrency & { role: string }>;
  account?: AccountConcurrency;
  fanout: { parallelism: number; maxSegmentSize: number; expectedRate: number; measureRate: boolean };
  /**
   * The rate the consumer plans with now (shared/fanout/rate.ts `expectedRateFor`, for a fan-out no larger than 4x a
   * measured run: a larger one plans with the runs of its size when there are any); null when nothing is deployed or
   * the measured rates could not be read (a note says why).
   */
  rate: { rate: number; source: ExpectedRate['source'] } | null;
  /** The measured rates, by parallelism (`P4`), newest first; null when they could not be read. */
  measured: RateHistory | null;
  topic: string;
  partitions: number;
  group?: string;
  lag?: number;
  notes: string[];
}

export async function scaleShow(
  clients: Pick<Clients, 'lambda' | 'kafka' | 'ddb'>,
  names: ResourceNames,
  profileFanout: FanoutSettings,
): Promise<ScaleShow> {
  const notes: string[] = [];
  const functions = await Promise.all(
    FUNCTION_ROLES.map(async (role) => ({
      role,
      ...(await getConcurrency(clients.lambda, names.function(role), names.alias)),
    })),
  );
  const account = await accountConcurrency(clients.lambda).catch((err) => {
    notes.push(`account settings unavailable: ${errorMessage(err)}`);
    return undefined;
  });
  const deployed = await readFanout(clients.lambda, names);
  const fanout = effectiveFanout(deployed, names, profileFanout);
  const measured = await readRateHistory({ ddb: clients.ddb, table: names.table('events') }).catch((err) => {
    const missing = (err as { name?: string }).name === 'ResourceNotFoundException';
    notes.push(
      `measured rates unavailable (events table ${names.table('events')}): ${errorMessage(err)}` +
        (missing ? ': nothing deployed here? run quakectl deploy' : ''),
    );
    return null;
  });
  const planned =
    deployed.length > 0 && measured !== null
      ? expectedRateFor(measured, fanout.parallelism, fanout.expectedRate, fanout.measureRate)
      : null;
  const topic = names.eventsTopic;
  let group: string | undefined;
  let lag: number | undefined;
  let partitions = 0;
  await withAdmin(clients.kafka, async (admin) => {
    partitions = await partitionCount(admin, topic);
    try {
      group = await defaultConsumerGroup(clients.lambda, names.function('consumer'), topic);
      lag = (await fetchGroupLag(admin, group, topic)).total;
    } catch (err) {
      notes.push(`lag unknown: ${errorMessage(err)}`);
    }
  }).catch((err) => notes.push(`kafka unavailable: ${errorMessage(err)}`));
  return {
    functions,
    account,
    fanout: {
      parallelism: fanout.parallelism,
      maxSegmentSize: fanout.maxSegmentSize,
      expectedRate: fanout.expectedRate,
      measureRate: fanout.measureRate,
    },
    rate: planned ? { rate: planned.rate, source: planned.source } : null,
    measured,
    topic,
    partitions,
    group,
    lag,
    notes,
  };
}
