/**
 * Generates `shared/seismo/ak135-table.json`: first-arrival P and S travel times for a surface receiver, over source
 * depth 0–700 km and epicentral distance 0–40°, from the ak135 velocity model (Kennett, Engdahl & Buland 1995,
 * "Constraints on seismic velocities in the Earth from traveltimes", Geophys. J. Int. 122:108–124; the model's
 * published depth/Vp/Vs nodes, as distributed in the TauP `ak135.tvel` file, are below).
 *
 *   node bench/gen-ak135-table.ts && npx biome format --write shared/seismo/ak135-table.json
 *                                            write the table (about 30 s), in the repository's JSON layout
 *   node bench/gen-ak135-table.ts --check    compare with the committed table, exit 1 on any difference > 0.01 s
 *
 * Method (standard ray theory for a radially layered Earth, e.g. Shearer, "Introduction to Seismology", ch. 4):
 * - Earth-flattening transform (Müller 1971; exact for travel time and distance): z_f = R·ln(R/r), v_f = v·R/r. The
 *   model is cut into thin shells (1 km down to 800 km, 5 km below), each with v_f linear in z_f. In a linear-gradient
 *   layer a ray is a circular arc: x = (cos θ₁ − cos θ₂)/(p·g), t = ln[v₂(1 + cos θ₁)/(v₁(1 + cos θ₂))]/g with
 *   sin θ = p·v, and a ray turns where p·v = 1 (cos θ₂ = 0).
 * - For each source depth every ray is traced: up-going rays (direct Pg/Sg or P/S from a mantle source) and down-going
 *   rays that turn below the source (Pn/Sn just below the Moho, the upper-mantle branches with their triplications at
 *   410 and 660 km) or are reflected at a velocity jump they cannot enter. Ray parameters are sampled at every shell
 *   boundary's critical slowness plus subdivisions, so every turning depth is represented.
 * - The first arrival at a distance is the least time over every ray segment spanning that distance (linear in x
 *   between adjacent rays). Head waves along a discontinuity are not rays and are not modelled; in ak135 the upper
 *   mantle's gradient (with the sphericity the flattening adds) makes the diving Pn/Sn ray the first arrival instead,
 *   as in TauP.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'shared/seismo/ak135-table.json');

/** ak135 radius of the Earth (km), as the model is defined. */
const R = 6371;

/**
 * ak135 to 1752 km depth (deeper than any ray to 40° turns): [depth km, Vp km/s, Vs km/s]. Velocity is linear in depth
 * between nodes; a repeated depth is a discontinuity (Conrad 20 km, Moho 35 km, 210, 410, 660 km).
 */
const AK135: ReadonlyArray<readonly [number, number, number]> = [
  [0, 5.8, 3.46],
  [20, 5.8, 3.46],
  [20, 6.5, 3.85],
  [35, 6.5, 3.85],
  [35, 8.04, 4.48],
  [77.5, 8.045, 4.49],
  [120, 8.05, 4.5],
  [165, 8.175, 4.509],
  [210, 8.3, 4.518],
  [210, 8.3, 4.523],
  [260, 8.4825, 4.609],
  [310, 8.665, 4.696],
  [360, 8.8475, 4.783],
  [410, 9.03, 4.87],
  [410, 9.36, 5.08],
  [460, 9.528, 5.186],
  [510, 9.696, 5.292],
  [560, 9.864, 5.398],
  [610, 10.032, 5.504],
  [660, 10.2, 5.61],
  [660, 10.79, 5.96],
  [710, 10.9229, 6.0897],
  [760, 11.0558, 6.2095],
  [809.5, 11.1353, 6.2426],
  [859, 11.2221, 6.2798],
  [908.5, 11.3068, 6.316],
  [958, 11.3896, 6.3512],
  [1007.5, 11.4705, 6.3854],
  [1057, 11.5495, 6.4187],
  [1106.5, 11.6269, 6.451],
  [1156, 11.7026, 6.4828],
  [1205.5, 11.7766, 6.5138],
  [1255, 11.8491, 6.5439],
  [1304.5, 11.92, 6.5727],
  [1354, 11.9895, 6.6008],
  [1403.5, 12.0577, 6.6285],
  [1453, 12.1245, 6.6555],
  [1502.5, 12.1912, 6.6815],
  [1552, 12.255, 6.7073],
  [1601.5, 12.3185, 6.7326],
  [1651, 12.3819, 6.7573],
  [1700.5, 12.4426, 6.7815],
  [1750, 12.5031, 6.8052],
];

