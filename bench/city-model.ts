/**
 * A model of the city run in seconds instead of minutes: the real planner (shared/fanout `planFanout`) on the city
 * layout's shards, and a model of the chains sending at a given rate, to see what the plan's order alone is worth and
 * how `fanout.expectedRate` should be set. No services; not a measurement of the system (bench/fanout.ts is).
 *
 *   node bench/city-model.ts [--size 1000000] [--rate 15000] [--first-ms 150] [--expected-rates 0,10000,20000]
 *                            [--chains 8] [--max-segment-size 2000]
 *
 * `--rate`: the throughput the chains really have (notifications/s, all chains); `--expected-rates`: the planner's
 * `fanout.expectedRate` values to compare (0: off); `--chains`: P (the benchmark runs 8, the profiles deploy 4).
 *
 * The layout: `cityPositions` (bench/city.ts: the same density as the benchmark, other draws), each res-5 cell's
 * subscribers sorted by `layoutKey` and cut into equal runs of at most `--max-segment-size`, as `subscribers resegment`
 * lays a cell out (the benchmark's bulk load lays out chunk by chunk: close, not identical). The plan is made at the
 * detection delay (5 s after origin) for each expected rate (0: no deferral). The chains: `--chains` of them, each at
 * rate / chains, the first free one claiming the next unit, all starting `--first-ms` after acceptance. As the worker
 * does (shared/fanout/worker.ts): a unit whose nearest point's S arrives within 10 s of its claim is sent in S order,
 * skipping whoever it reaches after their S (Moore's rule at the chain's rate); when it sent someone, the skipped wait
 * until the chain claims a non-urgent unit or runs out (parking), else they are sent at once; other units in key order.
 * Not modelled: reads (a unit is sendable at its claim), the first second's slower rate, lease and hand-over costs.
 * Printed per expected rate: the share of each epicentral band outside the blind zone notified before their S, and
 * the ideal order at the same rate and first notification (bench/city.ts `idealSchedule`).
 */
import { parseArgs } from 'node:util';
import { type FanoutPlan, planFanout, unitSegments } from '../shared/fanout/plan.ts';
import { areaCellFor, cellFor, layoutKey } from '../shared/segments/cells.ts';
import type { SegmentRef } from '../shared/segments/index.ts';
import { haversineKm } from '../shared/seismo/geodesy.ts';
import { travelTimeCurve } from '../shared/seismo/travel.ts';
import {
  BANDS,
  bandShares,
  CITY_EVENT,
  cityPositions,
  cityQuake,
  DETECTION_DELAY_MS,
  idealSchedule,
  type Site,
} from './city.ts';

const USAGE =
  'usage: node bench/city-model.ts [--size 1000000] [--rate 15000] [--first-ms 150] ' +
  '[--expected-rates 0,10000,20000] [--chains 8] [--max-segment-size 2000]\n' +
  "  --rate: the chains' real throughput (notifications/s, all chains); --expected-rates: fanout.expectedRate " +
  'values to compare (0: off); --chains: P (the profiles deploy 4); --first-ms: first notification after acceptance';

