/**
 * The system's Chromium (Debian package `chromium`, installed by .ci/run) driven by playwright-core. No browser is
 * downloaded: `QUAKECTL_CHROMIUM` or /usr/bin/chromium must exist, else launching throws (a browser test fails, it
 * never skips).
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

export const SYSTEM_CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** The browser to drive: `QUAKECTL_CHROMIUM`, else the system's; throws (never returns nothing) when none exists. */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env, system = SYSTEM_CHROMIUM): string {
  const candidates = [env.QUAKECTL_CHROMIUM, ...system].filter((p): p is string => Boolean(p));
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      `no Chromium at ${candidates.join(' or ')}: install it (apt-get install chromium, as .ci/run does) or set QUAKECTL_CHROMIUM`,
    );
  }
  return found;
}

export function launchChromium(): Promise<Browser> {
  // --no-sandbox: CI runs as root, where Chromium refuses its sandbox.
  return chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox', '--disable-gpu'] });
}

/** Collects console errors, page errors and failed requests: a report must render with none. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => errors.push(`requestfailed: ${r.url()}`));
  return errors;
}

/** What the report page shows, as counts of its marks (see shared/report/client.ts for the class names). */
export async function reportFacts(page: Page) {
  return page.evaluate(() => {
    const count = (sel: string) => document.querySelectorAll(sel).length;
    const classes = ['after-s', 'under-5s', 'under-15s', 'over-15s', 'missing'];
    return {
      rendered: Number(document.body.dataset.rendered ?? 0),
      points: Object.fromEntries(classes.map((c) => [c, count(`svg.quake-map g.sub-${c} circle`)])),
      bands: count('svg.quake-map g.band path'),
      basemap: count('svg.quake-map g.basemap path'),
      blindZone: count('svg.quake-map g.blind-zone path'),
      epicentre: count('svg.quake-map g.epicentre path'),
      xLabel: document.querySelector('svg.time-distance [aria-label="x-axis label"]')?.textContent ?? null,
      yLabel: document.querySelector('svg.time-distance [aria-label="y-axis label"]')?.textContent ?? null,
      xTicks: count('svg.time-distance [aria-label="x-axis tick"] path'),
      yTicks: count('svg.time-distance [aria-label="y-axis tick"] path'),
      curveP: count('svg.time-distance g.curve-p path'),
      curveS: count('svg.time-distance g.curve-s path'),
      detectionDelay: count('svg.time-distance g.detection-delay line'),
      deliveries: count('svg.time-distance g.deliveries circle'),
      density: count('svg.time-distance g.deliveries-density path'),
      unitRows: count('table.units tbody tr'),
      channelRows: count('table.channels tbody tr'),
    };
  });
}