/** The table's grid (read by shared/seismo/travel.ts from the file's header, so the two cannot disagree). */
export const GRID = {
  /** Source depths (km): 0–100 every 5 km, then every 10 km to 700. */
  depthsKm: [...Array.from({ length: 21 }, (_, i) => i * 5), ...Array.from({ length: 60 }, (_, i) => 110 + i * 10)],
  /** Epicentral distance: a fine part near the source where t(x) bends most, then a coarser one. */
  fineStepDeg: 0.025,
  fineToDeg: 2,
  coarseStepDeg: 0.1,
  maxDeg: 40,
};

interface Shell {
  zTop: number; // flattened depth of the top (km)
  zBot: number;
  vTop: number; // flattened velocity at the top (km/s)
  vBot: number;
}

/** Flattened shells for one wave type, with a boundary exactly at the source depth. */
function shells(phase: 'P' | 'S', sourceDepthKm: number): { shells: Shell[]; sourceIndex: number } {
  const col = phase === 'P' ? 1 : 2;
  const out: Shell[] = [];
  const flatZ = (d: number) => R * Math.log(R / (R - d));
  const flatV = (d: number, v: number) => (v * R) / (R - d);
  let sourceIndex = -1;
  for (let i = 1; i < AK135.length; i++) {
    const [d1, ...a] = AK135[i - 1];
    const [d2, ...b] = AK135[i];
    if (d2 === d1) continue;
    const v1 = a[col - 1];
    const v2 = b[col - 1];
    const step = d2 <= 800 ? 1 : 5;
    const cuts = [d1];
    const n = Math.max(1, Math.ceil((d2 - d1) / step));
    for (let k = 1; k < n; k++) cuts.push(d1 + ((d2 - d1) * k) / n);
    if (sourceDepthKm > d1 && sourceDepthKm < d2) cuts.push(sourceDepthKm);
    cuts.push(d2);
    cuts.sort((x, y) => x - y);
    for (let k = 1; k < cuts.length; k++) {
      const za = cuts[k - 1];
      const zb = cuts[k];
      if (zb - za < 1e-9) continue;
      if (Math.abs(za - sourceDepthKm) < 1e-9 && sourceIndex < 0) sourceIndex = out.length;
      const va = v1 + ((v2 - v1) * (za - d1)) / (d2 - d1);
      const vb = v1 + ((v2 - v1) * (zb - d1)) / (d2 - d1);
      out.push({ zTop: flatZ(za), zBot: flatZ(zb), vTop: flatV(za, va), vBot: flatV(zb, vb) });
    }
  }
  if (sourceIndex < 0) sourceIndex = 0; // source at the surface
  return { shells: out, sourceIndex };
}

