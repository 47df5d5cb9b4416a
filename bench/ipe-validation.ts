/**
 * Validates predicted MMI against the observed intensities of the 2023-02-06 M7.8 Kahramanmaraş earthquake (USGS
 * ShakeMap us6000jllz stations, test/fixtures/shakemap/), per distance bin, for the model quakectl chooses and for the
 * alternatives; adds the Bucharest 1977 prediction and the deep-event behaviour, and measures predictMmi's speed.
 *
 *   node bench/ipe-validation.ts            print the report
 *   node bench/ipe-validation.ts --write    also write docs/seismology.md
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  distanceToPolylineKm,
  haversineKm,
  INTENSITY_MODELS,
  type IntensityModelName,
  intensityModelFor,
  isBackArc,
  type Rupture,
  ruptureFromGeoJson,
} from '../shared/seismo/index.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const FIXTURES = join(ROOT, 'test/fixtures/shakemap');

export const KAHRAMANMARAS = { magnitude: 7.8, lat: 37.2199, lon: 37.0189, depthKm: 10 };
export const VRANCEA_1977 = { magnitude: 7.4, lat: 45.77, lon: 26.76, depthKm: 94 };
export const BUCHAREST = { lat: 44.43, lon: 26.1 };

export interface Station {
  id: string;
  lat: number;
  lon: number;
  type: 'seismic' | 'macroseismic';
  mmi: number;
}

export function loadStations(file = join(FIXTURES, 'us6000jllz-stations.csv')): Station[] {
  const lines = readFileSync(file, 'utf8').trim().split(/\r?\n/);
  const header = splitCsv(lines[0]);
  const col = (n: string) => header.indexOf(n);
  const [iId, iLon, iLat, iType, iMmi] = ['STATION_ID', 'LONGITUDE', 'LATITUDE', 'STATION_TYPE', 'MMI_VALUE'].map(col);
  return lines.slice(1).flatMap((l) => {
    const f = splitCsv(l);
    const mmi = Number(f[iMmi]);
    if (f[iMmi] === '' || !Number.isFinite(mmi)) return [];
    return [{ id: f[iId], lat: Number(f[iLat]), lon: Number(f[iLon]), type: f[iType] as Station['type'], mmi }];
  });
}

export function loadRupture(file = join(FIXTURES, 'us6000jllz-rupture.json')): Rupture {
  const r = ruptureFromGeoJson(JSON.parse(readFileSync(file, 'utf8')));
  if (!r) throw new Error(`${file}: no rupture polygon`);
  return r;
}

function splitCsv(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (const ch of line) {
    if (ch === '"') q = !q;
    else if (ch === ',' && !q) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

export const BINS: Array<[number, number]> = [
  [0, 20],
  [20, 50],
  [50, 100],
  [100, 200],
  [200, 400],
  [400, 1000],
];

export interface BinStats {
  bin: string;
  n: number;
  bias: number;
  mae: number;
}

export interface ModelStats {
  model: IntensityModelName;
  overall: BinStats;
  bins: BinStats[];
}

/** Residual = predicted − observed. Bins by distance to the rupture trace (Joyner–Boore-like), the distance that matters. */
export function residualStats(
  stations: Station[],
  rupture: Rupture,
  model: IntensityModelName,
  type: Station['type'],
): ModelStats {
  const m = intensityModelFor(KAHRAMANMARAS, { model, rupture });
  const rows = stations
    .filter((s) => s.type === type)
    .map((s) => ({
      d: Math.min(...rupture.traces.map((t) => distanceToPolylineKm(s.lat, s.lon, t))),
      r: m.predict(s.lat, s.lon) - s.mmi,
    }));
  const stats = (label: string, rs: number[]): BinStats => ({
    bin: label,
    n: rs.length,
    bias: rs.length ? rs.reduce((a, b) => a + b, 0) / rs.length : Number.NaN,
    mae: rs.length ? rs.reduce((a, b) => a + Math.abs(b), 0) / rs.length : Number.NaN,
  });
  return {
    model,
    overall: stats(
      'all',
      rows.map((x) => x.r),
    ),
    bins: BINS.map(([lo, hi]) =>
      stats(
        `${lo}–${hi} km`,
        rows.filter((x) => x.d >= lo && x.d < hi).map((x) => x.r),
      ),
    ),
  };
}

const f2 = (x: number) => (Number.isNaN(x) ? '—' : (x >= 0 ? '+' : '') + x.toFixed(2));
const f2u = (x: number) => (Number.isNaN(x) ? '—' : x.toFixed(2));

function binTable(s: ModelStats): string {
  const rows = [...s.bins, s.overall].map((b) => `| ${b.bin} | ${b.n} | ${f2(b.bias)} | ${f2u(b.mae)} |`);
  return ['| distance to rupture | n | bias (pred − obs) | mean abs. residual |', '|---|---:|---:|---:|', ...rows].join(
    '\n',
  );
}

