/**
 * Which population a drill runs against. A drill seeds its synthetic subscribers (shared/drill/seed.ts) into an empty
 * table; on a table that already holds subscribers it must know whether they are the population asked for (the same
 * scenario's centre, radius, count and seed), another drill's, or an operator's own, before it drills or re-seeds.
 * The seed is reproducible, so the check needs no record of what was seeded: the asked-for layout's subscribers are
 * regenerated and a sample of them compared with the table's.
 */
import { DeleteTableCommand, type DynamoDBClient, waitUntilTableNotExists } from '@aws-sdk/client-dynamodb';
import type { ResourceNames } from '../infra/names.ts';
import type { SubscriberStore } from '../segments/index.ts';
import { DEFAULT_DRILL_POPULATION, type DrillPopulation } from './scenarios.ts';
import { generateSubscribers } from './seed.ts';

/** A drill population: `count` subscribers within `radiusKm` km of `center` (degrees), from PRNG seed `seed`. */
export interface DrillLayout {
  count: number;
  center: { lat: number; lon: number };
  radiusKm: number;
  seed: number;
  /**
   * The webhook target every subscriber of the population has between drills (the drill's receiver, whose port is in
   * it), compared too; absent: channels are not compared.
   */
  webhook?: string;
  /** With `webhook`: the HMAC secret they sign with (the drill's receiver verifies every signature). */
  secret?: string;
}

/**
 * - `empty`: no subscriber in the table.
 * - `same`: the table holds exactly `count` subscribers and every sampled id of the layout is there, where the layout
 *   puts it, with its threshold, and on `layout.webhook` with `layout.secret` when given. A sample, not every subscriber:
 *   one changed by hand between the sampled ids goes unseen (`--reseed` always replaces the table).
 * - `other`: anything else (another scenario's or size's drill population, or subscribers imported by hand);
 *   `subscribers` is how many the table holds, `reason` says which checks failed (the first of each kind).
 */
export type LayoutState =
  | { kind: 'empty' }
  | { kind: 'same'; subscribers: number }
  | { kind: 'other'; subscribers: number; reason: string };

/** Subscribers of the layout compared with the table: the first, the last and evenly spaced ones between. */
export const LAYOUT_SAMPLES = 8;

/**
 * Whether `store` holds the drill population `layout` (see `LayoutState`). Reads the segments table's counts
 * (`SubscriberStore.stats`) and `LAYOUT_SAMPLES` subscribers by id; regenerates the layout's positions in memory
 * (about 1 s per million). Errors: the store's (an unreachable or missing table is the caller's to handle).
 */
export async function drillLayoutState(store: SubscriberStore, layout: DrillLayout): Promise<LayoutState> {
  const subscribers = (await store.stats()).subscribers;
  if (subscribers === 0) return { kind: 'empty' };
  // Every kind of difference found, the first of each: the message then names the port as well as the size.
  const reasons = new Map<string, string>();
  if (subscribers !== layout.count) reasons.set('count', `${subscribers} subscribers, not ${layout.count}`);
  const wanted = new Set<number>();
  for (let k = 0; k < LAYOUT_SAMPLES; k++) {
    wanted.add(Math.round((k * (layout.count - 1)) / Math.max(1, LAYOUT_SAMPLES - 1)));
  }
  const last = Math.max(...wanted);
  let i = 0;
  const samples = [];
  for (const s of generateSubscribers({
    count: layout.count,
    center: layout.center,
    radiusKm: layout.radiusKm,
    seed: layout.seed,
  })) {
    if (wanted.has(i)) samples.push(s);
    if (++i > last) break;
  }
  for (const want of samples) {
    const got = await store.get(want.id);
    if (!got) {
      if (!reasons.has('id')) reasons.set('id', `no subscriber ${want.id}`);
      continue;
    }
    if ((got.lat !== want.lat || got.lon !== want.lon || got.minMmi !== want.minMmi) && !reasons.has('place')) {
      reasons.set(
        'place',
        `subscriber ${want.id} is at ${got.lat},${got.lon} (MMI ≥ ${got.minMmi}), not ${want.lat},${want.lon} (MMI ≥ ${want.minMmi})`,
      );
    }
    if (layout.webhook === undefined || reasons.has('channel')) continue;
    if (got.channel.type !== 'webhook' || got.channel.target !== layout.webhook) {
      reasons.set(
        'channel',
        `subscriber ${want.id} is on ${got.channel.type} ${got.channel.target}, not the drill's webhook ${layout.webhook}`,
      );
    } else if (layout.secret !== undefined && got.channel.secret !== layout.secret) {
      reasons.set('channel', `subscriber ${want.id}'s webhook secret is not the drill's`);
    }
  }
  return reasons.size === 0
    ? { kind: 'same', subscribers }
    : { kind: 'other', subscribers, reason: [...reasons.values()].join('; ') };
}

