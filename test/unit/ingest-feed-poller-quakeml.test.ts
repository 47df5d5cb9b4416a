/**
 * FeedPoller polling an FDSN event service in QuakeML (`format=xml`, the FDSN default) from a loopback HTTP server:
 * conditional GETs as for the other formats, events forwarded once, retractions sent to `retract` once (or counted and
 * logged when no sink is wired), and the server's host as the source of events that name no agency.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FeedPoller, type FeedSource } from '../../shared/ingest/feed-poller.ts';
import type { IngestLog } from '../../shared/ingest/support.ts';
import type { Quake, Retraction } from '../../shared/quake/types.ts';
import { type FeedServer, quakeFixture, startFeedServer } from '../fixtures/ingest/servers.ts';

const PATH = '/fdsnws/event/1/query';
const seiscomp = quakeFixture('quakeml-seiscomp.xml');

let server: FeedServer;
let sent: Quake[][];
let retracted: Retraction[][];
const forward = async (quakes: Quake[]) => {
  sent.push(quakes);
};
const retract = async (rs: Retraction[]) => {
  retracted.push(rs);
};

beforeEach(async () => {
  server = await startFeedServer();
  sent = [];
  retracted = [];
});
afterEach(async () => {
  await server.close();
});

const fdsn = (): FeedSource => ({ kind: 'fdsn', url: `${server.url(PATH)}?format=xml&starttime=2026-11-30` });

describe('FDSN QuakeML polling', () => {
  it('forwards the events once, sends the retractions once, then 304s', async () => {
    server.set(PATH, { body: seiscomp, contentType: 'application/xml', etag: '"q1"' });
    const poller = new FeedPoller({ sources: [fdsn()], forward, retract });
    const [first] = await poller.pollOnce();
    expect(first).toMatchObject({ status: 'changed', events: 2, forwarded: 2, rejected: 0, retracted: 2 });
    expect(sent.flat().map((q) => [q.id, q.source])).toEqual([
      ['infp2026xabc', 'niep'],
      ['infp2026xabf', 'niep'],
    ]);
    expect(retracted.flat().map((r) => r.id)).toEqual(['infp2026xabd', 'infp2026xabe']);
    expect(server.requests[0].headers.accept).toContain('application/xml');

    const [second] = await poller.pollOnce();
    expect(second.status).toBe('unchanged');
    expect(server.requests.at(-1)?.headers['if-none-match']).toBe('"q1"');

    // The same document under a new ETag: nothing new to send.
    server.set(PATH, { body: seiscomp, contentType: 'application/xml', etag: '"q2"' });
    const [third] = await poller.pollOnce();
    expect(third).toMatchObject({ status: 'changed', forwarded: 0, retracted: 0 });
    expect(sent).toHaveLength(1);
    expect(retracted).toHaveLength(1);
    expect(poller.stats.retracted).toBe(2);
  });

  it('without a retraction sink, retractions are counted and logged, not dropped silently', async () => {
    server.set(PATH, { body: seiscomp, contentType: 'application/xml' });
    const warnings: [string, Record<string, unknown> | undefined][] = [];
    const log: IngestLog = { info: () => {}, warn: (msg, fields) => warnings.push([msg, fields]) };
    const poller = new FeedPoller({ sources: [fdsn()], forward, log });
    const [out] = await poller.pollOnce();
    expect(out.retracted).toBe(2);
    expect(warnings).toContainEqual([
      'feed retractions not forwarded: no retraction sink',
      { url: fdsn().url, retracted: ['niep:infp2026xabd', 'niep:infp2026xabe'] },
    ]);
  });

  it('a failed retraction keeps the validators back, so the next poll offers it again', async () => {
    server.set(PATH, { body: seiscomp, contentType: 'application/xml', etag: '"q1"' });
    let fail = true;
    const poller = new FeedPoller({
      sources: [fdsn()],
      forward,
      retract: async (rs) => {
        if (fail) throw new Error('producer down');
        retracted.push(rs);
      },
    });
    const [first] = await poller.pollOnce();
    expect(first.status).toBe('error');
    fail = false;
    const [second] = await poller.pollOnce();
    expect(server.requests.at(-1)?.headers['if-none-match']).toBeUndefined();
    expect(second).toMatchObject({ status: 'changed', retracted: 2 });
    expect(retracted.flat()).toHaveLength(2);
  });

  it('an FDSN text withdrawal (dated at parsing) is sent once, and again only after the id was published again', async () => {
    const types = quakeFixture('fdsn-event-types.txt');
    server.set(PATH, { body: types, contentType: 'text/plain', etag: '"t1"' });
    const poller = new FeedPoller({ sources: [fdsn()], forward, retract });
    await poller.pollOnce();
    server.set(PATH, { body: `${types}\n`, contentType: 'text/plain', etag: '"t2"' });
    await poller.pollOnce();
    expect(retracted.flat().map((r) => r.id)).toEqual(['2026p902404']);
    const republished = types.replace(/\|not existing$/m, '|earthquake');
    server.set(PATH, { body: republished, contentType: 'text/plain', etag: '"t3"' });
    await poller.pollOnce();
    expect(sent.flat().map((q) => q.id)).toContain('2026p902404');
    server.set(PATH, { body: types, contentType: 'text/plain', etag: '"t4"' });
    await poller.pollOnce();
    expect(retracted.flat().map((r) => r.id)).toEqual(['2026p902404', '2026p902404']);
  });

  it('events that name no agency take the server host as their source', async () => {
    server.set(PATH, { body: quakeFixture('quakeml-obspy-default-ns.xml'), contentType: 'text/xml' });
    const poller = new FeedPoller({ sources: [fdsn()], forward, retract });
    await poller.pollOnce();
    expect(sent.flat().map((q) => [q.id, q.source])).toEqual([['ro2026wxyz', '127.0.0.1']]);
  });
});