function timePredictions(n: number): { perSecond: number; ms: number } {
  const model = intensityModelFor({ magnitude: 6.5, lat: 44.8, lon: 26.5, depthKm: 120 });
  let acc = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) acc += model.predict(43 + (i % 1000) * 0.005, 22 + Math.floor(i / 1000) * 0.008);
  const ms = performance.now() - t0;
  if (acc < 0) console.log(acc); // keep the loop alive
  return { perSecond: Math.round(n / (ms / 1000)), ms };
}

export function report(): { markdown: string; chosen: { seismic: ModelStats; dyfi: ModelStats } } {
  const stations = loadStations();
  const rupture = loadRupture();
  const chosenName = intensityModelFor(KAHRAMANMARAS, { rupture }).name;
  const chosen = {
    seismic: residualStats(stations, rupture, chosenName, 'seismic'),
    dyfi: residualStats(stations, rupture, chosenName, 'macroseismic'),
  };
  const point = residualStats(stations, rupture, 'aww12-hypocentral', 'seismic');
  const compare = INTENSITY_MODELS.filter((m) => m !== 'vacareanu15-vrancea').map((m) => ({
    m,
    s: residualStats(stations, rupture, m, 'seismic').overall,
    d: residualStats(stations, rupture, m, 'macroseismic').overall,
  }));

  const bucharest = INTENSITY_MODELS.map((m) => ({
    m,
    mmi: intensityModelFor(VRANCEA_1977, { model: m }).predict(BUCHAREST.lat, BUCHAREST.lon),
  }));
  const vr = intensityModelFor(VRANCEA_1977);
  const epiB = haversineKm(VRANCEA_1977.lat, VRANCEA_1977.lon, BUCHAREST.lat, BUCHAREST.lon);
  const places = [
    { name: 'Bucharest', lat: 44.43, lon: 26.1 },
    { name: 'Focșani', lat: 45.7, lon: 27.18 },
    { name: 'Iași', lat: 47.16, lon: 27.59 },
    { name: 'Chișinău', lat: 47.01, lon: 28.86 },
    { name: 'Brașov', lat: 45.66, lon: 25.61 },
    { name: 'Cluj-Napoca', lat: 46.77, lon: 23.6 },
    { name: 'Sofia', lat: 42.7, lon: 23.32 },
  ];
  const deepRows = places.map((p) => {
    const d = haversineKm(VRANCEA_1977.lat, VRANCEA_1977.lon, p.lat, p.lon);
    const side = isBackArc(VRANCEA_1977.lat, VRANCEA_1977.lon, p.lat, p.lon) ? 'back-arc' : 'fore-arc';
    const cells = (['vacareanu15-vrancea', 'aww12-hypocentral', 'aw07-california', 'aw07-ceus'] as const).map((m) =>
      intensityModelFor(VRANCEA_1977, { model: m }).predict(p.lat, p.lon).toFixed(1),
    );
    return `| ${p.name} | ${d.toFixed(0)} | ${side} | ${cells.join(' | ')} |`;
  });
  const speed = timePredictions(1_000_000);

  const markdown = `# Seismology: predicted intensity, validation

Generated by \`node bench/ipe-validation.ts --write\` (data: \`test/fixtures/shakemap/\`, see its README). Numbers
below are from that run; rerun after changing \`shared/seismo/\`.

## Chosen equations, and why

| case | equation | why |
|---|---|---|
| general (shallow crustal, and deep events outside Vrancea) | Allen, Wald & Worden 2012, hypocentral form (J. Seismol. 16:409–433): MMI = 2.085 + 1.428·M − 1.402·ln√(R_hyp² + R_M²) + 0.078·ln(R_hyp/50) [R_hyp > 50], R_M = −0.209 + 2.042·e^(M−5) | global active-crust data set (not California only); depth enters through R_hyp; of the generic forms it does best on deep events (reference-notes) and is unbiased on Kahramanmaraş even without a rupture (below) |
| M ≥ 7.5 with a known rupture extent | Allen, Wald & Worden 2012, rupture form: MMI = 3.95 + 0.913·M − 1.107·ln√(R_rup² + (1 + 0.813·e^(M−5))²) | a 350 km rupture puts sites near its ends far from the epicentre but close to the fault; point-source distance misses that |
| Vrancea intermediate depth (45.2–46.2N, 25.9–27.3E, 60–220 km) | Vacareanu et al. 2015 (J. Earthq. Eng. 19:535–562) PGA: ln PGA = 9.6231 + 1.4232(M−6) − 0.1555(M−6)² − 1.1316·ln R_hyp + (−0.0114 back-arc / −0.0024 fore-arc)·R_hyp − 0.0007·h + 0.0488; converted with Worden et al. 2012 (BSSA 102:204): MMI = 1.78 + 1.55·log PGA (log PGA ≤ 1.57), else −1.60 + 3.70·log PGA | the only model among the candidates that knows which side of the Carpathians a site is on; side = whether the straight path from the source crosses a digitised Carpathian crest line (\`shared/seismo/vrancea.ts\`) |

Atkinson & Wald 2007 (California and CEUS coefficient sets) are implemented for comparison (\`--model\`).

## Kahramanmaraş 2023 (M7.8): residuals by distance

Chosen model with the USGS rupture: **${chosenName}**. Residual = predicted − observed MMI; distance bins by distance to
the rupture trace.

### Instrument stations (${chosen.seismic.overall.n})

${binTable(chosen.seismic)}

Goal: |bias| ≤ 0.5 and mean absolute residual < 1.0 — ${
    Math.abs(chosen.seismic.overall.bias) <= 0.5 && chosen.seismic.overall.mae < 1 ? '**met**' : '**not met**'
  } (bias ${f2(chosen.seismic.overall.bias)}, MAE ${f2u(chosen.seismic.overall.mae)}).

### "Did You Feel It?" intensities (${chosen.dyfi.overall.n})

${binTable(chosen.dyfi)}

### Same stations, point source only (aww12-hypocentral: what quakectl predicts before a rupture is known)

${binTable(point)}

### All generic models, overall

| model | instruments bias | instruments MAE | DYFI bias | DYFI MAE |
|---|---:|---:|---:|---:|
${compare.map((c) => `| ${c.m} | ${f2(c.s.bias)} | ${f2u(c.s.mae)} | ${f2(c.d.bias)} | ${f2u(c.d.mae)} |`).join('\n')}

## Bucharest, 1977 Vrancea earthquake (M7.4, 45.77N 26.76E, 94 km)

Bucharest (44.43N 26.10E) is ${epiB.toFixed(0)} km from the epicentre, ${Math.hypot(epiB, 94).toFixed(0)} km from the
hypocentre, on the fore-arc side. Observed: VIII–IX (MSK).

| model | predicted MMI |
|---|---:|
${bucharest.map((b) => `| ${b.m}${b.m === vr.name ? ' (chosen)' : ''} | ${b.mmi.toFixed(1)} |`).join('\n')}

Every equation under-predicts Bucharest 1977. The chosen Vrancea model gives about VI–VII, 1.5–2 units below the
observed VIII–IX; its own scatter (σ 0.698 in ln PGA) is about ±1 MMI unit, so the observation lies near +2σ. Two
reasons are known: Bucharest's damage was concentrated in tall pre-1940 buildings resonating with the long-period
(1.5–2 s) motion of the deep source on the thick Wallachian sediments, which PGA does not capture, and MSK
intensities assigned from damage to vulnerable buildings run higher than instrumental MMI. The alert level is right
(take-action); the intensity number is a lower estimate for Bucharest-type sites.

## What the equations do for deep events

M7.4 at 94 km under Vrancea, predicted MMI:

| place | epicentral km | side | vacareanu15 (chosen) | aww12-hypocentral | aw07-california | aw07-ceus |
|---|---:|---|---:|---:|---:|---:|
${deepRows.join('\n')}

- Over hypocentral distance the generic equations lose 1–2 units near the epicentre of a deep event (R_hyp ≥ depth
  even at the epicentre), which is physical, but they also attenuate as crustal paths do, so at 100–300 km they fall
  1–2 units below what Vrancea events produce on the fore-arc side (reference-notes; the 1977, 1986 and 1990 maps).
- The California set of Atkinson & Wald 2007 is the lowest; the CEUS set attenuates least and is the highest at
  distance; Allen et al. 2012 hypocentral is between.
- None of the generic equations is directional. Vacareanu et al. 2015 keeps the fore-arc (Bucharest, Moldova) high
  and drops the back-arc (Transylvania) by 2–3 units at 250 km, as the observed intensity maps do.
- For the footprint (fan-out planning) of a Vrancea event the fore-arc curve is used in every direction, so the
  footprint contains every site the directional prediction reaches.

## Speed

\`intensityModelFor(quake)\` precomputes per event; 1,000,000 \`predict\` calls (Vrancea model, with the arc-side test)
took ${speed.ms.toFixed(0)} ms on this machine (${(speed.perSecond / 1e6).toFixed(1)} M/s).
`;
  return { markdown, chosen };
}

if (import.meta.main) {
  const { markdown, chosen } = report();
  process.stdout.write(markdown);
  if (process.argv.includes('--write')) {
    writeFileSync(join(ROOT, 'docs/seismology.md'), markdown);
    process.stderr.write('wrote docs/seismology.md\n');
  }
  const ok = Math.abs(chosen.seismic.overall.bias) <= 0.5 && chosen.seismic.overall.mae < 1;
  process.exitCode = ok ? 0 : 1;
}
