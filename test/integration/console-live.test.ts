/**
 * `quakectl console` against the local stack, in a real headless Chromium: the page follows an event while its
 * segment worker runs (real DynamoDB tables, a real delivery path to a loopback webhook sink), showing finished
 * cells while others are still pending, then the event complete with every cell done; the report link it offers for
 * the event renders too. The worker is held half-way by its deliver function so the running state is observed
 * whatever the machine's speed, then released.
 */
import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local/stack/ports.ts';
import { startWebhookSink, type WebhookSink } from '../../local/webhook-sink.ts';
import { type EventStore, getEvent, savePlan } from '../../shared/events/index.ts';
import { planFanout, runSegmentWorker, type WorkerDeps } from '../../shared/fanout/index.ts';
import { Deliverer } from '../../shared/notify/index.ts';
import { consoleFrame } from '../../shared/report/console-data.ts';
import { startConsoleServer } from '../../shared/report/console-server.ts';
import { gatherReport } from '../../shared/report/gather.ts';
import { renderReportHtml } from '../../shared/report/html.ts';
import { coveringCells, SubscriberStore } from '../../shared/segments/index.ts';
import { launchChromium, reportFacts, watchErrors } from '../browser/chromium.ts';
import { drillQuake, population } from './pipeline-fixtures.ts';
import { type TestStack, testStack } from './pipeline-support.ts';

const SECRET = 'console-test-secret';
let stack: TestStack;
let sink: WebhookSink;
let browser: Browser;

beforeAll(async () => {
  stack = await testStack('con', ['subscribers', 'segments', 'events', 'locks'], ['delivery']);
  sink = await startWebhookSink({ secrets: SECRET });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await sink?.close();
  await stack?.cleanup();
});

describe('console', () => {
  it('shows the running event filling in, then complete, and links its report', async () => {
    const { ddb } = stack.clients;
    const store = new SubscriberStore(ddb, stack.names, { maxSegmentSize: 150 });
    const events: EventStore = { ddb, table: stack.names.table('events') };
    await store.upsert(
      population({ count: 1200, maxKm: 140, dense: 200, target: `${sink.url}/hooks/c`, secret: SECRET }),
    );
    const quake = drillQuake(`con-${randomBytes(3).toString('hex')}`);
    const plan = await planFanout(quake, {
      minSubscriberMmi: 3,
      coveringCells,
      segmentsForCells: (cells) => store.segmentsForCells(cells),
    });
    expect(plan.units.length).toBeGreaterThan(2);
    await savePlan(events, quake, { ...plan, segments: plan.segments, chains: 1 });

    const server = await startConsoleServer({
      host: '127.0.0.1',
      port: await freePort(),
      intervalMs: 250,
      load: () => consoleFrame(stack.clients, { profile: 'test', lingerMs: 600_000 }),
      eventReport: async (id) =>
        renderReportHtml(await gatherReport({ clients: stack.clients, names: stack.names, eventId: id, store })),
    });
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    const errors = watchErrors(page);
    const deliverer = new Deliverer({ sqs: stack.clients.sqs, names: stack.names, allowPrivateTargets: true });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const deps: WorkerDeps = {
      events,
      locks: { ddb, table: stack.names.table('locks') },
      subscribers: store,
      deliver: async (items) => {
        // Once a unit is counted done, hold the worker until the page has seen the event running.
        if (((await getEvent(events, quake.id))?.doneCount ?? 0) >= 1) await gate;
        return deliverer.deliver(items);
      },
      invokeSuccessor: async () => {},
      remainingMs: () => 600_000,
      owner: 'console-test',
      leaseMs: 60_000,
      pageSize: 100,
      reserveMs: 1000,
    };
    const sel = `.live-event[data-event-id="${quake.id}"]`;
    try {
      await page.goto(server.url);
      await page.waitForSelector(sel, { timeout: 30_000 });
      const cells = await page.locator(`${sel} svg.quake-map g.cell-pending path`).count();
      expect(cells).toBeGreaterThan(2);

      const run = runSegmentWorker(deps, { eventId: quake.id, chain: 0, hop: 0 });
      await page.waitForFunction(
        (s) => document.querySelectorAll(`${s} svg.quake-map g.cell-done path`).length > 0,
        sel,
        { timeout: 60_000 },
      );
      const midway = await page.evaluate((s) => {
        const live = document.querySelector(s);
        return {
          done: live?.querySelectorAll('svg.quake-map g.cell-done path').length ?? 0,
          notDone:
            live?.querySelectorAll('svg.quake-map g.cell-pending path, svg.quake-map g.cell-running path').length ?? 0,
          title: live?.querySelector('h2')?.textContent ?? '',
        };
      }, sel);
      expect(midway.done).toBeGreaterThan(0);
      expect(midway.notDone).toBeGreaterThan(0);
      expect(midway.title).toMatch(/running$/);

      release();
      expect((await run).completedEvent).toBe(true);
      await page.waitForFunction((s) => /complete$/.test(document.querySelector(`${s} h2`)?.textContent ?? ''), sel, {
        timeout: 60_000,
      });
      const end = await page.evaluate(
        (s) => ({
          done: document.querySelectorAll(`${s} svg.quake-map g.cell-done path`).length,
          notDone: document.querySelectorAll(`${s} svg.quake-map g.cell-pending path`).length,
          delivered: Number(document.querySelector(s)?.getAttribute('data-delivered')),
          services: document.querySelectorAll('.status-section').length,
        }),
        sel,
      );
      expect(end.notDone).toBe(0);
      expect(end.done).toBe(cells);
      expect(end.delivered).toBe(sink.received().length);
      expect(end.services).toBeGreaterThan(3);

      expect(errors).toEqual([]);
      // The drill's report link (no archive here: made on demand from the tables). Leaving the page aborts its
      // event stream, which the browser reports as a failed request: not an error of the report.
      page.removeAllListeners('requestfailed');
      const href = await page
        .locator(`a[href*="${encodeURIComponent(quake.id)}"]`)
        .first()
        .getAttribute('href');
      expect(href).toBeTruthy();
      await page.goto(new URL(href!, server.url).toString());
      await page.waitForFunction(() => document.body.dataset.rendered === '1', null, { timeout: 30_000 });
      const f = await reportFacts(page);
      expect(f.curveS).toBe(1);
      expect(Object.values(f.points).reduce((a, b) => a + b, 0)).toBe(sink.received().length);
      expect(errors).toEqual([]);
    } finally {
      release();
      await page.close();
      await server.close();
    }
  });
});
