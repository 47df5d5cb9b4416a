/**
 * `quakectl predict`: predicted intensity, alert level and travel times at given sites for a hypothetical or real
 * event. Flag parsing and printing live here; the seismology (shared/seismo) is imported inside the action so that
 * `quakectl --help` stays fast.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parse } from 'csv-parse/sync';
import { QuakectlError, UsageError, ValidationError } from '../../shared/infra/errors.ts';
import type { AlertLevel } from '../../shared/seismo/alert.ts';
import { INTENSITY_MODELS, type IntensityModelName, type SourceGeometry } from '../../shared/seismo/intensity.ts';
import type { Rupture } from '../../shared/seismo/rupture.ts';
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
  /** A finite rupture (USGS finite-fault / ShakeMap rupture GeoJSON, read by `--rupture`). */
  rupture?: Rupture;
  /** Alert probability of the policy (default: `fanout.alertProbability`'s default). */
  alertProbability?: number;
}

/** One row of `-o json`: the shape. */
export interface SitePrediction {
  name: string;
  lat: number;
  lon: number;
  distanceKm: number;
  hypocentralKm: number;
  mmi: number;
  /** σ of the prediction (MMI units). */
  sigma: number;
  /** Probability that MMI reaches V (the take-action threshold). */
  probabilityTakeAction: number;
  /** Level under the alert policy (probability of reaching the threshold ≥ the policy's level). */
  level: AlertLevel;
  /** First P and S arrivals, seconds after origin (ak135). */
  pArrivalS: number;
  sArrivalS: number;
}

/** `-o json`: the model and source used, the policy, the footprint, then one row per site in input order. */
export interface PredictReport {
  model: IntensityModelName;
  source: SourceGeometry;
  alertProbability: number;
  /** Epicentral radius (km) within which P(MMI ≥ 3) and P(MMI ≥ 5) reach the alert probability. */
  footprintKm: { mmi3: number; mmi5: number };
  sites: SitePrediction[];
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));

export async function predict(opts: PredictOptions): Promise<PredictReport> {
  const s = await import('../../shared/seismo/index.ts');
  const quake = { magnitude: opts.magnitude, lat: opts.lat, lon: opts.lon, depthKm: opts.depthKm };
  const model = s.intensityModelFor(quake, { model: opts.model, rupture: opts.rupture });
  const probability = opts.alertProbability ?? s.DEFAULT_ALERT_PROBABILITY;
  const policy = { probability, thresholds: s.DEFAULT_ALERT_THRESHOLDS };
  const sites = opts.sites.map((site) => {
    const mmi = model.predict(site.lat, site.lon);
    return {
      name: site.name,
      lat: site.lat,
      lon: site.lon,
      distanceKm: round(s.epicentralKm(quake, site), 1),
      hypocentralKm: round(s.hypocentralKm(quake, site), 1),
      mmi: round(mmi, 2),
      sigma: round(model.sigma(site.lat, site.lon), 2),
      probabilityTakeAction: round(model.probabilityAtLeast(site.lat, site.lon, policy.thresholds.takeAction), 3),
      level: model.level(site.lat, site.lon, policy),
      pArrivalS: round(s.pTravelTimeS(quake, site), 1),
      sArrivalS: round(s.sTravelTimeS(quake, site), 1),
    };
  });
  return {
    model: model.name,
    source: model.source,
    alertProbability: probability,
    footprintKm: {
      mmi3: model.footprintRadiusKm(3, probability),
      mmi5: model.footprintRadiusKm(5, probability),
    },
    sites,
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

/**
 * A CSV with a header naming `name`, `lat` and `lon` (any order, other columns ignored; RFC 4180 quoting), parsed with
 * csv-parse. An empty or non-numeric coordinate is an error naming the line, never 0.
 */
export function parseSitesCsv(text: string, file: string): PredictSite[] {
  let records: string[][];
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, relax_column_count: true, trim: true });
  } catch (err) {
    throw new ValidationError(`${file}: not a CSV file: ${(err as Error).message}`);
  }
  if (records.length === 0) throw new ValidationError(`${file}: empty, expected a header with name,lat,lon`);
  const header = records[0].map((h) => h.toLowerCase());
  const col = (name: string, alt: string[]) => {
    const i = header.findIndex((h) => h === name || alt.includes(h));
    if (i < 0) throw new ValidationError(`${file}: header has no "${name}" column (found: ${header.join(',')})`);
    return i;
  };
  const [iName, iLat, iLon] = [col('name', []), col('lat', ['latitude']), col('lon', ['longitude', 'lng'])];
  return records.slice(1).map((f, i) => {
    const where = `${file} line ${i + 2}`;
    const latText = f[iLat] ?? '';
    const lonText = f[iLon] ?? '';
    const lat = latText === '' ? Number.NaN : Number(latText);
    const lonRaw = lonText === '' ? Number.NaN : Number(lonText);
    if (!Number.isFinite(lat) || lat < -90 || lat > 90) {
      throw new ValidationError(`${where}: lat "${latText}" is not a latitude (-90..90)`);
    }
    if (!Number.isFinite(lonRaw) || lonRaw < -180 || lonRaw > 360) {
      throw new ValidationError(`${where}: lon "${lonText}" is not a longitude (-180..180)`);
    }
    return { name: (f[iName] ?? '').trim() || `site ${i + 1}`, lat, lon: lonRaw > 180 ? lonRaw - 360 : lonRaw };
  });
}