/**
 * Empties the subscribers and segments tables by deleting them (DeleteTable, then waiting until DescribeTable says
 * they are gone, as the AWS SDK waiter `tableNotExists` does): far faster than deleting a million items one by one. The
 * caller re-creates them (a deploy). Only for the local profile's drill: the tables' data are gone for good.
 * Errors: the DynamoDB client's, except ResourceNotFoundException (a table already gone is what was asked).
 */
export async function dropSubscriberTables(
  dynamodb: DynamoDBClient,
  names: ResourceNames,
  opts: { maxWaitS?: number } = {},
): Promise<void> {
  for (const role of ['subscribers', 'segments'] as const) {
    const TableName = names.table(role);
    try {
      await dynamodb.send(new DeleteTableCommand({ TableName }));
    } catch (err) {
      if ((err as Error).name !== 'ResourceNotFoundException') throw err;
    }
    await waitUntilTableNotExists(
      { client: dynamodb, maxWaitTime: opts.maxWaitS ?? 60, minDelay: 1, maxDelay: 2 },
      { TableName },
    );
  }
}

/** What a drill does with the table it finds (`populationAction`). */
export type PopulationAction =
  | { kind: 'seed' }
  | { kind: 'reseed' }
  | { kind: 'use'; warning?: string }
  | { kind: 'refuse'; message: string };

/**
 * The drill's decision on its population, given what the table holds (`drillLayoutState`):
 * - an empty table is seeded;
 * - `reseed` (the operator's `--reseed`) replaces whatever is there, the population asked for included (the check is a
 *   sample: a table changed by hand between the sampled ids can only be mended this way);
 * - the population asked for is used as it is;
 * - another population is refused when the operator named the population (`explicit`: the flags given, e.g.
 *   `--subscribers`) or the drill would change it (`channels`: a channel drill gives its own subscribers channels and
 *   puts them back on the drill's webhook afterwards, which would overwrite another population's targets); otherwise
 *   the drill runs with it and says so (an operator's own imported subscribers are a legitimate drill population).
 * `describe` names the population asked for, e.g. "100000 within 80 km of …, seed 1".
 */
export function populationAction(
  state: LayoutState,
  opts: { reseed: boolean; explicit: readonly string[]; channels: boolean; describe: string },
): PopulationAction {
  if (state.kind === 'empty') return { kind: 'seed' };
  if (opts.reseed) return { kind: 'reseed' };
  if (state.kind === 'same') return { kind: 'use' };
  const what = `the table holds ${state.subscribers} subscribers that are not the population asked for (${opts.describe}): ${state.reason}`;
  if (opts.channels) {
    return {
      kind: 'refuse',
      message: `${what}. --channels gives channels only to the drill's own population, never to other subscribers: add --reseed to replace them (every subscriber in the local table is deleted)`,
    };
  }
  if (opts.explicit.length) {
    return {
      kind: 'refuse',
      message: `${what}. Add --reseed to replace them (every subscriber in the local table is deleted), or leave out ${opts.explicit.join(', ')} to drill with them`,
    };
  }
  return {
    kind: 'use',
    warning: `${what}; drilling with them (--reseed replaces them with the scenario's population)`,
  };
}

/**
 * The population a drill asks for: the flags given (`subscribers`, `radiusKm`: count and km; `seed`), else the
 * scenario's `drillPopulation`, else `DEFAULT_DRILL_POPULATION`, centred on the scenario's epicentre; which of the flags
 * the operator gave (`given(key)`, e.g. commander's option value source being "cli"), as `populationAction` wants them;
 * and a description for messages.
 */
export function drillPopulation(
  flags: { subscribers?: number; radiusKm?: number; seed: number },
  given: (key: 'subscribers' | 'radiusKm' | 'seed') => boolean,
  scenario: { title: string; lat: number; lon: number; drillPopulation?: DrillPopulation },
): { layout: DrillLayout; explicit: string[]; describe: string } {
  const base = scenario.drillPopulation ?? DEFAULT_DRILL_POPULATION;
  const layout: DrillLayout = {
    count: flags.subscribers ?? base.subscribers,
    center: { lat: scenario.lat, lon: scenario.lon },
    radiusKm: flags.radiusKm ?? base.radiusKm,
    seed: flags.seed,
  };
  const explicit = (
    [
      ['subscribers', '--subscribers'],
      ['radiusKm', '--radius-km'],
      ['seed', '--seed'],
    ] as const
  ).flatMap(([key, flag]) => (given(key) ? [flag] : []));
  return {
    layout,
    explicit,
    describe: `${layout.count} subscribers within ${layout.radiusKm} km of ${scenario.title}, seed ${layout.seed}`,
  };
}
