/**
 * `quakectl predict`: predicted intensity, alert level and travel times at given sites for a hypothetical or real
 * event. Flag parsing and printing live here; the seismology (shared/seismo) is imported inside the action so that
 * `quakectl --help` stays fast.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { QuakectlError, UsageError, ValidationError } from '../../shared/infra/errors.ts';
import type { AlertLevel } from '../../shared/seismo/alert.ts';
import type { IntensityModelName } from '../../shared/seismo/intensity.ts';
import { outputFormat, withOutput } from '../context.ts';
import { color, output, renderTable } from '../output.ts';

export interface PredictSite {
  name: string;
  lat: number;
  lon: number;
}

export interface PredictOptions {
  magnitude: number;
  lat: number;
  lon: number;
  depthKm: number;
  sites: PredictSite[];
  model?: IntensityModelName;
}

/** One row of `-o json`: the shape. */
export interface SitePrediction {
  name: string;
  lat: number;
  lon: number;
  distanceKm: number;
  hypocentralKm: number;
  mmi: number;
  level: AlertLevel;
  pArrivalS: number;
  sArrivalS: number;
}

export interface PredictReport {
  model: IntensityModelName;
  sites: SitePrediction[];
  /** Epicentral radius (km) within which predicted MMI reaches 3 and 5. */
  footprintKm: { mmi3: number; mmi5: number };
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));

export async function predict(opts: PredictOptions): Promise<PredictReport> {
  const s = await import('../../shared/seismo/index.ts');
  const quake = { magnitude: opts.magnitude, lat: opts.lat, lon: opts.lon, depthKm: opts.depthKm };
  const model = s.intensityModelFor(quake, { model: opts.model });
  const sites = opts.sites.map((site) => {
    const hypo = s.hypocentralKm(quake, site);
    const mmi = model.predict(site.lat, site.lon);
    return {
      name: site.name,
      lat: site.lat,
      lon: site.lon,
      distanceKm: round(s.epicentralKm(quake, site), 1),
      hypocentralKm: round(hypo, 1),
      mmi: round(mmi, 2),
      level: s.alertLevel(mmi),
      pArrivalS: round(s.pTravelTimeS(quake, site), 1),
      sArrivalS: round(s.sTravelTimeS(quake, site), 1),
    };
  });
  return {
    model: model.name,
    sites,
    footprintKm: { mmi3: model.footprintRadiusKm(3), mmi5: model.footprintRadiusKm(5) },
  };
}

// ---- flag parsing ----------------------------------------------------------------------------------------------

function number(flag: string, value: string | undefined, min: number, max: number): number {
  if (value === undefined || value.trim() === '') throw new UsageError(`${flag} is required`);
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`invalid ${flag} "${value}": expected a number from ${min} to ${max}`);
  }
  return n;
}

function lonOf(flag: string, value: string | undefined): number {
  const n = number(flag, value, -180, 360);
  return n > 180 ? n - 360 : n;
}

/** `LAT,LON[,NAME]`; the name may itself contain commas. */
export function parseSiteFlag(value: string, index: number): PredictSite {
  const [lat, lon, ...rest] = value.split(',');
  if (lon === undefined) throw new UsageError(`invalid --site "${value}": expected LAT,LON[,NAME]`);
  return {
    lat: number('--site latitude', lat, -90, 90),
    lon: lonOf('--site longitude', lon),
    name: rest.join(',').trim() || `site ${index + 1}`,
  };
}

/** A CSV with a header naming `name`, `lat` and `lon` (any order, other columns ignored; double quotes allowed). */
export function parseSitesCsv(text: string, file: string): PredictSite[] {
  const lines = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new ValidationError(`${file}: empty, expected a header with name,lat,lon`);
  const header = splitCsvLine(lines[0]).map((h) => h.trim().toLowerCase());
  const col = (name: string, alt: string[]) => {
    const i = header.findIndex((h) => h === name || alt.includes(h));
    if (i < 0) throw new ValidationError(`${file}: header has no "${name}" column (found: ${header.join(',')})`);
    return i;
  };
  const [iName, iLat, iLon] = [col('name', []), col('lat', ['latitude']), col('lon', ['longitude', 'lng'])];
  return lines.slice(1).map((line, i) => {
    const f = splitCsvLine(line);
    const where = `${file} line ${i + 2}`;
    const lat = Number(f[iLat]);
    const lonRaw = Number(f[iLon]);
    if (f[iLat] === undefined || !Number.isFinite(lat) || lat < -90 || lat > 90) {
      throw new ValidationError(`${where}: lat "${f[iLat] ?? ''}" is not a latitude (-90..90)`);
    }
    if (f[iLon] === undefined || !Number.isFinite(lonRaw) || lonRaw < -180 || lonRaw > 360) {
      throw new ValidationError(`${where}: lon "${f[iLon] ?? ''}" is not a longitude (-180..180)`);
    }
    return { name: (f[iName] ?? '').trim() || `site ${i + 1}`, lat, lon: lonRaw > 180 ? lonRaw - 360 : lonRaw };
  });
}