interface PredictFlags {
  mag?: string;
  lat?: string;
  lon?: string;
  depth?: string;
  site: string[];
  sites?: string;
  model?: string;
  rupture?: string;
  alertProbability?: string;
  output?: string;
}

const MODELS: readonly IntensityModelName[] = INTENSITY_MODELS;

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
  const alertProbability =
    flags.alertProbability === undefined
      ? undefined
      : number('--alert-probability', flags.alertProbability, 0.001, 0.999);
  let rupture: Rupture | undefined;
  if (flags.rupture !== undefined) {
    let doc: unknown;
    try {
      doc = JSON.parse(await readFile(flags.rupture, 'utf8'));
    } catch (err) {
      throw new QuakectlError(`cannot read --rupture ${flags.rupture}`, { cause: err });
    }
    const { ruptureFromGeoJson } = await import('../../shared/seismo/rupture.ts');
    rupture = ruptureFromGeoJson(doc);
    if (!rupture) {
      throw new ValidationError(
        `${flags.rupture}: no rupture polygon (expected a GeoJSON FeatureCollection of Polygon/MultiPolygon, as USGS rupture.json)`,
      );
    }
  }
  return {
    magnitude,
    lat,
    lon,
    depthKm,
    sites,
    model: flags.model as IntensityModelName | undefined,
    rupture,
    alertProbability,
  };
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
    { header: 'σ', value: (r) => r.sigma.toFixed(2), align: 'right' },
    { header: 'P(≥V)', value: (r) => `${Math.round(r.probabilityTakeAction * 100)}%`, align: 'right' },
    { header: 'level', value: (r) => levelText(r.level) },
    { header: 'P s', value: (r) => r.pArrivalS.toFixed(1), align: 'right' },
    { header: 'S s', value: (r) => r.sArrivalS.toFixed(1), align: 'right' },
  ]);
  const fp = report.footprintKm;
  const src = report.source;
  const source =
    src.kind === 'point'
      ? 'point source'
      : src.kind === 'rupture'
        ? `finite rupture (${src.traces} segment${src.traces === 1 ? '' : 's'}, top ${src.topKm} km)`
        : `line source ${src.lengthKm} km, strike unknown (${src.scaling})`;
  const pct = Math.round(report.alertProbability * 100);
  return [
    table,
    `model: ${report.model}, ${source}`,
    `alert policy: a level is given when P(MMI ≥ its threshold) ≥ ${pct}%`,
    `footprint: P(MMI ≥ 3) ≥ ${pct}% within ${fp.mmi3.toFixed(0)} km, P(MMI ≥ 5) ≥ ${pct}% within ${fp.mmi5.toFixed(0)} km of the epicentre`,
  ].join('\n');
}

export function register(program: Command): void {
  withOutput(
    program
      .command('predict')
      .description(
        'predicted intensity (MMI) with its σ, probability of reaching V, alert level and ak135 P/S arrival times at sites',
      )
      .option('--mag <M>', 'magnitude (-2..10)')
      .option('--lat <deg>', 'epicentre latitude')
      .option('--lon <deg>', 'epicentre longitude')
      .option('--depth <km>', 'focal depth in km (-10..800)')
      .option('--site <LAT,LON[,NAME]>', 'a site (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
      .option('--sites <file.csv>', 'sites from a CSV with a header naming name,lat,lon')
      .option('--model <name>', `force an intensity model: ${MODELS.join(', ')}`)
      .option('--rupture <file.json>', 'finite rupture: USGS finite-fault / ShakeMap rupture GeoJSON')
      .option(
        '--alert-probability <p>',
        'alert policy: give a level when P(MMI ≥ threshold) ≥ p (default 0.3, as fanout.alertProbability)',
      ),
  ).action(async (flags: PredictFlags, cmd: Command) => {
    const format = outputFormat(cmd);
    const report = await predict(await predictOptionsFromFlags(flags));
    output(format, report, renderPrediction);
  });
}
