/**
 * Opens a report file in the system's Chromium and checks it the way the browser tests do: `node
 * test/browser/check-report.ts FILE`. CI runs it on the report of its own drill. Checks: rendered with no console
 * error, no request leaves the file, one map point per sampled subscriber in its warning-class colour group (counts
 * read from the data inlined in the file), the plot's axes, P and S curves and detection-delay rule, one table row per
 * work unit. Exit 0 when all hold, 1 otherwise (each failure printed).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ReportData, WarningClass } from '../../shared/report/types.ts';
import { launchChromium, reportFacts, watchErrors } from './chromium.ts';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node test/browser/check-report.ts REPORT.html\n');
  process.exit(2);
}
const path = resolve(file);
const html = readFileSync(path, 'utf8');
const json = /<script type="application\/json" id="quakectl-report">([\s\S]*?)<\/script>/.exec(html)?.[1];
if (!json) {
  process.stderr.write(`${file}: no report data inside\n`);
  process.exit(1);
}
const data = (JSON.parse(json) as { data: ReportData }).data;
const want: Record<string, number> = {};
for (const p of data.points) want[p.cls as WarningClass] = (want[p.cls] ?? 0) + 1;

const browser = await launchChromium();
const failures: string[] = [];
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors = watchErrors(page);
  await page.route(/^(?!file:|data:|about:)/, (route) => {
    failures.push(`request left the file: ${route.request().url()}`);
    return route.abort();
  });
  await page.goto(`file://${path}`);
  await page.waitForFunction(() => document.body.dataset.rendered === '1', null, { timeout: 30_000 });
  const f = await reportFacts(page);
  failures.push(...errors);
  for (const [cls, n] of Object.entries(f.points)) {
    if (n !== (want[cls] ?? 0)) failures.push(`map: ${n} points of class ${cls}, the data has ${want[cls] ?? 0}`);
  }
  if (!f.xLabel?.includes('hypocentral distance')) failures.push(`plot: x axis label ${f.xLabel}`);
  if (!f.yLabel?.includes('seconds after origin')) failures.push(`plot: y axis label ${f.yLabel}`);
  if (f.xTicks < 2 || f.yTicks < 2) failures.push(`plot: ${f.xTicks} x ticks, ${f.yTicks} y ticks`);
  if (f.curveP !== 1 || f.curveS !== 1) failures.push(`plot: P curve ${f.curveP}, S curve ${f.curveS}`);
  if (data.detectionDelayS !== null && f.detectionDelay !== 1) failures.push('plot: no detection-delay rule');
  if (f.unitRows !== Math.max(1, data.units.length))
    failures.push(`table: ${f.unitRows} unit rows, ${data.units.length} units`);
  if (f.basemap === 0) failures.push('map: no country outlines');
  const drawn = Object.values(f.points).reduce((a, b) => a + b, 0);
  process.stdout.write(
    `report ${data.eventId}: ${drawn} points drawn (${Object.entries(f.points)
      .map(([c, n]) => `${c} ${n}`)
      .join(', ')}) of ${data.pointsTotal} eligible, ${data.units.length} units, ` +
      `${(100 * (data.totals.beforeSShare ?? 0)).toFixed(1)} % before S\n`,
  );
} finally {
  await browser.close();
}
if (failures.length) {
  for (const m of failures) process.stderr.write(`report check: ${m}\n`);
  process.exit(1);
}
process.stdout.write('report check: passed\n');
