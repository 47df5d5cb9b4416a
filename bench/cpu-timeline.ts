/**
 * Where the benchmark process spent its CPU, 100 ms at a time, during one fan-out run: reads a V8 CPU profile written
 * by `node --cpu-prof --cpu-prof-dir DIR bench/fanout.ts --strategies geo …` and, from the first sample of the last
 * run's workers (the profile's last `planFanout`, then the first `runSegmentWorker` after it: the run after any
 * warm-up; with several strategies, the last one's) to the run's last sample in the fan-out code (`shared/fanout/`:
 * after an `await` a sample's stack starts at the continuation, so `runSegmentWorker` itself leaves the stack well
 * before the run ends), prints per 100 ms the share of
 * samples in each part of the pipeline: waiting (idle: dynalite is a separate process), garbage collection, the
 * DynamoDB client (AWS SDK and Smithy: requests, response decoding, unmarshalling), webhook delivery (encoding,
 * signing, the HTTP client), the loopback sink, the worker and planner, and the rest. Then the same over the whole run.
 *
 *   node bench/cpu-timeline.ts PROFILE.cpuprofile [--window 2000]   (--window: ms from the run's start, 100–60000)
 *
 * The profile format is the Chrome DevTools Protocol's `Profiler.Profile` (nodes with call frames and children,
 * `samples` and `timeDeltas` in µs).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

function usage(message: string): never {
  process.stderr.write(
    `bench/cpu-timeline.ts: ${message}\nusage: node bench/cpu-timeline.ts PROFILE.cpuprofile [--window 2000]\n`,
  );
  process.exit(2);
}

let values: { window?: string };
let positionals: string[];
try {
  ({ values, positionals } = parseArgs({
    options: { window: { type: 'string', default: '2000' } },
    allowPositionals: true,
  }));
} catch (err) {
  usage((err as Error).message);
}
const [file] = positionals;
if (!file || positionals.length > 1) usage('one .cpuprofile file is needed');
const windowMs = Number(values.window);
if (!Number.isInteger(windowMs) || windowMs < 100 || windowMs > 60_000)
  usage(`--window must be a whole number of ms from 100 to 60000, got "${values.window}"`);

let profile: Profile;
try {
  profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
} catch (err) {
  usage(`cannot read ${file}: ${(err as Error).message}`);
}
if (!Array.isArray(profile?.nodes) || !Array.isArray(profile.samples) || !Array.isArray(profile.timeDeltas)) {
  usage(`${file} is not a V8 CPU profile (nodes, samples, timeDeltas)`);
}

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
/** The sample's stack, innermost first, as "url:function". */
const stackCache = new Map<number, string[]>();
function stack(id: number): string[] {
  let s = stackCache.get(id);
  if (s) return s;
  s = [];
  for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
    const f = byId.get(x)!.callFrame;
    s.push(`${f.url}:${f.functionName}`);
  }
  stackCache.set(id, s);
  return s;
}

/** Parts of the pipeline, first match from the innermost frame's whole stack in this order. */
const PARTS: [string, (frames: string[]) => boolean][] = [
  ['idle', (f) => f[0].endsWith(':(idle)')],
  ['gc', (f) => f[0].endsWith(':(garbage collector)')],
  ['sink', (f) => f.some((x) => x.includes('/local/webhook-sink'))],
  ['dynamodb client', (f) => f.some((x) => x.includes('/@aws-sdk/') || x.includes('/@smithy/'))],
  ['delivery', (f) => f.some((x) => x.includes('/shared/notify/') || x.includes('/undici/'))],
  ['worker, planner', (f) => f.some((x) => x.includes('/shared/fanout/') || x.includes('/shared/seismo/'))],
];
const partOf = (id: number) => {
  const frames = stack(id);
  return PARTS.find(([, test]) => test(frames))?.[0] ?? 'other';
};

// Sample times (µs) and the last run: from the first worker sample after the last planning sample, to the last sample
// in the fan-out code (the last `runSegmentWorker` sample can be seconds before the run's last delivery).
const times: number[] = [];
let t = profile.startTime;
for (const d of profile.timeDeltas) {
  t += d;
  times.push(t);
}
let runStart = -1;
let runEnd = -1;
for (let i = 0; i < profile.samples.length; i++) {
  const frames = stack(profile.samples[i]);
  if (frames.some((x) => x.endsWith(':planFanout'))) runStart = -1;
  else if (runStart < 0 && frames.some((x) => x.endsWith(':runSegmentWorker'))) runStart = i;
  if (runStart >= 0 && frames.some((x) => x.includes('/shared/fanout/'))) runEnd = i;
}
if (runStart < 0) usage(`${file}: no sample has runSegmentWorker on its stack (not a bench/fanout.ts profile?)`);

const t0 = times[runStart];
// No rows past the run's end.
const buckets = Math.min(Math.ceil(windowMs / 100), Math.floor((times[runEnd] - t0) / 100_000) + 1);
const perBucket = Array.from({ length: buckets }, () => new Map<string, number>());
const whole = new Map<string, number>();
for (let i = runStart; i <= runEnd; i++) {
  const dt = profile.timeDeltas[i + 1] ?? 0;
  const part = partOf(profile.samples[i]);
  whole.set(part, (whole.get(part) ?? 0) + dt);
  const b = Math.floor((times[i] - t0) / 100_000);
  if (b < buckets) perBucket[b].set(part, (perBucket[b].get(part) ?? 0) + dt);
}
const names = [...PARTS.map(([n]) => n), 'other'];
const pct = (m: Map<string, number>, n: string) => {
  const sum = [...m.values()].reduce((a, b) => a + b, 0);
  return sum > 0 ? `${Math.round((100 * (m.get(n) ?? 0)) / sum)}%` : '–';
};
const lines = [
  `Last run: ${((times[runEnd] - t0) / 1000).toFixed(0)} ms of samples from its workers' first; share of each 100 ms:`,
  '',
  `| from | ${names.join(' | ')} |`,
  `| ---: | ${names.map(() => '---:').join(' | ')} |`,
  ...perBucket.map((m, b) => `| +${b * 100} ms | ${names.map((n) => pct(m, n)).join(' | ')} |`),
  `| whole run | ${names.map((n) => pct(whole, n)).join(' | ')} |`,
  `| whole run, ms | ${names.map((n) => Math.round((whole.get(n) ?? 0) / 1000)).join(' | ')} |`,
];
process.stdout.write(`${lines.join('\n')}\n`);
