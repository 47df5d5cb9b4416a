/**
 * Fan-out benchmark: the `geo` strategy (footprint cells, nearest first) against the `scan` baseline (whole-table
 * parallel Scan, filter by intensity) on the same subscribers in the same run, for 10k, 100k and 1M subscribers and
 * two layouts:
 *   inside  — everyone within 150 km of the Vrancea 1977 hypocentre (M7.4, 94 km): the whole population is in the
 *             footprint, the case where geo can only win by ordering;
 *   country — a Romania-sized disk (330 km around 45.9N 24.97E, placed by city population) and a regional shallow
 *             M5.5 near Făgăraș: the footprint holds a few percent of the table, the case geo exists for.
 * The pipeline runs in-process with the production domain code: planFanout + savePlan (what the consumer does), then
 * P segment-worker chains (runSegmentWorker; a hand-off continues in-process, as the next Lambda would), delivering
 * signed webhook batches through the real Deliverer to the loopback sink, which records arrival times. Subscribers
 * live in a dynalite and the delivery DLQ in an ElasticMQ started for this run (bench/services.ts: no shared stack is
 * needed, and both stop when the benchmark exits, however it exits). Times are from acceptance (just before planning).
 *   city    — 100,000 subscribers (1M on request) by population density around İstanbul and a shallow M7.2 29 km from
 *             its centre (bench/city.ts): the case where order and throughput decide who is warned before the S
 *             wave; reported by epicentral band against the ideal bound at the same measured throughput.
 *
 *   node bench/fanout.ts [--sizes 10000,100000,1000000] [--skip-1m] [--layouts inside,country,city] [--parallelism 8]
 *     [--strategies geo,scan] [--repeat 1] [--max-segment-size 2000] [--no-warmup] [--count-calls] [--dump PREFIX] [--sink-capacity N]
 * Each option is described where it is parsed (`parseBenchArgs` below); docs/fanout-benchmark.md gives the runs.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { startWebhookSink } from '../local/webhook-sink.ts';
import { sArrivalAt } from '../shared/drill/report.ts';
import { generateSubscribers } from '../shared/drill/seed.ts';
import { savePlan } from '../shared/events/index.ts';
import {
  type FanoutPlan,
  type PlanInput,
  planFanout,
  runSegmentWorker,
  unitSegments,
  type WorkerPayload,
} from '../shared/fanout/index.ts';
import { createClients, LOCAL_CREDENTIALS, LOCAL_REGION, type ServiceConfig } from '../shared/infra/clients.ts';
import { loadProfile } from '../shared/infra/config.ts';
import { resourceNames, TABLES } from '../shared/infra/names.ts';
import { tableDefinition } from '../shared/infra/tables.ts';
import { buildNotification } from '../shared/notify/build.ts';
import { Deliverer } from '../shared/notify/deliverer.ts';
import type { DeliveryItem, DeliveryResult } from '../shared/notify/types.ts';
import type { Quake } from '../shared/quake/types.ts';
import { coveringCells, SubscriberStore } from '../shared/segments/index.ts';
import { alertLevel, epicentralKm, intensityModelFor } from '../shared/seismo/index.ts';
import { secondsUntilShaking, travelTimeCurve } from '../shared/seismo/travel.ts';
import {
  BANDS,
  bandShares,
  CITY_CENTRE,
  CITY_RADIUS_KM,
  cityQuake,
  citySubscribers,
  idealOnSchedule,
  idealSchedule,
  percentile,
  type Site,
} from './city.ts';
import { startDynalite, startSqs, stopAll } from './services.ts';

/**
 * Writes one city run's per-subscriber record (`--dump`): the plan's segments and unit starts, and for each subscriber
 * within 30 km of the epicentre its index, epicentral km, shard, S arrival and notification time (ms after
 * acceptance; null when not notified). Read by bench/city-units.ts.
 */
