/**
 * The report and the console in a real headless Chromium (the system's, see chromium.ts): rendered without errors or
 * network, the map's points per warning class equal to the known drill's, the plot's axes and curves present, and the
 * console page redrawing as frames arrive over server-sent events.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local/stack/ports.ts';
import { buildReportData } from '../../shared/report/build.ts';
import type { ConsoleMessage } from '../../shared/report/client.ts';
import { startConsoleServer } from '../../shared/report/console-server.ts';
import { renderReportHtml, reportPayload } from '../../shared/report/html.ts';
import { knownDrill } from '../helpers/report-fixture.ts';
import { chromiumPath, launchChromium, reportFacts, watchErrors } from './chromium.ts';

let browser: Browser;

/** fetch() may not set Host (a forbidden header): node:http can. */
function statusWithHost(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}
let dir: string;

beforeAll(async () => {
  browser = await launchChromium();
  dir = await mkdtemp(join(tmpdir(), 'quakectl-report-'));
});
afterAll(async () => {
  await browser?.close();
});

async function openReport(file: string) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors = watchErrors(page);
  const external: string[] = [];
  await page.route(/^(?!file:|data:|about:)/, (route) => {
    external.push(route.request().url());
    return route.abort();
  });
  await page.goto(`file://${file}`);
  await page.waitForFunction(() => document.body.dataset.rendered === '1');
  return { page, errors, external };
}

describe('the browser', () => {
  it('is required: without one the tests fail instead of skipping', () => {
    expect(() => chromiumPath({ QUAKECTL_CHROMIUM: '/nonexistent/chromium' }, [])).toThrow(/no Chromium at/);
    expect(chromiumPath({}, [process.execPath])).toBe(process.execPath);
  });
});

describe('report in Chromium', () => {
  it('renders the known drill: no errors, no network, points per warning class as built, axes and curves', async () => {
    const k = knownDrill(600);
    const file = join(dir, 'known.html');
    await writeFile(file, await renderReportHtml(buildReportData(k.input)));
    const { page, errors, external } = await openReport(file);
    const f = await reportFacts(page);
    expect(errors).toEqual([]);
    expect(external).toEqual([]);
    expect(f.points).toEqual(k.expected);
    expect(f.bands).toBeGreaterThanOrEqual(3);
    expect(f.basemap).toBeGreaterThan(3);
    expect(f.epicentre).toBe(1);
    expect(f.xLabel).toMatch(/hypocentral distance \(km\)/);
    expect(f.yLabel).toMatch(/seconds after origin/);
    expect(f.xTicks).toBeGreaterThan(3);
    expect(f.yTicks).toBeGreaterThan(3);
    expect(f.curveP).toBe(1);
    expect(f.curveS).toBe(1);
    expect(f.detectionDelay).toBe(1);
    expect(f.deliveries).toBe(600 - k.expected.missing);
    expect(f.channelRows).toBe(2);
    // The S curve lies above the P curve everywhere on screen (smaller y = later in SVG coordinates is inverted).
    const ys = await page.evaluate(() => {
      const path = (c: string) => document.querySelector(`svg.time-distance g.${c} path`)?.getAttribute('d') ?? '';
      const lastY = (d: string) => Number(d.split(/[LM,]/).filter(Boolean).at(-1));
      return { p: lastY(path('curve-p')), s: lastY(path('curve-s')) };
    });
    expect(ys.s).toBeLessThan(ys.p);
    await page.close();
  });

  it('draws a density and a sample when there are more subscribers than points', async () => {
    const k = knownDrill(1500, { maxPoints: 300 });
    const file = join(dir, 'sampled.html');
    await writeFile(file, await renderReportHtml(buildReportData(k.input)));
    const { page, errors } = await openReport(file);
    const f = await reportFacts(page);
    expect(errors).toEqual([]);
    expect(Object.values(f.points).reduce((a, b) => a + b, 0)).toBe(300);
    expect(f.density).toBeGreaterThan(0);
    expect(f.deliveries).toBe(300 - f.points.missing);
    await page.close();
  });

  it('the blind zone is drawn when the S wave reached the surface before the first alert', async () => {
    const k = knownDrill(200);
    const record = { ...k.input.record, quake: { ...k.input.record.quake, depthKm: 10 } };
    record.plannedQuake = record.quake;
    const data = buildReportData({ ...k.input, record });
    expect(data.blindZoneKm).toBeGreaterThan(0);
    const file = join(dir, 'blind.html');
    await writeFile(file, await renderReportHtml(data));
    const { page, errors } = await openReport(file);
    expect(errors).toEqual([]);
    expect((await reportFacts(page)).blindZone).toBe(1);
    await page.close();
  });
});

