/**
 * The first alert's path after a deploy, with and without init-phase priming (shared/infra/prime.ts), in one run.
 *
 *   node bench/first-alert.ts [--rounds 2] [--settle S] [-- <drill options>]
 *   node bench/first-alert.ts --rounds 2 -- --scenario marmara-istanbul --reseed
 *
 * Each round, for priming off and then on: writes a profile (the local profile with `deploy.prime` set and
 * `fanout.minMagnitude` nudged, so the drill's deploy publishes a new version and new provisioned environments), runs
 * `quakectl drill -o json` right after that deploy ("fresh": provisioned environments never invoked) and once more
 * ("warm"), and prints the first notification from acceptance as the receiver measured it, and how many of the
 * invocations on the first notification's path were cold starts. `--settle S`: the fresh drill comes S seconds after a
 * deploy of its own (`quakectl deploy`, the stack must be up) instead of right after the drill's deploy, so the new
 * environments' initialisation is over (as before a real quake, which rarely follows a release within seconds). Uses the local stack (the drill starts it when it is
 * not running) and the drill's population: by default `--subscribers 5000 --reseed` (`--reseed` only on the first drill: it
 * replaces what the table holds, the next ones find it); drill options given after `--` replace those (shared/drill/layout.ts says when
 * a drill refuses another population). The profile is the
 * built-in local one with those two settings: other settings of a config file are not applied.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

function usage(message: string): never {
  console.error(
    `bench/first-alert.ts: ${message}\nusage: node bench/first-alert.ts [--rounds N] [--settle S] [-- <drill options>]`,
  );
  process.exit(2);
}

const sep = process.argv.indexOf('--');
const own = sep === -1 ? process.argv.slice(2) : process.argv.slice(2, sep);
let drillArgs = sep === -1 ? ['--subscribers', '5000', '--reseed'] : process.argv.slice(sep + 1);
// The bench reads the drill's JSON report: options that change or replace it are refused.
const refused = drillArgs.find((a) => /^(-o|--output|-h|--help)(=|$)/.test(a));
if (refused) usage(`drill option ${refused} cannot be used here: the bench reads the drill's JSON report`);
let rounds = 2;
let settleS = 0;
try {
  const { values } = parseArgs({
    args: own,
    strict: true,
    options: { rounds: { type: 'string' }, settle: { type: 'string' } },
  });
  if (values.rounds !== undefined) {
    if (!/^[1-9][0-9]*$/.test(values.rounds)) usage(`--rounds must be a positive integer, got "${values.rounds}"`);
    rounds = Number(values.rounds);
  }
  if (values.settle !== undefined) {
    if (!/^[0-9]+$/.test(values.settle) || Number(values.settle) > 600)
      usage(`--settle must be whole seconds from 0 to 600, got "${values.settle}"`);
    settleS = Number(values.settle);
  }
} catch (err) {
  usage((err as Error).message);
}

interface DrillJson {
  eventId: string;
  firstDeliveryMs?: number;
  p50DeliveryMs?: number;
  ratePerS?: number;
  delivered: number;
  eligible: number;
  environments?: { function: string; invocations: number; cold: number; coldBeforeFirst: number }[];
  population?: { asked: string; found: string; subscribers: number; reason?: string };
}

const dir = mkdtempSync(join(tmpdir(), 'quakectl-first-alert-'));
const cleanup = () => rmSync(dir, { recursive: true, force: true });
let child: ChildProcess | undefined;
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.once(signal, () => {
    child?.kill(signal);
    cleanup();
    console.error(`bench/first-alert.ts: interrupted (${signal})`);
    process.exit(code);
  });
}

/** One drill as a child process (asynchronous, so a signal reaches this process's handlers while it runs). */
function drill(config: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return quakectl(['drill', '-o', 'json', ...drillArgs], config);
}