async function writeCityDump(
  file: string,
  r: {
    plan: FanoutPlan;
    quake: Quake;
    acceptedAt: number;
    at: Float64Array;
    lat: Float64Array;
    lon: Float64Array;
    idOf: (k: number) => string;
    locate: (ids: string[]) => Promise<Map<string, string>>;
  },
): Promise<void> {
  const near: { k: number; km: number; sMs: number; at: number | null }[] = [];
  for (let k = 0; k < r.at.length; k++) {
    const site = { lat: r.lat[k], lon: r.lon[k] };
    const km = epicentralKm(r.quake, site);
    if (km > 30) continue;
    near.push({ k, km, sMs: sArrivalAt(r.quake, site) - r.acceptedAt, at: Number.isNaN(r.at[k]) ? null : r.at[k] });
  }
  const where = await r.locate(near.map((n) => r.idOf(n.k)));
  const subscribers = near.map((n) => ({ ...n, segment: where.get(r.idOf(n.k)) ?? null }));
  const { writeFileSync } = await import('node:fs');
  writeFileSync(file, JSON.stringify({ segments: r.plan.segments, units: r.plan.units, subscribers }));
}

function usage(message: string): never {
  process.stderr.write(`bench/fanout.ts: ${message}\n`);
  process.exit(2);
}

/** The value of a numeric option as a positive integer, or a usage error naming it. */
function positiveIntOption(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) usage(`--${name} must be a positive integer, got "${raw}"`);
  return n;
}

const { values: args } = (() => {
  try {
    return parseBenchArgs();
  } catch (err) {
    // parseArgs throws TypeError with an ERR_PARSE_ARGS_* code for unknown options and missing values.
    return usage((err as Error).message);
  }
})();

