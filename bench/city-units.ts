/**
 * Where a city run lost the 0–20 km band, unit by unit: reads one `node bench/fanout.ts --layouts city --dump PREFIX`
 * file and prints, per work unit in plan order, its subscribers within 30 km, how many the S wave had reached before
 * the run's first notification (the blind zone), how many of the 0–20 km band outside it the unit held and missed, and
 * when the unit's first and last notification arrived; then the band's share as run, and as it would be with the same
 * notification times given out inside each unit earliest deadline first, those already late last (Moore 1968): what
 * the order inside the units costs, apart from the order of the units. `--timeline MS` adds, per unit and for all of
 * them, how many notifications arrived in each 100 ms from the first notification up to MS after it: a stall (no
 * notification anywhere while the chains read) shows as a run of empty columns.
 *
 *   node bench/city-units.ts FILE [--units 30] [--timeline 2000]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Dump {
  segments: string[];
  units: number[];
  subscribers: { k: number; km: number; sMs: number; at: number | null; segment: string | null }[];
}

function usage(message: string): never {
  process.stderr.write(
    `bench/city-units.ts: ${message}\nusage: node bench/city-units.ts FILE [--units 30] [--timeline 2000]\n`,
  );
  process.exit(2);
}

let parsed: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: { units: { type: 'string', default: '30' }, timeline: { type: 'string' } },
    allowPositionals: true,
  });
}
try {
  parsed = parse();
} catch (err) {
  usage((err as Error).message);
}
const [file] = parsed.positionals;
if (!file || parsed.positionals.length > 1) usage('one dump file is needed');
const shown = Number(parsed.values.units);
if (!Number.isInteger(shown) || shown < 1) usage(`--units must be a positive integer, got "${parsed.values.units}"`);
const timeline = parsed.values.timeline === undefined ? undefined : Number(parsed.values.timeline);
if (timeline !== undefined && !(Number.isInteger(timeline) && timeline >= 100 && timeline <= 60_000)) {
  usage(`--timeline must be a whole number of ms from 100 to 60000, got "${parsed.values.timeline}"`);
}

let dump: Dump;
try {
  dump = JSON.parse(readFileSync(file, 'utf8')) as Dump;
} catch (err) {
  usage(`cannot read ${file}: ${(err as Error).message}`);
}
if (!Array.isArray(dump?.units) || !Array.isArray(dump.segments) || !Array.isArray(dump.subscribers)) {
  usage(`${file} is not a --dump file of bench/fanout.ts (segments, units, subscribers)`);
}

const segmentIndex = new Map(dump.segments.map((s, i) => [s, i]));
/** The unit holding segment index i: the last unit start at or before it. */
const unitOf = (i: number) => {
  let lo = 0;
  let hi = dump.units.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (dump.units[mid] <= i) lo = mid;
    else hi = mid - 1;
  }
  return lo;
};
const notified = dump.subscribers.filter((s) => s.at !== null).map((s) => s.at!);
if (notified.length === 0) usage(`${file}: nobody within 30 km was notified`);
// Not Math.min(...notified): a 1M dump holds ~300,000 within 30 km, beyond the call stack's argument limit.
const first = notified.reduce((m, t) => Math.min(m, t), Number.POSITIVE_INFINITY);
const byUnit = new Map<number, Dump['subscribers']>();
for (const s of dump.subscribers) {
  const i = s.segment === null ? undefined : segmentIndex.get(s.segment);
  if (i === undefined) continue;
  const u = unitOf(i);
  const list = byUnit.get(u) ?? [];
  list.push(s);
  byUnit.set(u, list);
}
const inBand = (s: Dump['subscribers'][number]) => s.km <= 20 && s.sMs > first;
const warned = (s: Dump['subscribers'][number], at: number | null) => at !== null && at < s.sMs;
const fmt = (ms: number) => `${Math.round(ms)} ms`;

const lines = [
  `Blind zone: S before ${fmt(first)} after acceptance (this run's first notification).`,
  '',
  '| unit | within 30 km | blind zone | 0–20 km outside it | missed | first notification | last notification |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
];
const units = [...byUnit.keys()].sort((a, b) => a - b);
for (const u of units.slice(0, shown)) {
  const subs = byUnit.get(u)!;
  const band = subs.filter(inBand);
  const times = subs.map((s) => s.at).filter((t): t is number => t !== null);
  lines.push(
    `| ${u} | ${subs.length} | ${subs.filter((s) => s.sMs <= first).length} | ${band.length} | ` +
      `${band.filter((s) => !warned(s, s.at)).length} | ${times.length ? fmt(Math.min(...times)) : '–'} | ` +
      `${times.length ? fmt(Math.max(...times)) : '–'} |`,
  );
}
// The same times, inside each unit earliest deadline first with the already late last.
const reordered = new Map<number, number>();
for (const subs of byUnit.values()) {
  const times = subs
    .map((s) => s.at)
    .filter((t): t is number => t !== null)
    .sort((a, b) => a - b);
  const byDeadline = subs.filter((s) => s.at !== null).sort((a, b) => a.sMs - b.sMs);
  const late: typeof byDeadline = [];
  let i = 0;
  for (const s of byDeadline) {
    if (times[i] < s.sMs) reordered.set(s.k, times[i++]);
    else late.push(s);
  }
  for (const s of late) reordered.set(s.k, times[i++]);
}
const band = dump.subscribers.filter(inBand);
const share = (n: number) => `${((100 * n) / Math.max(band.length, 1)).toFixed(1)}%`;
lines.push(
  '',
  `0–20 km outside the blind zone: ${band.length}; warned as run ${share(band.filter((s) => warned(s, s.at)).length)}, ` +
    `with the same times inside each unit in deadline order ${share(band.filter((s) => warned(s, reordered.get(s.k) ?? null)).length)}.`,
);
if (timeline !== undefined) {
  // Notifications per 100 ms from the first one: per unit shown, then all units (every notification within 30 km).
  const buckets = Math.ceil(timeline / 100);
  const row = (subs: Dump['subscribers']) => {
    const n = new Array<number>(buckets).fill(0);
    for (const s of subs) {
      if (s.at === null) continue;
      const b = Math.floor((s.at - first) / 100);
      if (b >= 0 && b < buckets) n[b]++;
    }
    return n.map((x) => (x ? String(x) : '·')).join(' | ');
  };
  const heads = Array.from({ length: buckets }, (_, b) => `+${b * 100}`);
  lines.push(
    '',
    `Notifications per 100 ms after the first (${fmt(first)}), within 30 km:`,
    '',
    `| unit | ${heads.join(' | ')} |`,
    `| ---: | ${heads.map(() => '---:').join(' | ')} |`,
  );
  for (const u of units.slice(0, shown)) lines.push(`| ${u} | ${row(byUnit.get(u)!)} |`);
  lines.push(`| all | ${row(dump.subscribers)} |`);
}
process.stdout.write(`${lines.join('\n')}\n`);