function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

interface PredictFlags {
  mag?: string;
  lat?: string;
  lon?: string;
  depth?: string;
  site: string[];
  sites?: string;
  model?: string;
  output?: string;
}

const MODELS: IntensityModelName[] = [
  'aww12-hypocentral',
  'aww12-rupture',
  'aw07-california',
  'aw07-ceus',
  'vacareanu15-vrancea',
];

/** Turns flags into options; reads --sites. Usage problems are UsageError (exit 2), file problems exit 1. */
export async function predictOptionsFromFlags(flags: PredictFlags): Promise<PredictOptions> {
  const magnitude = number('--mag', flags.mag, -2, 10);
  const lat = number('--lat', flags.lat, -90, 90);
  const lon = lonOf('--lon', flags.lon);
  const depthKm = number('--depth', flags.depth, -10, 800);
  if (flags.model !== undefined && !MODELS.includes(flags.model as IntensityModelName)) {
    throw new UsageError(`invalid --model "${flags.model}": expected one of ${MODELS.join(', ')}`);
  }
  const sites = flags.site.map(parseSiteFlag);
  if (flags.sites !== undefined) {
    let text: string;
    try {
      text = await readFile(flags.sites, 'utf8');
    } catch (err) {
      throw new QuakectlError(`cannot read --sites ${flags.sites}`, { cause: err });
    }
    sites.push(...parseSitesCsv(text, flags.sites));
  }
  if (sites.length === 0) throw new UsageError('no sites: give --site LAT,LON[,NAME] (repeatable) or --sites FILE.csv');
  return { magnitude, lat, lon, depthKm, sites, model: flags.model as IntensityModelName | undefined };
}

// ---- printing --------------------------------------------------------------------------------------------------

const ROMAN = ['', 'I', 'II', 'III', 'IV', 'V', 'VI', 'VII', 'VIII', 'IX', 'X'];

export function renderPrediction(report: PredictReport): string {
  const c = color();
  const levelText = (l: AlertLevel) => (l === 'take-action' ? c.red(l) : l === 'be-aware' ? c.yellow(l) : c.dim(l));
  const table = renderTable(report.sites, [
    { header: 'site', value: (r) => r.name },
    { header: 'lat', value: (r) => r.lat.toFixed(3), align: 'right' },
    { header: 'lon', value: (r) => r.lon.toFixed(3), align: 'right' },
    { header: 'epi km', value: (r) => r.distanceKm.toFixed(1), align: 'right' },
    { header: 'hypo km', value: (r) => r.hypocentralKm.toFixed(1), align: 'right' },
    { header: 'MMI', value: (r) => `${r.mmi.toFixed(1)} (${ROMAN[Math.round(r.mmi)]})`, align: 'right' },
    { header: 'level', value: (r) => levelText(r.level) },
    { header: 'P s', value: (r) => r.pArrivalS.toFixed(1), align: 'right' },
    { header: 'S s', value: (r) => r.sArrivalS.toFixed(1), align: 'right' },
  ]);
  const fp = report.footprintKm;
  return [
    table,
    `model: ${report.model}`,
    `footprint: MMI ≥ 3 within ${fp.mmi3.toFixed(0)} km, MMI ≥ 5 within ${fp.mmi5.toFixed(0)} km of the epicentre`,
  ].join('\n');
}

export function register(program: Command): void {
  withOutput(
    program
      .command('predict')
      .description('predicted intensity (MMI), alert level and P/S arrival times at sites for an earthquake')
      .option('--mag <M>', 'magnitude (-2..10)')
      .option('--lat <deg>', 'epicentre latitude')
      .option('--lon <deg>', 'epicentre longitude')
      .option('--depth <km>', 'focal depth in km (-10..800)')
      .option('--site <LAT,LON[,NAME]>', 'a site (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
      .option('--sites <file.csv>', 'sites from a CSV with a header naming name,lat,lon')
      .option('--model <name>', `force an intensity model: ${MODELS.join(', ')}`),
  ).action(async (flags: PredictFlags, cmd: Command) => {
    const format = outputFormat(cmd);
    const report = await predict(await predictOptionsFromFlags(flags));
    if (format === 'json') output(format, report.sites, () => '');
    else output(format, report, renderPrediction);
  });
}