function parseBenchArgs() {
  return parseArgs({
    options: {
      help: { type: 'boolean', short: 'h', default: false },
      /** Default: 10000,100000,1000000 (100000 when the only layout is `city`). */
      sizes: { type: 'string' },
      'skip-1m': { type: 'boolean', default: false },
      layouts: { type: 'string', default: 'inside,country' },
      /**
       * Strategies in run order: geo, scan, and geo variants for measuring the planner's changes on the same table in
       * the same run: geo:distance (units by distance band and adaptive size only: the plan's order before issue 16; the
       * worker still sends urgent units' batches in S order, which it decides from the plan's distances),
       * geo:small (urgent units kept small, no blind-zone deferral), geo:front (the near-field front of shared/fanout,
       * `frontS` 10 s: pieces in S order per subscriber), geo:no-rate (no deferral of the segments the expected rate
       * cannot reach: fanout.expectedRate 0), geo = the planner's defaults (no front; expected rate 20,000/s).
       */
      strategies: { type: 'string', default: 'geo,scan' },
      /** Run the strategies this many times, interleaved, on the same table (variance on a shared machine). */
      repeat: { type: 'string', default: '1' },
      parallelism: { type: 'string', default: '8' },
      'page-size': { type: 'string', default: '500' },
      'scan-segments': { type: 'string', default: '32' },
      /** The store's shard size (fanout.maxSegmentSize; the profiles' default is 2000). */
      'max-segment-size': { type: 'string', default: '2000' },
      /** Count DynamoDB calls (and their time) per operation and table, printed per strategy run. */
      'count-calls': { type: 'boolean', default: false },
      /**
       * City layout: write, per measured run, `<prefix>-<strategy>-<run>.json` with the plan's units and, for every
       * subscriber within 30 km of the epicentre, their shard, S arrival and notification time (ms after acceptance):
       * the input of `node bench/city-units.ts FILE` (where each unit's subscribers were warned or missed).
       */
      dump: { type: 'string' },
      /**
       * One unreported geo run per layout before the measured ones (`--no-warmup` to skip): its first notification pays
       * for compiling the planner, worker, deliverer and SDK code in this process (~0.2 s more than a second run), which a
       * deployed environment pays during its init priming (shared/infra/prime.ts), not on the alert's path.
       */
      warmup: { type: 'boolean', default: true },
      /**
       * The receiver's throughput in notifications/s (local/webhook-sink.ts `capacityPerSecond`): holds every strategy
       * to a stated rate, e.g. the 25,000/s of issue 16's back-of-envelope, whatever this machine manages. Unset: the
       * receiver takes all it gets.
       */
      'sink-capacity': { type: 'string' },
    },
    allowNegative: true,
  });
}
if (args.help) {
  // The usage is this file's header comment, from its first line to the option list.
  const { readFileSync } = await import('node:fs');
  const header = readFileSync(new URL(import.meta.url), 'utf8').split('*/')[0];
  process.stdout.write(`${header.replace(/^\/\*\*\n?/, '').replace(/^ \* ?/gm, '')}\n`);
  process.exit(0);
}
const layouts = args.layouts.split(',') as LayoutName[];
// A layout or size twice would pair one run's city table with another's rows: --repeat repeats runs.
if (new Set(layouts).size !== layouts.length) usage(`--layouts names a layout twice: use --repeat to run it again`);
for (const l of layouts) {
  if (!['inside', 'country', 'city'].includes(l)) {
    process.stderr.write(`unknown layout "${l}": inside, country or city\n`);
    process.exit(2);
  }
}
interface Variant {
  strategy: 'geo' | 'scan';
  plan: Partial<PlanInput>;
  /**
   * Prototype of a worker change, wired around the worker: read a whole shard per batch (page size 2000), then deliver
   * it earliest S arrival first in sequential chunks of this many, those already shaking last. The worker itself sorts
   * each batch of an urgent unit (worker.ts `deliverInSOrder`); the prototype sorts every batch, whole shards at once.
   */
  sortedChunk?: number;
  pageSize?: number;
  /**
   * Prototype of a near-field merge (not in shared/fanout): the leading urgent units whose S arrives within this many
   * seconds of planning form the front; their subscribers are read once, sorted by S arrival (those already shaking
   * last), and chain c delivers every P-th of them (offset c) in chunks of 100 before its normal loop over the rest of
   * the plan. In a deployment each chain would read the front itself (P× reads of a few shards) and take its share.
   */
  frontS?: number;
  /** ...and at most this many subscribers (plan counts), so reading the front stays a few Queries. */
  frontMax?: number;
  /** `WorkerDeps.sortUrgentUnits` (default true: an urgent unit is delivered in S order per subscriber, whole). */
  sortUrgentUnits?: boolean;
}
const VARIANTS: Record<string, Variant> = {
  geo: { strategy: 'geo', plan: {} },
  'geo:front': { strategy: 'geo', plan: { frontS: 10 } },
  // Nearest first whatever the rate: no deferral of what the expected rate cannot reach (main before this pass).
  'geo:no-rate': { strategy: 'geo', plan: { expectedRate: 0 } },
  scan: { strategy: 'scan', plan: {} },
  'geo:distance': { strategy: 'geo', plan: { urgentS: 0, expectedRate: 0 } },
  'geo:small': { strategy: 'geo', plan: { blindMarginS: -1, expectedRate: 0 } },
  'geo:sorted': { strategy: 'geo', plan: {}, sortedChunk: 200, pageSize: 2000 },
  'geo:front-proto': { strategy: 'geo', plan: {}, frontS: 2, frontMax: 4000 },
  'geo:front-wide': { strategy: 'geo', plan: {}, frontS: 2 },
  // The worker before the fifth pass: an urgent unit read in key order, each batch of 500 sorted on its own.
  'geo:batch-sorted': { strategy: 'geo', plan: {}, sortUrgentUnits: false },
};

/** The plan without its first `n` units (the prototype front), indices shifted. */
function withoutLeadingUnits(plan: FanoutPlan, n: number): FanoutPlan {
  if (n === 0) return plan;
  const k = n < plan.units.length ? plan.units[n] : plan.segments.length;
  return {
    ...plan,
    segments: plan.segments.slice(k),
    distancesKm: plan.distancesKm.slice(k),
    counts: plan.counts.slice(k),
    units: plan.units.slice(n).map((u) => u - k),
  };
}

/** The front's notifications, earliest S first, those already shaking last (prototype of the near-field merge). */
async function frontItems(store: SubscriberStore, quake: Quake, segments: readonly string[]): Promise<DeliveryItem[]> {
  const model = intensityModelFor(quake);
  const pages = await Promise.all(segments.map((seg) => store.readSegment(seg)));
  const now = Date.now();
  const items: DeliveryItem[] = [];
  for (const s of pages.flat()) {
    const mmi = model.predict(s.lat, s.lon);
    if (!(mmi >= s.minMmi)) continue;
    const level = alertLevel(mmi);
    const facts = {
      mmi,
      level: level === 'none' ? ('be-aware' as const) : level,
      distanceKm: epicentralKm(quake, s),
      secondsUntilShaking: secondsUntilShaking(quake, s, now),
    };
    items.push({ notification: buildNotification(quake, s, facts), channel: s.channel });
  }
  const urgency = (i: DeliveryItem) =>
    i.notification.secondsUntilShaking > 0 ? i.notification.secondsUntilShaking : Number.POSITIVE_INFINITY;
  return items.sort((a, b) => urgency(a) - urgency(b));
}