/** `quakectl <args>` as a child process with the bench's profile. */
function quakectl(args: string[], config: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['bin/quakectl', ...args], {
      env: { ...process.env, QUAKECTL_CONFIG: config },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = p;
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    p.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    p.on('error', reject);
    p.on('close', (status) => {
      child = undefined;
      resolve({ status, stdout, stderr });
    });
  });
}
const rows: string[][] = [];
try {
  all: for (let round = 1; round <= rounds; round++) {
    for (const prime of [false, true]) {
      const config = join(dir, `config-${round}-${prime}.yaml`);
      const minMagnitude = (3 + Math.random() / 100).toFixed(5);
      writeFileSync(
        config,
        `profiles:\n  local:\n    type: local\n    fanout:\n      minMagnitude: ${minMagnitude}\n    deploy:\n      prime: ${prime}\n`,
      );
      for (const kind of ['fresh', 'warm']) {
        if (kind === 'fresh' && settleS > 0) {
          // Deploy on its own, then let the new environments settle: the drill's deploy finds nothing to change.
          const d = await quakectl(['deploy'], config);
          if (d.status !== 0) {
            console.error(d.stderr.trim());
            console.error(`bench/first-alert.ts: quakectl deploy failed (exit ${d.status}): is the local stack up?`);
            process.exitCode = 1;
            break all;
          }
          await new Promise((r) => setTimeout(r, settleS * 1000));
        }
        const load = loadavg()[0].toFixed(1);
        const r = await drill(config);
        if (r.status !== 0) {
          console.error(r.stderr.trim());
          console.error(
            `bench/first-alert.ts: the drill failed (exit ${r.status}) with priming ${prime ? 'on' : 'off'}, ${kind}`,
          );
          process.exitCode = 1;
          break all;
        }
        // --reseed once: the first drill replaces another population, the next ones find it (a reseed drops the tables).
        const reseeded = drillArgs.includes('--reseed');
        drillArgs = drillArgs.filter((a) => a !== '--reseed');
        const d = JSON.parse(r.stdout) as DrillJson;
        if (reseeded || d.population?.found === 'other') {
          console.error(
            `bench/first-alert.ts: the drills' population: ${d.population?.asked ?? '?'} (${d.population?.found ?? '?'}` +
              `${reseeded ? ': --reseed replaced what the table held' : `: ${d.population?.reason}`})`,
          );
        }
        const cold = (d.environments ?? []).reduce((n, e) => n + e.coldBeforeFirst, 0);
        const invocations = (d.environments ?? []).reduce((n, e) => n + e.invocations, 0);
        rows.push([
          String(round),
          prime ? 'on' : 'off',
          kind,
          d.eventId,
          `${d.firstDeliveryMs} ms`,
          `${d.p50DeliveryMs} ms`,
          String(d.ratePerS),
          `${d.delivered}/${d.eligible}`,
          `${cold} of ${invocations}`,
          load,
        ]);
        console.error(rows.at(-1)!.join('  '));
      }
    }
  }
} finally {
  cleanup();
}
if (process.exitCode) process.exit();

const header = [
  'round',
  'priming',
  'path',
  'event',
  'first',
  'p50',
  'notifications/s',
  'delivered',
  'cold before first',
  'load (1-min avg, before the drill)',
];
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
for (const prime of ['off', 'on']) {
  for (const kind of ['fresh', 'warm']) {
    const firsts = rows.filter((r) => r[1] === prime && r[2] === kind).map((r) => Number.parseInt(r[4], 10));
    const when =
      kind === 'fresh' ? (settleS > 0 ? ` (${settleS} s after its deploy)` : ' (right after its deploy)') : '';
    console.log(
      `priming ${prime}, ${kind}${when}: first ${firsts.join(', ')} ms${firsts.length > 1 ? ` (median ${median(firsts)} ms)` : ''}`,
    );
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : Math.round((s[s.length / 2 - 1] + s[s.length / 2]) / 2);
}