/** Horizontal distance and time across one shell, or the turning part if the ray turns inside it. */
function crossShell(s: Shell, p: number): { x: number; t: number; turned: boolean } | undefined {
  const pv1 = p * s.vTop;
  if (pv1 >= 1) return undefined; // cannot enter: reflected at the top
  const h = s.zBot - s.zTop;
  const g = (s.vBot - s.vTop) / h;
  const c1 = Math.sqrt(1 - pv1 * pv1);
  if (Math.abs(g) < 1e-12) {
    return { x: (h * pv1) / c1, t: h / (s.vTop * c1), turned: false };
  }
  const pv2 = p * s.vBot;
  if (pv2 >= 1) {
    // Turns inside: cos θ₂ = 0 at v = 1/p.
    if (p === 0) return undefined;
    return { x: c1 / (p * g), t: Math.log((1 + c1) / (s.vTop * p)) / g, turned: true };
  }
  const c2 = Math.sqrt(1 - pv2 * pv2);
  const x = p === 0 ? 0 : (c1 - c2) / (p * g);
  const t = Math.log((s.vBot * (1 + c1)) / (s.vTop * (1 + c2))) / g;
  return { x, t, turned: false };
}

/** Sampled rays for one source depth: [x km, t s] in ray order (up-going by rising p, then down-going by falling p). */
function rays(phase: 'P' | 'S', sourceDepthKm: number): Array<[number, number]> {
  const { shells: sh, sourceIndex } = shells(phase, sourceDepthKm);
  // Up-going leg: shells 0..sourceIndex−1.
  const up = (p: number): [number, number] | undefined => {
    let x = 0;
    let t = 0;
    for (let i = 0; i < sourceIndex; i++) {
      const c = crossShell(sh[i], p);
      if (!c || c.turned) return undefined;
      x += c.x;
      t += c.t;
    }
    return [x, t];
  };
  const vSource = sourceIndex < sh.length ? sh[sourceIndex].vTop : sh[sh.length - 1].vBot;
  let vMaxAbove = vSource;
  for (let i = 0; i < sourceIndex; i++) vMaxAbove = Math.max(vMaxAbove, sh[i].vTop, sh[i].vBot);
  const pMax = 1 / vMaxAbove;

  const out: Array<[number, number]> = [];
  if (sourceIndex > 0) {
    const n = 4000;
    for (let k = 0; k < n; k++) {
      const p = pMax * Math.sin(((k / n) * Math.PI) / 2);
      const u = up(p);
      if (u) out.push(u);
    }
  }
  // Down-going rays: every critical slowness below the source, plus subdivisions.
  const ps = new Set<number>();
  for (let i = sourceIndex; i < sh.length; i++) {
    ps.add(1 / sh[i].vTop);
    ps.add(1 / sh[i].vBot);
  }
  const sorted = [...ps].filter((p) => p <= pMax).sort((a, b) => b - a);
  const dense: number[] = [];
  for (let k = 0; k < sorted.length; k++) {
    dense.push(sorted[k]);
    if (k + 1 < sorted.length) {
      for (let j = 1; j < 4; j++) dense.push(sorted[k] + ((sorted[k + 1] - sorted[k]) * j) / 4);
    }
  }
  for (const p of dense) {
    const u = up(p);
    if (!u) continue;
    let x = 0;
    let t = 0;
    let ok = false;
    for (let i = sourceIndex; i < sh.length; i++) {
      const c = crossShell(sh[i], p);
      if (!c) {
        ok = true; // reflected at this shell's top (a velocity jump the ray cannot enter)
        break;
      }
      x += c.x;
      t += c.t;
      if (c.turned) {
        ok = true;
        break;
      }
    }
    if (ok) out.push([u[0] + 2 * x, u[1] + 2 * t]);
  }
  return out;
}

