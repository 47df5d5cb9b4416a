/**
 * FeedPoller against a loopback HTTP server serving the real USGS cut and the FDSN samples: conditional GETs, only new
 * or updated events forwarded, FDSN 204, failures classified, the validators kept back when a forward fails, and the
 * scheduled mode's time budget.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FeedFormatError, FeedRequestError, FeedUnavailableError, isRetriable } from '../../shared/ingest/errors.ts';
import { FeedPoller, type FeedSource } from '../../shared/ingest/feed-poller.ts';
import { parseFeed } from '../../shared/quake/detect.ts';
import type { Quake } from '../../shared/quake/types.ts';
import { type FeedServer, quakeFixture, startFeedServer } from '../fixtures/ingest/servers.ts';

const usgsText = quakeFixture('usgs-all_week-2023-04-07-cut.geojson');
const fdsnText = quakeFixture('fdsn-usgs-13col.txt');

let server: FeedServer;
let sent: Quake[][];
const collect = async (quakes: Quake[]) => {
  sent.push(quakes);
};

beforeEach(async () => {
  server = await startFeedServer();
  sent = [];
});
afterEach(async () => {
  await server.close();
});

function usgs(path = '/feed.geojson'): FeedSource {
  return { kind: 'usgs', url: server.url(path) };
}

describe('conditional GET', () => {
  it('forwards every event once, then sends the validators and forwards nothing on 304', async () => {
    const lastModified = 'Fri, 07 Apr 2023 18:00:00 GMT';
    server.set('/feed.geojson', { body: usgsText, etag: '"v1"', lastModified });
    const poller = new FeedPoller({ sources: [usgs()], forward: collect });

    const [first] = await poller.pollOnce();
    const expected = new Set(parseFeed(usgsText).accepted.map((q) => q.id));
    expect(first.status).toBe('changed');
    expect(
      sent
        .flat()
        .map((q) => q.id)
        .sort(),
    ).toEqual([...expected].sort());

    sent = [];
    const [second] = await poller.pollOnce();
    expect(second.status).toBe('unchanged');
    expect(sent).toEqual([]);
    const req = server.requests.at(-1);
    expect(req?.status).toBe(304);
    expect(req?.headers['if-none-match']).toBe('"v1"');
    expect(req?.headers['if-modified-since']).toBe(lastModified);
  });

  it('uses If-Modified-Since alone when the feed sends no ETag', async () => {
    server.set('/feed.geojson', { body: usgsText, lastModified: 'Fri, 07 Apr 2023 18:00:00 GMT' });
    const poller = new FeedPoller({ sources: [usgs()], forward: collect });
    await poller.pollOnce();
    const [second] = await poller.pollOnce();
    expect(second.status).toBe('unchanged');
    expect(server.requests.at(-1)?.headers['if-none-match']).toBeUndefined();
  });

  it('an updated feed forwards only the changed and the new events', async () => {
    const doc = JSON.parse(usgsText) as { features: Array<{ id: string; properties: Record<string, unknown> }> };
    server.set('/feed.geojson', { body: usgsText, etag: '"v1"' });
    const poller = new FeedPoller({ sources: [usgs()], forward: collect });
    await poller.pollOnce();

    const changed = structuredClone(doc);
    const revised = changed.features[3];
    revised.properties.mag = Number(revised.properties.mag) + 0.3;
    revised.properties.updated = Number(revised.properties.updated) + 60_000;
    const fresh = structuredClone(changed.features[7]);
    fresh.id = 'us7000test1';
    fresh.properties.ids = ',us7000test1,';
    fresh.properties.code = '7000test1';
    fresh.properties.time = Number(fresh.properties.time) + 3_600_000;
    fresh.properties.updated = Number(fresh.properties.time) + 60_000;
    changed.features.unshift(fresh);
    // An older version of an event already forwarded: a stale cache answer must not be forwarded.
    const stale = changed.features[10];
    stale.properties.updated = Number(stale.properties.updated) - 60_000;
    server.set('/feed.geojson', { body: JSON.stringify(changed), etag: '"v2"' });

    sent = [];
    const [out] = await poller.pollOnce();
    expect(out.status).toBe('changed');
    expect(
      sent
        .flat()
        .map((q) => q.id)
        .sort(),
    ).toEqual([revised.id, 'us7000test1'].sort());
    const up = sent.flat().find((q) => q.id === revised.id);
    expect(up?.magnitude).toBeCloseTo(Number(revised.properties.mag), 5);
  });

  it('keeps the validators back when the forward fails, so the next poll offers the events again', async () => {
    server.set('/feed.geojson', { body: usgsText, etag: '"v1"' });
    let fail = true;
    const poller = new FeedPoller({
      sources: [usgs()],
      forward: async (quakes) => {
        if (fail) throw new Error('producer unavailable');
        sent.push(quakes);
      },
    });
    const [failed] = await poller.pollOnce();
    expect(failed.status).toBe('error');
    expect(failed.error?.message).toContain('producer unavailable');
    fail = false;
    const [retried] = await poller.pollOnce();
    expect(server.requests.at(-1)?.headers['if-none-match']).toBeUndefined();
    expect(retried.status).toBe('changed');
    expect(sent.flat().length).toBe(parseFeed(usgsText).accepted.length);
  });
});

describe('FDSN queries', () => {
  it('204 No Content is an empty result: nothing forwarded, no error', async () => {
    server.set('/fdsnws/event/1/query', { status: 204 });
    const poller = new FeedPoller({
      sources: [{ kind: 'fdsn', url: server.url('/fdsnws/event/1/query') }],
      forward: collect,
    });
    const [out] = await poller.pollOnce();
    expect(out.status).toBe('empty');
    expect(out.error).toBeUndefined();
    expect(sent).toEqual([]);
    expect(poller.stats.empty).toBe(1);
  });

  it('forwards text rows once, and a revised row (same time, new magnitude) with a newer updatedAt', async () => {
    const path = '/fdsnws/event/1/query';
    server.set(path, { body: fdsnText, contentType: 'text/plain' });
    let now = Date.parse('2023-04-07T20:00:00Z');
    const poller = new FeedPoller({
      sources: [{ kind: 'fdsn', url: server.url(path) }],
      forward: collect,
      now: () => now,
    });
    await poller.pollOnce();
    const first = sent.flat();
    expect(first.map((q) => q.id).sort()).toEqual(
      parseFeed(fdsnText)
        .accepted.map((q) => q.id)
        .sort(),
    );

    sent = [];
    await poller.pollOnce();
    expect(sent).toEqual([]);

    const lines = fdsnText.split('\n');
    const row = lines[1].split('|');
    row[10] = String(Number(row[10]) + 0.2);
    lines[1] = row.join('|');
    server.set(path, { body: lines.join('\n'), contentType: 'text/plain' });
    now += 60_000;
    await poller.pollOnce();
    const revised = sent.flat();
    expect(revised.map((q) => q.id)).toEqual([row[0]]);
    const before = first.find((q) => q.id === row[0]);
    expect(revised[0].magnitude).toBeCloseTo(Number(row[10]), 5);
    expect(revised[0].updatedAt).toBeGreaterThan(before?.updatedAt ?? Number.POSITIVE_INFINITY);
  });
});

describe('failures are classified', () => {
  it('503 with Retry-After is retriable and defers the next request', async () => {
    server.set('/feed.geojson', { status: 503, body: 'busy', headers: { 'retry-after': '120' } });
    const poller = new FeedPoller({ sources: [usgs()], forward: collect });
    const [out] = await poller.pollOnce();
    expect(out.error).toBeInstanceOf(FeedUnavailableError);
    expect(isRetriable(out.error)).toBe(true);
    const requests = server.requests.length;
    const [next] = await poller.pollOnce();
    expect(next.status).toBe('deferred');
    expect(server.requests.length).toBe(requests);
  });

  it('404 is not retriable', async () => {
    const poller = new FeedPoller({ sources: [usgs('/missing')], forward: collect });
    const [out] = await poller.pollOnce();
    expect(out.error).toBeInstanceOf(FeedRequestError);
    expect(isRetriable(out.error)).toBe(false);
  });

  it('an HTML page is a format error, not a crash', async () => {
    server.set('/feed.geojson', { body: '<html>maintenance</html>', contentType: 'text/html' });
    const poller = new FeedPoller({ sources: [usgs()], forward: collect });
    const [out] = await poller.pollOnce();
    expect(out.error).toBeInstanceOf(FeedFormatError);
    expect(sent).toEqual([]);
  });

  it('a feed slower than the timeout is retriable, and the poll returns in time', async () => {
    server.set('/feed.geojson', { body: usgsText, delayMs: 2_000 });
    const poller = new FeedPoller({ sources: [usgs()], forward: collect, timeoutMs: 200 });
    const started = Date.now();
    const [out] = await poller.pollOnce();
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(out.error).toBeInstanceOf(FeedUnavailableError);
    expect(out.error?.message).toContain('timed out');
    expect(isRetriable(out.error)).toBe(true);
  });

  it('a closed port is retriable', async () => {
    const poller = new FeedPoller({ sources: [{ kind: 'usgs', url: 'http://127.0.0.1:9/feed' }], forward: collect });
    const [out] = await poller.pollOnce();
    expect(out.error).toBeInstanceOf(FeedUnavailableError);
  });
});

describe('pollUntil (scheduled mode)', () => {
  it('polls every interval and stops before the budget runs out', async () => {
    server.set('/feed.geojson', { body: usgsText, etag: '"v1"' });
    const poller = new FeedPoller({
      sources: [usgs()],
      forward: collect,
      intervalMs: 100,
      timeoutMs: 300,
      reserveMs: 200,
    });
    const started = Date.now();
    const stats = await poller.pollUntil(1_500);
    const took = Date.now() - started;
    expect(took).toBeLessThan(1_500 - 200);
    expect(stats.rounds).toBeGreaterThanOrEqual(5);
    expect(stats.changed).toBe(1);
    expect(stats.unchanged).toBe(stats.rounds - 1);
    expect(sent.length).toBe(1);
  });

  it('does not start a round when the budget is already too short', async () => {
    server.set('/feed.geojson', { body: usgsText });
    const poller = new FeedPoller({ sources: [usgs()], forward: collect, timeoutMs: 1_000, reserveMs: 500 });
    const stats = await poller.pollUntil(800);
    expect(stats.rounds).toBe(0);
    expect(server.requests.length).toBe(0);
  });
});

describe('memory', () => {
  it('forgets events not seen within the retention and stays under its cap', async () => {
    server.set('/feed.geojson', { body: usgsText, etag: '"v1"' });
    let now = 1_000_000;
    const poller = new FeedPoller({
      sources: [usgs()],
      forward: collect,
      now: () => now,
      memory: { retentionMs: 60_000, maxEntries: 100 },
    });
    await poller.pollOnce();
    expect(poller.memory.size).toBeLessThanOrEqual(100);
    server.set('/feed.geojson', { status: 204 });
    now += 120_000;
    await poller.pollOnce();
    expect(poller.memory.size).toBe(0);
  });
});

describe('max age', () => {
  it('does not forward events whose origin time is older than maxAgeMs', async () => {
    server.set('/feed.geojson', { body: usgsText, etag: '"v1"' });
    const all = parseFeed(usgsText).accepted;
    const newest = Math.max(...all.map((q) => q.originTime));
    const maxAgeMs = 6 * 3600_000;
    const poller = new FeedPoller({ sources: [usgs()], forward: collect, now: () => newest + 60_000, maxAgeMs });
    await poller.pollOnce();
    const want = all.filter((q) => q.originTime >= newest + 60_000 - maxAgeMs).map((q) => q.id);
    expect(want.length).toBeGreaterThan(0);
    expect(want.length).toBeLessThan(all.length);
    expect(
      sent
        .flat()
        .map((q) => q.id)
        .sort(),
    ).toEqual(want.sort());
    expect(poller.stats.tooOld).toBe(all.length - want.length);
  });
});
