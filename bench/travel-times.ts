/**
 * Speed of travel-time lookups (the warning time of every notified subscriber needs one S time): the ak135 table
 * (shared/seismo/travel.ts) against the constant-velocity baseline it replaced (S = R_hyp / 3.5 km/s), same sites,
 * same run. Both include the haversine epicentral distance.
 *
 *   node bench/travel-times.ts [N]     default N = 5,000,000 sites
 */
import { epicentralKm, travelTimeCurve } from '../shared/seismo/travel.ts';

const n = Number(process.argv[2] ?? 5_000_000);
const quake = { lat: 45.77, lon: 26.76, depthKm: 94 };
const site = { lat: 0, lon: 0 };
const at = (i: number) => {
  site.lat = 43 + (i % 1000) * 0.005;
  site.lon = 22 + Math.floor(i / 1000) * 0.00008;
  return site;
};

function run(label: string, f: (i: number) => number): void {
  let acc = 0;
  for (let i = 0; i < 100_000; i++) acc += f(i); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < n; i++) acc += f(i);
  const ms = performance.now() - t0;
  process.stdout.write(
    `${label.padEnd(44)} ${n.toLocaleString('en')} sites in ${ms.toFixed(0)} ms: ${(n / ms / 1000).toFixed(1)} M/s (checksum ${acc.toExponential(3)})\n`,
  );
}

const curve = travelTimeCurve('S', quake.depthKm);
run('baseline: R_hyp / 3.5 km/s', (i) => Math.hypot(epicentralKm(quake, at(i)), quake.depthKm) / 3.5);
run('ak135 S, curve per event (travelTimeCurve)', (i) => curve.timeAtKm(epicentralKm(quake, at(i))));
// The lookup alone, on distances computed beforehand.
const km = Float64Array.from({ length: 1 << 16 }, (_, i) => epicentralKm(quake, at(i * 7)));
run('ak135 S lookup only (distance given)', (i) => curve.timeAtKm(km[i & 0xffff]));
run('baseline lookup only (distance given)', (i) => Math.hypot(km[i & 0xffff], quake.depthKm) / 3.5);