/** First index with xs[i] ≥ x (xs ascending). */
function lowerBound(xs: number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Least time at each distance (km) over all ray segments spanning it; NaN where no ray arrives. */
function firstArrivals(curve: Array<[number, number]>, distancesKm: number[]): number[] {
  const best = distancesKm.map(() => Number.POSITIVE_INFINITY);
  for (let i = 1; i < curve.length; i++) {
    const [x1, t1] = curve[i - 1];
    const [x2, t2] = curve[i];
    const lo = Math.min(x1, x2);
    const hi = Math.max(x1, x2);
    for (let k = lowerBound(distancesKm, lo); k < distancesKm.length && distancesKm[k] <= hi; k++) {
      const d = distancesKm[k];
      const t = hi - lo < 1e-9 ? Math.min(t1, t2) : t1 + ((t2 - t1) * (d - x1)) / (x2 - x1);
      if (t < best[k]) best[k] = t;
    }
  }
  return best.map((t) => (Number.isFinite(t) ? t : Number.NaN));
}

export function distancesDeg(): number[] {
  const g = GRID;
  const out: number[] = [];
  for (let d = 0; d < g.fineToDeg - 1e-9; d += g.fineStepDeg) out.push(Number(d.toFixed(6)));
  for (let d = g.fineToDeg; d <= g.maxDeg + 1e-9; d += g.coarseStepDeg) out.push(Number(d.toFixed(6)));
  return out;
}

export interface Ak135Table {
  model: string;
  source: string;
  generator: string;
  depthsKm: number[];
  fineStepDeg: number;
  fineToDeg: number;
  coarseStepDeg: number;
  maxDeg: number;
  /** p[depth index][distance index], seconds, 2 decimals. */
  p: number[][];
  s: number[][];
}

/** One row of the table: first arrivals (s, 2 decimals) of `phase` from depth `z` km at every grid distance. */
export function tableRow(phase: 'P' | 'S', z: number): number[] {
  const degs = distancesDeg();
  const km = degs.map((d) => (d * Math.PI * R) / 180);
  const t = firstArrivals(rays(phase, z), km);
  const missing = t.findIndex((x) => Number.isNaN(x));
  if (missing >= 0) throw new Error(`${phase} at depth ${z} km: no ray reaches ${degs[missing]}°`);
  return t.map((x) => Math.round(x * 100) / 100);
}

export function generate(): Ak135Table {
  const table = (phase: 'P' | 'S') => GRID.depthsKm.map((z) => tableRow(phase, z));
  return {
    model: 'ak135',
    source:
      'Kennett, Engdahl & Buland (1995), Geophys. J. Int. 122:108-124; first arrivals for a surface receiver, ray-traced',
    generator: 'node bench/gen-ak135-table.ts',
    depthsKm: GRID.depthsKm,
    fineStepDeg: GRID.fineStepDeg,
    fineToDeg: GRID.fineToDeg,
    coarseStepDeg: GRID.coarseStepDeg,
    maxDeg: GRID.maxDeg,
    p: table('P'),
    s: table('S'),
  };
}

/** One row per line: small diffs when the generator changes, and readable without a formatter. */
export function serialise(t: Ak135Table): string {
  const rows = (m: number[][]) => m.map((r) => `    ${JSON.stringify(r)}`).join(',\n');
  const { p, s, ...head } = t;
  const headJson = JSON.stringify(head, null, 2).replace(/\n}$/, '');
  return `${headJson},\n  "p": [\n${rows(p)}\n  ],\n  "s": [\n${rows(s)}\n  ]\n}\n`;
}

if (import.meta.main) {
  const t0 = performance.now();
  const table = generate();
  const ms = performance.now() - t0;
  if (process.argv.includes('--check')) {
    const committed = JSON.parse(readFileSync(OUT, 'utf8')) as Ak135Table;
    let worst = 0;
    for (const k of ['p', 's'] as const) {
      table[k].forEach((row, i) => {
        row.forEach((x, j) => {
          const diff = Math.abs(x - (committed[k][i]?.[j] ?? Number.NaN));
          worst = Math.max(worst, Number.isNaN(diff) ? Number.POSITIVE_INFINITY : diff);
        });
      });
    }
    process.stdout.write(`regenerated in ${ms.toFixed(0)} ms; largest difference from ${OUT}: ${worst} s\n`);
    process.exitCode = worst <= 0.01 ? 0 : 1;
  } else {
    writeFileSync(OUT, serialise(table));
    process.stdout.write(`wrote ${OUT} in ${ms.toFixed(0)} ms\n`);
  }
}
