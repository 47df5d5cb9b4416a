/**
 * EmscListener against a loopback websocket server replaying the real EMSC sample messages: a connection dropped
 * mid-stream and a full replay on reconnect forward each event version once; a server that stops answering pings is
 * abandoned and reconnected; reconnects back off; failed forwards are retried or given up by class.
 */
import { once } from 'node:events';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EmscListener, type ListenerState } from '../../shared/ingest/emsc-listener.ts';
import { ForwardError } from '../../shared/ingest/errors.ts';
import { parseEmscMessage } from '../../shared/quake/emsc.ts';
import type { Quake } from '../../shared/quake/types.ts';
import { quakeFixture, type ReplayServer, startReplayServer } from '../fixtures/ingest/servers.ts';

const lines = (name: string) =>
  quakeFixture(name)
    .split('\n')
    .filter((l) => l.trim() !== '');
const versions = lines('emsc-websocket-versions.jsonl');
const pairs = lines('emsc-websocket-pairs.jsonl');
const stream = [...versions, ...pairs];

let server: ReplayServer | undefined;
let listener: EmscListener | undefined;
afterEach(async () => {
  await listener?.stop();
  await server?.close();
  listener = undefined;
  server = undefined;
});

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const fastBackoff = { initialMs: 20, maxMs: 100 };

/** The newest version of every event in the messages (what must have been forwarded last per id). */
function newestById(messages: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of messages) {
    const r = parseEmscMessage(JSON.parse(m));
    if (r.ok) out.set(r.quake.id, Math.max(out.get(r.quake.id) ?? 0, r.quake.updatedAt));
  }
  return out;
}

describe('resume without duplicates', () => {
  it('a connection dropped mid-stream, then a full replay: every version forwarded once, stale ones never', async () => {
    server = await startReplayServer({
      messages: () => stream,
      dropAfter: (conn) => (conn === 1 ? 5 : undefined),
    });
    const forwarded: Quake[] = [];
    listener = new EmscListener({
      url: server.url,
      backoff: fastBackoff,
      forward: async (q) => {
        forwarded.push(q);
      },
    });
    listener.start();
    const newest = newestById(stream);
    await until(() => server!.connections() >= 2 && listener!.stats.messages >= 5 + stream.length);

    const keys = forwarded.map((q) => `${q.id}@${q.updatedAt}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(forwarded.map((q) => q.id))).toEqual(new Set(newest.keys()));
    for (const [id, updatedAt] of newest) {
      const mine = forwarded.filter((q) => q.id === id);
      expect(mine.at(-1)?.updatedAt).toBe(updatedAt);
      // Versions of one event go out in increasing order: an older update after a newer one is dropped.
      const times = mine.map((q) => q.updatedAt);
      expect(times).toEqual([...times].sort((a, b) => a - b));
    }
    // The versions fixture: create, newer update, create replayed, older update → two forwards.
    const first = parseEmscMessage(JSON.parse(versions[0]));
    expect(first.ok && forwarded.filter((q) => q.id === first.quake.id).length).toBe(2);
    expect(listener.stats.duplicates).toBe(listener.stats.messages - forwarded.length - listener.stats.rejected);
  });
});

describe('heartbeat', () => {
  it('terminates a connection that stops answering pings, and reconnects', async () => {
    server = await startReplayServer({
      messages: () => versions.slice(0, 1),
      answerPings: (conn) => conn !== 1,
    });
    const forwarded: Quake[] = [];
    listener = new EmscListener({
      url: server.url,
      pingIntervalMs: 80,
      pongTimeoutMs: 80,
      backoff: fastBackoff,
      forward: async (q) => {
        forwarded.push(q);
      },
    });
    listener.start();
    await until(() => server!.connections() >= 2);
    expect(listener.stats.pingTimeouts).toBeGreaterThanOrEqual(1);
    // The second connection answers: it stays up through several pings.
    const pings = listener.stats.pingTimeouts;
    await new Promise((r) => setTimeout(r, 400));
    expect(listener.stats.pingTimeouts).toBe(pings);
    expect(server.connections()).toBe(2);
    expect(forwarded).toHaveLength(1);
  });
});

describe('reconnect backoff', () => {
  it('grows exponentially with jitter up to the cap while the server is down, and stops on stop()', async () => {
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const delays: number[] = [];
    listener = new EmscListener({
      url: `ws://127.0.0.1:${port}/`,
      backoff: { initialMs: 10, maxMs: 80, random: () => 1 },
      forward: async () => {},
      onState: (state: ListenerState, detail) => {
        if (state === 'closed') delays.push(Number(detail?.reconnectInMs));
      },
    });
    listener.start();
    await until(() => delays.length >= 6);
    expect(delays.slice(0, 5)).toEqual([10, 20, 40, 80, 80]);
    await listener.stop();
    const after = delays.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(delays.length).toBe(after);
  });

  it('jitter keeps at least half the delay', async () => {
    const { backoffDelay } = await import('../../shared/ingest/support.ts');
    expect(backoffDelay(3, { initialMs: 100, maxMs: 10_000, random: () => 0 })).toBe(400);
    expect(backoffDelay(3, { initialMs: 100, maxMs: 10_000, random: () => 1 })).toBe(800);
  });
});

describe('forward failures', () => {
  it('retries a retriable failure, gives up a permanent one and forwards it when it is replayed', async () => {
    server = await startReplayServer({
      messages: () => versions.slice(0, 1),
      dropAfter: (conn) => (conn === 1 ? 1 : undefined),
    });
    const forwarded: Quake[] = [];
    let calls = 0;
    listener = new EmscListener({
      url: server.url,
      backoff: { initialMs: 150, maxMs: 150 },
      forward: async (q) => {
        calls++;
        if (calls === 1) throw new ForwardError('throttled', { retriable: true });
        if (calls === 2) throw new ForwardError('bad payload', { retriable: false });
        forwarded.push(q);
      },
    });
    listener.start();
    await until(() => forwarded.length === 1 && server!.connections() >= 2);
    expect(calls).toBe(3);
    expect(listener.stats.forwardFailures).toBe(1);
  });
});

describe('max age', () => {
  it('drops messages about events older than maxAgeMs', async () => {
    server = await startReplayServer({ messages: () => versions });
    const forwarded: Quake[] = [];
    const first = parseEmscMessage(JSON.parse(versions[0]));
    if (!first.ok) throw new Error(first.reason);
    listener = new EmscListener({
      url: server.url,
      maxAgeMs: 3600_000,
      now: () => first.quake.originTime + 2 * 3600_000,
      forward: async (q) => {
        forwarded.push(q);
      },
    });
    listener.start();
    await until(() => listener!.stats.messages === versions.length);
    expect(forwarded).toEqual([]);
    expect(listener.stats.tooOld).toBe(versions.length);
  });
});