describe('console in Chromium', () => {
  it('redraws the live map as frames arrive, read-only', async () => {
    // Frames of one event whose units finish one by one (the console's data path is tested against the stack in
    // test/integration/console.test.ts; here the page's handling of the stream).
    const k = knownDrill(300);
    const full = buildReportData({ ...k.input, subscribers: undefined, receipts: undefined });
    let frame = 0;
    const load = async (): Promise<ConsoleMessage> => {
      frame++;
      const done = Math.min(full.units.length, frame);
      const units = full.units.map((u, i) => (i < done ? u : { ...u, state: 'pending', doneS: null }));
      const cells = full.cells.map((c) => (c.unit < done ? c : { ...c, state: 'pending', cls: null }));
      const data = { ...full, units, cells, totals: { ...full.totals, countedDelivered: done * 10 } };
      return {
        status: null,
        live: [reportPayload(data, { sFrontAt: data.quake.originTime + 40_000 })], // S front 40 s after origin
        reports: [{ title: 'a report', href: '/reports/x.html', at: 0 }],
      };
    };
    const server = await startConsoleServer({ host: '127.0.0.1', port: await freePort(), intervalMs: 300, load });
    const page = await browser.newPage();
    const errors = watchErrors(page);
    try {
      await page.goto(server.url);
      await page.waitForFunction(() => Number(document.body.dataset.rendered ?? 0) >= 3, null, { timeout: 20_000 });
      const seen = await page.evaluate(() => ({
        done: document.querySelectorAll('svg.quake-map g.cell-done path').length,
        pending: document.querySelectorAll('svg.quake-map g.cell-pending path').length,
        delivered: Number(document.querySelector('.live-event')?.getAttribute('data-delivered')),
        sFront: document.querySelectorAll('svg.quake-map g.s-front path').length,
      }));
      expect(seen.sFront).toBe(1);
      expect(errors).toEqual([]);
      expect(seen.delivered).toBeGreaterThanOrEqual(30);
      expect(seen.done).toBeGreaterThan(0);
      const later = await page.waitForFunction(
        (before) => Number(document.querySelector('.live-event')?.getAttribute('data-delivered')) > before,
        seen.delivered,
        { timeout: 20_000 },
      );
      expect(await later.jsonValue()).toBe(true);
      const post = await fetch(server.url, { method: 'POST' });
      expect(post.status).toBe(405);
      // DNS rebinding: a page of another site reaching the loopback port carries that site's name as Host.
      expect(await statusWithHost(server.port, 'evil.example')).toBe(403);
      expect(await statusWithHost(server.port, `localhost:${server.port}`)).toBe(200);
    } finally {
      await page.close();
      await server.close();
    }
  });

  it('off loopback, requests without the token are refused', async () => {
    const load = async (): Promise<ConsoleMessage> => ({ status: null, live: [], reports: [] });
    await expect(startConsoleServer({ host: '0.0.0.0', port: 0, intervalMs: 1000, load })).rejects.toThrow(/token/);
    const server = await startConsoleServer({ host: '0.0.0.0', port: 0, intervalMs: 1000, load, token: 's3cret' });
    try {
      expect((await fetch(`http://127.0.0.1:${server.port}/`)).status).toBe(403);
      expect((await fetch(`http://127.0.0.1:${server.port}/?token=wrong`)).status).toBe(403);
      expect((await fetch(`http://127.0.0.1:${server.port}/?token=s3cret`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