/** The `sortedChunk` prototype: one batch delivered earliest S first, chunk by chunk, the blind zone last. */
async function deliverInSOrder(deliverer: Deliverer, items: readonly DeliveryItem[], chunk: number) {
  const urgency = (i: DeliveryItem) =>
    i.notification.secondsUntilShaking > 0 ? i.notification.secondsUntilShaking : Number.POSITIVE_INFINITY;
  const sorted = [...items].sort((a, b) => urgency(a) - urgency(b));
  const out: DeliveryResult = { delivered: [], failed: [], dlq: 0 };
  for (let i = 0; i < sorted.length; i += chunk) {
    const r = await deliverer.deliver(sorted.slice(i, i + chunk));
    out.delivered.push(...r.delivered);
    out.failed.push(...r.failed);
    out.dlq += r.dlq;
  }
  return out;
}
/** The unreported first run (`--warmup`). */
const WARMUP = 'warm-up';
const strategies = Array.from({ length: positiveIntOption('repeat', args.repeat) }, () =>
  args.strategies.split(','),
).flat();
for (const s of strategies) {
  if (!VARIANTS[s]) {
    process.stderr.write(`unknown strategy "${s}": ${Object.keys(VARIANTS).join(', ')}\n`);
    process.exit(2);
  }
}
const sizes = (args.sizes ?? (layouts.every((l) => l === 'city') ? '100000' : '10000,100000,1000000'))
  .split(',')
  .map((raw) => positiveIntOption('sizes', raw))
  .filter((n) => !(args['skip-1m'] && n >= 1_000_000));
if (new Set(sizes).size !== sizes.length) usage(`--sizes names a size twice: use --repeat to run it again`);
const P = positiveIntOption('parallelism', args.parallelism);
const maxSegmentSize = positiveIntOption('max-segment-size', args['max-segment-size']);
const PAGE = positiveIntOption('page-size', args['page-size']);
const SCAN_SEGMENTS = positiveIntOption('scan-segments', args['scan-segments']);
const SECRET = 'bench-secret';

type LayoutName = 'inside' | 'country' | 'city';

interface Layout {
  center: { lat: number; lon: number };
  radiusKm: number;
  quake: (id: string, now: number) => Quake;
}

const drill = (id: string, now: number, e: Pick<Quake, 'lat' | 'lon' | 'depthKm' | 'magnitude' | 'place'>): Quake => ({
  id,
  source: 'drill',
  sourceIds: [id],
  originTime: now - 5000,
  magType: 'mw',
  updatedAt: now,
  status: 'reviewed',
  kind: 'earthquake',
  drill: true,
  ...e,
});

const LAYOUTS: Record<LayoutName, Layout> = {
  inside: {
    center: { lat: 45.77, lon: 26.76 },
    radiusKm: 150,
    quake: (id, now) => drill(id, now, { lat: 45.77, lon: 26.76, depthKm: 94, magnitude: 7.4, place: 'Vrancea' }),
  },
  country: {
    center: { lat: 45.9, lon: 24.97 },
    radiusKm: 330,
    quake: (id, now) => drill(id, now, { lat: 45.8, lon: 24.8, depthKm: 10, magnitude: 5.5, place: 'Făgăraș' }),
  },
  city: { center: CITY_CENTRE, radiusKm: CITY_RADIUS_KM, quake: cityQuake },
};

/**
 * The city report: per strategy and for the ideal bound (geo's measured first notification and throughput, earliest
 * S arrival first), the share of eligible subscribers outside the blind zone notified before their S arrival, by
 * epicentral band, and the notification-time percentiles. Times are ms after acceptance; every strategy's event is
 * the same hypocentre with origin = acceptance − 5 s, so S arrivals relative to acceptance are the same for all.
 */