function usage(message: string): never {
  process.stderr.write(`bench/city-model.ts: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function wholeNumber(name: string, raw: string, min: number, max: number): number {
  // Digits only: Number() would take "" as 0 and "0x3a98" or "1e3" as numbers.
  const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max)
    usage(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return n;
}

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
let values: Record<string, string | undefined>;
try {
  values = parseArgs({
    options: {
      size: { type: 'string', default: '1000000' },
      rate: { type: 'string', default: '15000' },
      'first-ms': { type: 'string', default: '150' },
      'expected-rates': { type: 'string', default: '0,10000,20000' },
      chains: { type: 'string', default: '8' },
      'max-segment-size': { type: 'string', default: '2000' },
    },
  }).values as Record<string, string>;
} catch (err) {
  usage((err as Error).message);
}
const size = wholeNumber('size', values.size!, 1, 5_000_000);
const rate = wholeNumber('rate', values.rate!, 1, 10_000_000);
const firstMs = wholeNumber('first-ms', values['first-ms']!, 0, 60_000);
const chains = wholeNumber('chains', values.chains!, 1, 1000);
const maxSize = wholeNumber('max-segment-size', values['max-segment-size']!, 10, 100_000);
const expectedRates = values['expected-rates']!.split(',').map((r) => wholeNumber('expected-rates', r, 0, 100_000_000));

// Origin at 0 ms; the event is accepted (and planned) after the detection delay.
const accepted = DETECTION_DELAY_MS;
const curve = travelTimeCurve('S', CITY_EVENT.depthKm);
const { lat, lon } = cityPositions(size);
const sites: Site[] = [];
const byCell = new Map<string, number[]>();
const layout: string[] = new Array(size);
for (let k = 0; k < size; k++) {
  const km = haversineKm(CITY_EVENT.lat, CITY_EVENT.lon, lat[k], lon[k]);
  sites.push({ epicentralKm: km, sAt: curve.timeAtKm(km) * 1000 });
  layout[k] = layoutKey(lat[k], lon[k]);
  const cell = cellFor(lat[k], lon[k]);
  const list = byCell.get(cell);
  if (list) list.push(k);
  else byCell.set(cell, [k]);
}
const refs: SegmentRef[] = [];
const members = new Map<string, number[]>();
for (const [cell, ks] of byCell) {
  ks.sort((a, b) => (layout[a] < layout[b] ? -1 : layout[a] > layout[b] ? 1 : a - b));
  const need = Math.ceil(ks.length / maxSize);
  for (let shard = 0; shard < need; shard++) {
    const run = ks.slice(Math.floor((shard * ks.length) / need), Math.floor(((shard + 1) * ks.length) / need));
    const key = `${cell}#${shard}`;
    members.set(key, run);
    refs.push({ cell, shard, count: run.length, key, area: [...new Set(run.map((k) => areaCellFor(lat[k], lon[k])))] });
  }
}

/** Notification times (ms after origin, NaN: never) of the modelled chains working `plan`. */
function modelRun(plan: FanoutPlan): Float64Array {
  const at = new Float64Array(size).fill(Number.NaN);
  const perSend = (1000 * chains) / rate;
  const clock = new Array<number>(chains).fill(accepted + firstMs);
  const parked: number[][] = Array.from({ length: chains }, () => []);
  const send = (c: number, k: number) => {
    at[k] = clock[c];
    clock[c] += perSend;
  };
  const takeBack = (c: number) => {
    for (const k of parked[c]) send(c, k);
    parked[c] = [];
  };
  for (let u = 0; u < plan.units.length; u++) {
    let c = 0;
    for (let i = 1; i < chains; i++) if (clock[i] < clock[c]) c = i;
    const ks = unitSegments(plan.segments, plan.units, u).flatMap((s) => members.get(s) ?? []);
    const sNear = curve.timeAtKm(plan.distancesKm[plan.units[u]]) * 1000;
    if (sNear - clock[c] >= 10_000) {
      takeBack(c);
      for (const k of ks) send(c, k);
      continue;
    }
    ks.sort((a, b) => sites[a].sAt - sites[b].sAt);
    const late: number[] = [];
    let sent = 0;
    for (const k of ks) {
      if (sites[k].sAt < clock[c]) late.push(k);
      else {
        send(c, k);
        sent++;
      }
    }
    if (sent > 0) parked[c].push(...late);
    else for (const k of late) send(c, k);
  }
  for (let c = 0; c < chains; c++) takeBack(c);
  return at;
}

const quake = cityQuake('city-model', accepted);
const blindUntil = accepted + firstMs;
const pct = (xs: { pct: number | null }[]) => xs.map((b) => (b.pct === null ? '–' : `${b.pct}%`)).join(' | ');
process.stdout.write(
  `City model: ${size.toLocaleString('en')} subscribers, ${refs.length} shards; ${chains} chains at ${rate}/s in all, ` +
    `first notification ${firstMs} ms after acceptance (blind zone: S before then)\n\n` +
    `| expected rate | units | before S ${BANDS.map(([a, b]) => `${a}–${b} km`).join(' | ')} |\n` +
    `|---:|---:|${BANDS.map(() => '---:').join('|')}|\n`,
);
for (const expectedRate of expectedRates) {
  const plan = await planFanout(quake, {
    coveringCells: () => [],
    segmentsForCells: async () => refs,
    allSegments: async () => refs,
    chains,
    maxUnitSize: maxSize,
    now: accepted,
    expectedRate,
  });
  const shares = bandShares(sites, modelRun(plan), blindUntil);
  process.stdout.write(`| ${expectedRate || 'off'} | ${plan.units.length} | ${pct(shares)} |\n`);
}
const ideal = bandShares(sites, idealSchedule(sites, blindUntil, rate), blindUntil);
process.stdout.write(`| ideal order at ${rate}/s | | ${pct(ideal)} |\n`);
