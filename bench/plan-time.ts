/**
 * The consumer's planning, timed on the local stack's segments table: each round reads the whole table (the planner's
 * path for a large footprint, `SubscriberStore.allSegments`) and plans a quake (`planFanout`) with the epicentre moved
 * 1 km east each round, so distances are computed afresh while the H3 cell circles stay kept (`cellCircle`). Prints the
 * Scan and the planning's own computation per round; the first round is what a fresh environment without priming pays.
 *
 *   node bench/plan-time.ts [--rounds 6] [--lat 45.77 --lon 26.76 --depth 94 --magnitude 7.4]
 *
 * Defaults: the Vrancea 1977 event of `npx quakectl drill`. Needs `npx quakectl local up` and subscribers (a drill
 * deploys the tables and seeds them). Exit 2 on a bad option, 1 when the stack or its segments table cannot be read.
 */
import { parseArgs } from 'node:util';
import { planFanout } from '../shared/fanout/index.ts';
import { createClients, serviceConfigFromProfile } from '../shared/infra/clients.ts';
import { loadProfile } from '../shared/infra/config.ts';
import type { Quake } from '../shared/quake/types.ts';
import { coveringCells, SubscriberStore } from '../shared/segments/index.ts';

function usage(message: string): never {
  process.stderr.write(
    `bench/plan-time.ts: ${message}\nusage: node bench/plan-time.ts [--rounds 6] [--lat D --lon D --depth KM --magnitude M]\n`,
  );
  process.exit(2);
}

function fail(message: string): never {
  process.stderr.write(`bench/plan-time.ts: ${message}\n`);
  process.exit(1);
}

let values: Record<string, string | undefined>;
try {
  ({ values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '6' },
      lat: { type: 'string', default: '45.77' },
      lon: { type: 'string', default: '26.76' },
      depth: { type: 'string', default: '94' },
      magnitude: { type: 'string', default: '7.4' },
    },
  }));
} catch (err) {
  usage((err as Error).message);
}
const num = (name: string, min: number, max: number) => {
  // Number('') and Number(' ') are 0: an empty value is refused, not read as 0.
  const v = values[name]?.trim() ? Number(values[name]) : Number.NaN;
  if (!Number.isFinite(v) || v < min || v > max)
    usage(`--${name} must be a number from ${min} to ${max}, got "${values[name]}"`);
  return v;
};
const rounds = num('rounds', 1, 100);
if (!Number.isInteger(rounds)) usage(`--rounds must be a whole number, got "${values.rounds}"`);
// Not at a pole: the epicentre moves 1 km east per round (1 / cos(lat) degrees of longitude).
const lat = num('lat', -89, 89);
const lon = num('lon', -180, 180);
const depthKm = num('depth', 0, 700);
const magnitude = num('magnitude', 1, 10);

let store: SubscriberStore;
try {
  const cfg = serviceConfigFromProfile(loadProfile({ profile: 'local' }));
  store = new SubscriberStore(createClients(cfg).ddb, cfg.names);
} catch (err) {
  fail((err as Error).message);
}
const now = Date.now();
const base: Quake = {
  id: 'plan-time',
  sourceIds: ['plan-time'],
  source: 'quakectl',
  magType: 'mw',
  place: 'plan-time',
  status: 'automatic',
  kind: 'earthquake',
  drill: true,
  lat,
  lon,
  depthKm,
  magnitude,
  originTime: now - 5000,
  updatedAt: now,
};

try {
  for (let r = 0; r < rounds; r++) {
    let t = performance.now();
    const all = await store.allSegments();
    const scanMs = performance.now() - t;
    if (all.length === 0) fail('the segments table is empty: run a drill first (npx quakectl drill)');
    const quake = { ...base, lon: lon + (r * 1) / (111.32 * Math.cos((lat * Math.PI) / 180)) };
    t = performance.now();
    const plan = await planFanout(quake, {
      coveringCells,
      segmentsForCells: (cells) => store.segmentsForCells(cells),
      allSegments: async () => all,
      chains: 4,
    });
    const planMs = performance.now() - t;
    const areaCells = all.reduce((n, s) => n + (s.area?.length ?? 0), 0);
    console.log(
      `round ${r + 1}: ${all.length} shards (${areaCells} area cells): Scan ${scanMs.toFixed(1)} ms, ` +
        `planning ${planMs.toFixed(1)} ms, ${plan.segments.length} shards planned`,
    );
  }
} catch (err) {
  const e = err as Error;
  fail(
    e.name === 'ResourceNotFoundException'
      ? `${e.name}: no segments table: deploy and seed it first (npx quakectl drill)`
      : `${e.name}: ${e.message} (is the local stack up? npx quakectl local up)`,
  );
}
process.exit(0);