function cityTable(
  size: number,
  measured: { strategy: string; quake: Quake; acceptedAt: number; at: Float64Array; units: number }[],
  lat: Float64Array,
  lon: Float64Array,
  minMmi: Float32Array,
  all: Row[],
): string {
  const { quake, acceptedAt } = measured[0];
  const model = intensityModelFor(quake);
  const index: number[] = [];
  const sites: Site[] = [];
  for (let k = 0; k < size; k++) {
    if (!(model.predict(lat[k], lon[k]) >= minMmi[k])) continue;
    const site = { lat: lat[k], lon: lon[k] };
    index.push(k);
    sites.push({ epicentralKm: epicentralKm(quake, site), sAt: sArrivalAt(quake, site) - acceptedAt });
  }
  const ref = measured.find((m) => m.strategy === 'geo') ?? measured[0];
  const cityRows = all.filter((r) => r.size === size && r.layout === 'city');
  const blindUntil = cityRows[measured.indexOf(ref)].firstMs;
  // Each measured order next to the ideal at its own first notification and throughput (on a shared machine the
  // throughput of a run varies by 2x and more: the gap to its own ideal is what the order costs).
  const series: { name: string; at: ArrayLike<number>; units?: number }[] = [];
  measured.forEach((m, i) => {
    const row = all.filter((r) => r.size === size && r.layout === 'city')[i];
    series.push({ name: m.strategy, at: Float64Array.from(index, (k) => m.at[k]), units: m.units });
    series.push({ name: `↳ ideal at ${m.strategy}'s first and rate`, at: idealSchedule(sites, row.firstMs, row.perS) });
    // The same run's own delivery times (its slow first second included) in the ideal order: what the order costs.
    const own = Float64Array.from(index, (k) => m.at[k]);
    series.push({ name: `↳ ideal order on ${m.strategy}'s own delivery times`, at: idealOnSchedule(sites, own) });
    if (m === ref) {
      series.push({
        name: `↳ ideal, strict S order (no deferral of the blind zone)`,
        at: idealSchedule(sites, row.firstMs, row.perS, { plainOrder: true }),
      });
    }
  });
  const f = (ms: number | null) =>
    ms === null ? '—' : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
  const outside = bandShares(sites, new Float64Array(sites.length), blindUntil);
  const lines = [
    `City, ${size.toLocaleString('en')} subscribers, ${sites.length} eligible; blind zone = S before ${f(blindUntil)} ` +
      `after acceptance (${ref.strategy}'s first notification); outside it per band: ` +
      outside.map((b) => `${b.band[0]}–${b.band[1]} km ${b.outside}`).join(', '),
    '',
    `| order | units | first | p50 | p90 | p99 | last | notifications/s | ${BANDS.map((b) => `before S ${b[0]}–${b[1]} km`).join(' | ')} |`,
    `|---|---:|---:|---:|---:|---:|---:|---:|${BANDS.map(() => '---:').join('|')}|`,
  ];
  for (const s of series) {
    const times = Array.from(s.at)
      .filter((x) => !Number.isNaN(x))
      .sort((a, b) => a - b);
    const shares = bandShares(sites, s.at, blindUntil);
    const span = (times.at(-1) ?? 0) - (times[0] ?? 0);
    lines.push(
      `| ${s.name} | ${s.units ?? ''} | ${f(times[0] ?? null)} | ${f(percentile(times, 50))} | ${f(percentile(times, 90))} | ` +
        `${f(percentile(times, 99))} | ${f(times.at(-1) ?? null)} | ${span > 0 ? Math.round((times.length * 1000) / span) : '—'} | ` +
        `${shares.map((b) => (b.pct === null ? '—' : `${b.pct}%`)).join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

function memorySampler() {
  let peak = process.memoryUsage().rss;
  const t = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  return () => {
    clearInterval(t);
    return Math.max(peak, process.memoryUsage().rss);
  };
}

interface Row {
  size: number;
  layout: string;
  strategy: string;
  segments: number;
  eligible: number;
  delivered: number;
  duplicates: number;
  firstMs: number;
  lastMs: number;
  perS: number;
  beforeSPct: number;
  peakMb: number;
}

const log = (m: string) => process.stderr.write(`${m}\n`);
const [dynamo, sqs] = await Promise.all([startDynalite(), startSqs()]).catch((err) => {
  stopAll();
  log(`could not start the benchmark's services: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
// The benchmark's own services only: no shared stack (no Kafka and no Lambda are used in-process).
const local = loadProfile({ profile: 'local' });
const base: ServiceConfig = {
  region: LOCAL_REGION,
  endpoints: { dynamodb: dynamo.endpoint, sqs: sqs.endpoint },
  credentials: LOCAL_CREDENTIALS,
  kafka: { brokers: ['127.0.0.1:9'], ssl: false, clientId: 'quakectl-bench' },
  names: resourceNames(local.prefix),
  fanout: local.fanout,
  allowPrivateTargets: true,
  local: true,
};
const sinkCapacity =
  args['sink-capacity'] === undefined ? undefined : positiveIntOption('sink-capacity', args['sink-capacity']);
const sink = await startWebhookSink({ port: 0, secrets: SECRET, capacityPerSecond: sinkCapacity });
if (sinkCapacity !== undefined) log(`the receiver takes at most ${sinkCapacity} notifications/s (--sink-capacity)`);
const rows: Row[] = [];
const cityTables: string[] = [];
const loads: { size: number; layout: string; seconds: number }[] = [];
const started = Date.now();

try {
  for (const size of sizes) {
    for (const layoutName of layouts) {
      const layout = LAYOUTS[layoutName];
      const names = resourceNames(`bench-${randomBytes(3).toString('hex')}`);
      const clients = createClients({
        ...base,
        names,
      });
      for (const role of TABLES) await clients.dynamodb.send(new CreateTableCommand(tableDefinition(names, role)));
      for (const role of TABLES) {
        while (
          (await clients.dynamodb.send(new DescribeTableCommand({ TableName: names.table(role) }))).Table
            ?.TableStatus !== 'ACTIVE'
        ) {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      const dlq = await clients.sqs.send(new CreateQueueCommand({ QueueName: names.dlq('delivery') }));
      const calls = new Map<string, { n: number; ms: number }>();
      if (args['count-calls']) {
        clients.ddb.middlewareStack.add(
          (next, context) => async (a) => {
            const input = a.input as { TableName?: string };
            const key = `${context.commandName} ${(input.TableName ?? '').replace(/^.*-/, '')}`;
            const t = performance.now();
            try {
              return await next(a);
            } finally {
              const c = calls.get(key) ?? { n: 0, ms: 0 };
              c.n++;
              c.ms += performance.now() - t;
              calls.set(key, c);
            }
          },
          { step: 'initialize', name: 'benchCallCounter' },
        );
      }
      const store = new SubscriberStore(clients.ddb, names, { maxSegmentSize, concurrency: 16 });
      const seedOpts = {
        count: size,
        center: layout.center,
        radiusKm: layout.radiusKm,
        seed: 7,
        webhook: `${sink.url}/bench`,
        secret: SECRET,
        idPrefix: 'b',
      };
      // Locations by index for the before-S-wave check, without keeping a million objects around.
      const lat = new Float64Array(size);
      const lon = new Float64Array(size);
      const minMmi = new Float32Array(size);
      const t0 = Date.now();
      let batch = [];
      let i = 0;
      const subscribers = layoutName === 'city' ? citySubscribers(seedOpts) : generateSubscribers(seedOpts);
      for (const s of subscribers) {
        lat[i] = s.lat;
        lon[i] = s.lon;
        minMmi[i] = s.minMmi ?? 3;
        i++;
        batch.push(s);
        if (batch.length === 50_000) {
          await store.importAll(batch, { assumeNew: true });
          batch = [];
        }
      }
      if (batch.length) await store.importAll(batch, { assumeNew: true });
      const loadS = (Date.now() - t0) / 1000;
      loads.push({ size, layout: layoutName, seconds: loadS });
      log(`${size} ${layoutName}: loaded in ${loadS.toFixed(1)} s`);

      const measured: {
        strategy: string;
        quake: Quake;
        acceptedAt: number;
        at: Float64Array;
        units: number;
      }[] = [];
      for (const entry of args.warmup ? [WARMUP, ...strategies] : strategies) {
        const warmup = entry === WARMUP;
        const strategy = warmup ? 'geo' : entry;
        sink.reset();
        calls.clear();
        const id = `bench-${strategy}-${randomBytes(3).toString('hex')}`;
        // The census of eligible subscribers is the benchmark's bookkeeping: done before acceptance (it took ~0.2 s
        // at 1M and used to be counted into the first notification). The intensity model does not depend on time.
        const model = intensityModelFor(layout.quake(id, Date.now()));
        let eligible = 0;
        for (let k = 0; k < size; k++) if (model.predict(lat[k], lon[k]) >= minMmi[k]) eligible++;
        const acceptedAt = Date.now();
        const quake = layout.quake(id, acceptedAt);
        const peak = memorySampler();
        const start = Date.now();
        const variant = VARIANTS[strategy];
        const plan = await planFanout(quake, {
          ...variant.plan,
          strategy: variant.strategy,
          scanSegments: SCAN_SEGMENTS,
          coveringCells,
          segmentsForCells: (cells) => store.segmentsForCells(cells),
          allSegments: () => store.allSegments(),
          chains: P,
          maxUnitSize: maxSegmentSize, // as the consumer plans (functions/consumer)
        });
        // Prototype front: leading units whose nearest point's S arrives within frontS of now.
        let frontUnits = 0;
        if (variant.frontS) {
          const limitS = (Date.now() - quake.originTime) / 1000 + variant.frontS;
          let inFront = 0;
          while (
            frontUnits < plan.units.length &&
            travelTimeCurve('S', quake.depthKm).timeAtKm(plan.distancesKm[plan.units[frontUnits]]) < limitS
          ) {
            const n = unitSegments(plan.counts, plan.units, frontUnits).reduce((a, b) => a + b, 0);
            if (inFront > 0 && inFront + n > (variant.frontMax ?? Number.POSITIVE_INFINITY)) break;
            inFront += n;
            frontUnits++;
          }
        }
        const front = plan.segments.slice(0, frontUnits < plan.units.length ? plan.units[frontUnits] : undefined);
        const frontRead = frontUnits ? frontItems(store, quake, front) : Promise.resolve([]);
        const rest = withoutLeadingUnits(plan, frontUnits);
        const plannedMs = Date.now() - acceptedAt;
        await savePlan({ ddb: clients.ddb, table: names.table('events') }, quake, { ...rest, chains: P });
        const savedMs = Date.now() - acceptedAt;
        const deliverer = new Deliverer({ sqs: clients.sqs, names, allowPrivateTargets: true, batchSize: 100 });
        const chain = async (c: number) => {
          const mine = (await frontRead).filter((_, i) => i % P === c);
          for (let i = 0; i < mine.length; i += 100) await deliverer.deliver(mine.slice(i, i + 100));
          let payload: WorkerPayload | undefined = { eventId: quake.id, chain: c, hop: 0 };
          while (payload) {
            let next: WorkerPayload | undefined;
            const deadline = Date.now() + 900_000;
            await runSegmentWorker(
              {
                events: { ddb: clients.ddb, table: names.table('events') },
                locks: { ddb: clients.ddb, table: names.table('locks') },
                subscribers: store,
                deliver: (items) =>
                  variant.sortedChunk
                    ? deliverInSOrder(deliverer, items, variant.sortedChunk)
                    : deliverer.deliver(items),
                invokeSuccessor: async (p) => {
                  next = p;
                },
                remainingMs: () => deadline - Date.now(),
                owner: `bench-${c}-${payload.hop}`,
                leaseMs: 30_000,
                pageSize: variant.pageSize ?? PAGE,
                reserveMs: 10_000,
                ...(variant.sortUrgentUnits === undefined ? {} : { sortUrgentUnits: variant.sortUrgentUnits }),
              },
              payload,
            );
            payload = next;
          }
        };
        await Promise.all(Array.from({ length: P }, (_, c) => chain(c)));
        const peakMb = Math.round(peak() / 1e6);
        const receipts = sink.receipts().filter((r) => r.notification.eventId === quake.id);
        const times = receipts.map((r) => r.receivedAt - acceptedAt).sort((a, b) => a - b);
        let before = 0;
        // Notification time per subscriber index, ms after acceptance (NaN: not notified).
        const at = new Float64Array(size).fill(Number.NaN);
        for (const r of receipts) {
          const k = Number(r.notification.subscriberId.slice(r.notification.subscriberId.lastIndexOf('-') + 1));
          at[k] = r.receivedAt - acceptedAt;
          if (r.receivedAt < sArrivalAt(quake, { lat: lat[k], lon: lon[k] })) before++;
        }
        if (warmup) {
          log(`  warm-up (geo, not reported): first ${times[0] ?? '—'} ms, ${receipts.length} delivered`);
          continue;
        }
        if (args.dump && layoutName === 'city') {
          await writeCityDump(`${args.dump}-${strategy}-${measured.length}.json`, {
            plan,
            quake,
            acceptedAt,
            at,
            lat,
            lon,
            idOf: (k) => `${seedOpts.idPrefix}-${seedOpts.seed}-${k}`,
            locate: (ids) => store.locate(ids),
          });
        }
        measured.push({ strategy, quake, acceptedAt, at, units: plan.units.length });
        const firstMs = times[0] ?? 0;
        const lastMs = times.at(-1) ?? Date.now() - start;
        const row: Row = {
          size,
          layout: layoutName,
          strategy,
          segments: plan.segments.length,
          eligible,
          delivered: receipts.length,
          duplicates: sink.duplicates(),
          firstMs,
          lastMs,
          perS: Math.round(receipts.length / (Math.max(lastMs - firstMs, 1) / 1000)),
          beforeSPct: eligible ? Math.round((1000 * before) / eligible) / 10 : 0,
          peakMb,
        };
        rows.push(row);
        log(
          `  ${strategy}: ${row.delivered}/${row.eligible} delivered, first ${firstMs} ms, last ${lastMs} ms, ` +
            `${row.perS}/s, before S ${row.beforeSPct}%, peak ${peakMb} MB`,
        );
        if (args['count-calls']) {
          log(`    planned at ${plannedMs} ms (${plan.units.length} units), saved at ${savedMs} ms`);
          for (const [k, c] of [...calls].sort((a, b) => b[1].n - a[1].n)) {
            log(`    ${k}: ${c.n} calls, ${(c.ms / c.n).toFixed(1)} ms mean, ${Math.round(c.ms)} ms total`);
          }
        }
        if (row.delivered !== eligible) log(`  WARNING: delivered ${row.delivered} of ${eligible} eligible`);
      }
      if (layoutName === 'city' && measured.length) {
        cityTables.push(cityTable(size, measured, lat, lon, minMmi, rows));
        log(cityTables.at(-1)!);
      }
      await clients.sqs.send(new DeleteQueueCommand({ QueueUrl: dlq.QueueUrl })).catch(() => {});
      clients.destroy();
    }
  }
} finally {
  await sink.close();
  await Promise.all([dynamo.stop(), sqs.stop()]);
}

const fmt = (ms: number) => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(2)} s`);
const lines = [
  '| subscribers | layout | strategy | segments | eligible | delivered | dup | first | last | notifications/s | before S (all eligible) | peak RSS | geo speed-up (last) |',
  '|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
];
for (const r of rows) {
  const scan = rows.find((x) => x.size === r.size && x.layout === r.layout && x.strategy === 'scan');
  const ratio = r.strategy.startsWith('geo') && scan ? `${(scan.lastMs / Math.max(r.lastMs, 1)).toFixed(1)}x` : '';
  lines.push(
    `| ${r.size.toLocaleString('en')} | ${r.layout} | ${r.strategy} | ${r.segments} | ${r.eligible} | ${r.delivered} | ` +
      `${r.duplicates} | ${fmt(r.firstMs)} | ${fmt(r.lastMs)} | ${r.perS} | ${r.beforeSPct}% | ${r.peakMb} MB | ${ratio} |`,
  );
}
lines.push(
  '',
  `Loading (BatchWrite into dynalite): ${loads.map((l) => `${l.size} ${l.layout} ${l.seconds.toFixed(1)} s`).join('; ')}`,
);
lines.push(
  `Total run: ${((Date.now() - started) / 1000).toFixed(0)} s; P = ${P} chains, page ${PAGE}, ${SCAN_SEGMENTS} scan segments, shards of at most ${maxSegmentSize}.`,
);
process.stdout.write(`${lines.join('\n')}\n`);
for (const t of cityTables) process.stdout.write(`\n${t}\n`);
