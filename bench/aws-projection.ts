/**
 * The throughput a city needs: for the city layout (bench/city.ts) at 100k, 1M and 10M subscribers, the smallest
 * notifications/s at which the ideal order (earliest S arrival first, the blind zone deferred; bench/city.ts
 * `idealSchedule`) reaches 90 % of each epicentral band's subscribers outside the blind zone before their S arrival,
 * for a given first-notification latency. Pure computation (no services): the physics' side of the AWS projection
 * in docs/fanout-benchmark.md, which turns these rates into Lambda concurrency and DynamoDB traffic.
 *
 *   node bench/aws-projection.ts [--sizes 100000,1000000,10000000] [--first-ms 300] [--target 90]
 */
import { parseArgs } from 'node:util';
import { sArrivalAt } from '../shared/drill/report.ts';
import { epicentralKm } from '../shared/seismo/index.ts';
import { BANDS, cityPositions, cityQuake } from './city.ts';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100000,1000000,10000000' },
    'first-ms': { type: 'string', default: '300' },
    target: { type: 'string', default: '90' },
  },
});
const firstMs = Number(args['first-ms']);
const target = Number(args.target) / 100;
const quake = cityQuake('projection', 0);

/** Share (0–1) of each band's subscribers outside the blind zone notified before S, ideal order at `perS`. */
function shares(sAt: Float64Array, band: Uint8Array, perS: number): number[] {
  const step = 1000 / perS;
  const outside = BANDS.map(() => 0);
  const before = BANDS.map(() => 0);
  let slot = 0;
  for (let i = 0; i < sAt.length; i++) {
    if (sAt[i] <= firstMs) continue; // blind zone: deferred, and not counted
    const b = band[i];
    if (b === 255) continue;
    outside[b]++;
    if (firstMs + slot * step < sAt[i]) {
      before[b]++;
      slot++;
    }
    // A late one is deferred: it takes no slot before the others.
  }
  return outside.map((n, b) => (n ? before[b] / n : 1));
}

const lines = [
  `Notifications/s the ideal order needs for ${Math.round(target * 100)}% of each band (outside the blind zone) ` +
    `before S; first notification ${firstMs} ms after acceptance, detection 5 s after origin.`,
  '',
  `| subscribers | ${BANDS.map((b) => `${b[0]}–${b[1]} km (outside blind / needed rate)`).join(' | ')} |`,
  `|---:|${BANDS.map(() => '---:').join('|')}|`,
];
for (const size of args.sizes.split(',').map(Number)) {
  const { lat, lon } = cityPositions(size, 7);
  const sAt = new Float64Array(size);
  const km = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const site = { lat: lat[i], lon: lon[i] };
    sAt[i] = sArrivalAt(quake, site); // acceptance = 0
    km[i] = epicentralKm(quake, site);
  }
  const order = Array.from(sAt.keys()).sort((a, b) => sAt[a] - sAt[b]);
  const sSorted = Float64Array.from(order, (i) => sAt[i]);
  const band = Uint8Array.from(order, (i) => {
    const b = BANDS.findIndex(([lo, hi]) => km[i] >= lo && km[i] < hi);
    return b < 0 ? 255 : b;
  });
  const outside = BANDS.map((_, b) => {
    let n = 0;
    for (let i = 0; i < size; i++) if (band[i] === b && sSorted[i] > firstMs) n++;
    return n;
  });
  const needed = BANDS.map((_, b) => {
    let lo = 100;
    let hi = 1e9;
    if (shares(sSorted, band, hi)[b] < target) return Number.POSITIVE_INFINITY;
    while (hi / lo > 1.01) {
      const mid = Math.sqrt(lo * hi);
      if (shares(sSorted, band, mid)[b] >= target) hi = mid;
      else lo = mid;
    }
    return hi;
  });
  const fmt = (x: number) =>
    !Number.isFinite(x) ? 'unreachable' : x >= 1e6 ? `${(x / 1e6).toFixed(1)}M/s` : `${Math.round(x / 100) * 100}/s`;
  lines.push(
    `| ${size.toLocaleString('en')} | ${outside.map((n, b) => `${n.toLocaleString('en')} / ${fmt(needed[b])}`).join(' | ')} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
