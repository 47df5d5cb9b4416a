/**
 * The report as one self-contained HTML file: styles, the drawing code (Observable Plot and d3-geo, bundled by
 * esbuild from this package's own dependencies) and the data with its base map, all inline: opening it needs no
 * network. The console page (`console-server.ts`) uses the same script and styles.
 */
import { build } from 'esbuild';
import { QuakectlError } from '../infra/errors.ts';
import { blindZoneRadiusKm } from '../seismo/travel.ts';
import { baseMap, circlePolygon } from './geo.ts';
import type { ReportData } from './types.ts';

export class ReportRenderError extends QuakectlError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ReportRenderError';
  }
}

let clientBundle: Promise<string> | undefined;

/** The browser script (client.ts and the libraries it imports) as one minified IIFE, built once per process. */
export function clientScript(): Promise<string> {
  clientBundle ??= build({
    entryPoints: [new URL('./client.ts', import.meta.url).pathname],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'iife',
    target: 'es2020',
    minify: true,
    legalComments: 'inline',
    logLevel: 'silent',
  })
    .then((r) => r.outputFiles[0].text)
    .catch((err: Error) => {
      clientBundle = undefined;
      throw new ReportRenderError(`cannot bundle the report's script: ${err.message}`, { cause: err });
    });
  return clientBundle;
}

/** What the page draws: the report data plus the geometry made on this side (base map, circles). */
export function reportPayload(data: ReportData, opts: { sFrontAt?: number } = {}) {
  const q = data.quake;
  const viewKm = mapRadiusKm(data);
  // The S-wave front at `sFrontAt` (the live console's now): where the S wave has arrived by then is exactly the
  // blind-zone radius for a delay of that many seconds (shared/seismo travel.ts). Drawn while it is on the map.
  const sFrontKm =
    opts.sFrontAt === undefined ? 0 : blindZoneRadiusKm(q.depthKm, (opts.sFrontAt - q.originTime) / 1000);
  return {
    data,
    viewKm,
    baseMap: baseMap(q, viewKm * 1.15),
    footprint: data.radiusKm ? circlePolygon(q.lat, q.lon, data.radiusKm) : null,
    blindZone: data.blindZoneKm ? circlePolygon(q.lat, q.lon, data.blindZoneKm) : null,
    sFront: sFrontKm > 0 && sFrontKm < viewKm * 1.2 ? circlePolygon(q.lat, q.lon, sFrontKm) : null,
    sFrontKm: sFrontKm > 0 ? Math.round(sFrontKm) : null,
  };
}

/**
 * Epicentral radius the map shows: the footprint, or the subscribers' (or the plan cells') extent + 15 % when they
 * cover less of it (the outer bands then run off the edge), never less than the blind zone or 20 km.
 */
export function mapRadiusKm(data: ReportData): number {
  const depth = Math.max(0, data.quake.depthKm);
  const footprint = data.radiusKm ?? 100;
  let farthest = 0;
  for (const p of data.points) farthest = Math.max(farthest, Math.sqrt(Math.max(0, p.hypocentralKm ** 2 - depth ** 2)));
  // Without points (live console), the plan's cells give the extent: a unit's maxKm is its farthest cell's near edge.
  if (!data.points.length) for (const u of data.units) farthest = Math.max(farthest, u.maxKm + 10);
  const view = farthest > 0 ? Math.min(footprint, farthest * 1.15) : footprint;
  return Math.max(view, data.blindZoneKm ?? 0, 20);
}

/** JSON safe inside a <script> element: `<` escaped so no `</script>` or `<!--` can end it. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export const STYLES = `
:root { font: 14px/1.4 system-ui, sans-serif; color: #1d1d1d; background: #fff; }
body { margin: 0 auto; padding: 16px 24px; max-width: 1400px; }
h1 { font-size: 1.5em; margin: 0; } h2 { font-size: 1.2em; } .sub { color: #666; margin: 2px 0 12px; }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0 0 12px; }
dl.summary dt { color: #666; } dl.summary dd { margin: 0; }
.figures { display: flex; flex-wrap: wrap; gap: 24px; } figure { margin: 0; max-width: 660px; }
figcaption { color: #555; font-size: 0.9em; margin-top: 4px; }
.legend { display: flex; flex-wrap: wrap; gap: 12px; font-size: 0.9em; margin-top: 4px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 50%; border: 1.5px solid; margin-right: 4px; }
table { border-collapse: collapse; margin: 16px 0; font-size: 0.9em; }
caption { text-align: left; font-weight: 600; margin-bottom: 4px; }
th, td { padding: 2px 8px; border-bottom: 1px solid #e5e5e5; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.note { color: #7a5a00; } .error { color: #b00020; }
.console-grid { display: flex; flex-wrap: wrap; gap: 24px; } .status { min-width: 420px; }
.status ul { list-style: none; padding: 0; margin: 0 0 8px; font-family: ui-monospace, monospace; font-size: 0.85em; }
.lvl-warn { color: #9a6700; } .lvl-bad { color: #b00020; font-weight: 600; } .status h3 { margin: 8px 0 2px; }
`;

export function page(title: string, body: string, script: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLES}</style>
</head>
<body>
<main id="app"><noscript>This report draws its map and plot with JavaScript.</noscript></main>
${body}
<script>${script.replace(/<\/script/gi, '<\\/script')}</script>
</body>
</html>
`;
}

/** The self-contained HTML of one report. */
export async function renderReportHtml(data: ReportData): Promise<string> {
  const title = `${data.drill ? 'DRILL ' : ''}M${data.quake.magnitude} ${data.quake.place} — quakectl report ${data.eventId}`;
  const json = `<script type="application/json" id="quakectl-report">${scriptJson(reportPayload(data))}</script>`;
  return page(title, json, await clientScript());
}
