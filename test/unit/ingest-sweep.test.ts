/**
 * The producer's sweep of stranded versions (shared/ingest/sweep.ts): once per interval, and a failed sweep closes the
 * Kafka connection only when Kafka failed. The errors are the real classes kafkajs and the AWS SDK throw.
 */
import { ProvisionedThroughputExceededException, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSRequestTimeoutError } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { UnpublishedError } from '../../shared/ingest/errors.ts';
import { dropIfCurrent, isKafkaFailure, StrandedSweeper, SWEEP_EVERY_MS } from '../../shared/ingest/sweep.ts';

interface FakeConnection {
  id: number;
}

function harness(
  sweep: (p: FakeConnection) => Promise<{ republished: string[] }>,
  opts: { connectFails?: Error; dropFails?: Error } = {},
) {
  let clock = 1_000_000;
  let opened = 0;
  // What dropConnection was given, without dereferencing it (a call with `undefined` must show, not throw).
  const dropped: (number | undefined)[] = [];
  const warnings: Record<string, unknown>[] = [];
  let sweeps = 0;
  const sweeper = new StrandedSweeper<FakeConnection>({
    connect: async () => {
      if (opts.connectFails) throw opts.connectFails;
      return { id: ++opened };
    },
    dropConnection: async (p) => {
      dropped.push(p?.id);
      if (opts.dropFails) throw opts.dropFails;
    },
    sweep: async (p) => {
      sweeps++;
      return sweep(p);
    },
    log: { warn: (_msg, fields) => warnings.push(fields ?? {}) },
    now: () => clock,
  });
  return {
    sweeper,
    dropped,
    warnings,
    sweeps: () => sweeps,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

describe('isKafkaFailure', () => {
  it('is true for the kafkajs errors and false for DynamoDB and plain errors', () => {
    expect(isKafkaFailure(new KafkaJSConnectionError('Connection error: ECONNREFUSED'))).toBe(true);
    expect(isKafkaFailure(new KafkaJSRequestTimeoutError('Request Produce(key: 0, version: 7) timed out'))).toBe(true);
    const cause = new KafkaJSConnectionError('broker down');
    expect(isKafkaFailure(new KafkaJSNumberOfRetriesExceeded(cause, { retryCount: 5, retryTime: 3000 }))).toBe(true);
    const scan = new ResourceNotFoundException({ message: 'Requested resource not found', $metadata: {} });
    expect(isKafkaFailure(scan)).toBe(false);
    const throttled = new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: {} });
    expect(isKafkaFailure(throttled)).toBe(false);
    expect(isKafkaFailure(new Error('boom'))).toBe(false);
    // The producer's own send failure wraps kafkajs's error (the cause); a DynamoDB cause is not Kafka's.
    expect(isKafkaFailure(new UnpublishedError(['us7000abcd'], { cause: new KafkaJSConnectionError('down') }))).toBe(
      true,
    );
    expect(isKafkaFailure(new UnpublishedError(['us7000abcd'], { cause: throttled }))).toBe(false);
    const loop = new Error('a') as Error & { cause?: unknown };
    loop.cause = loop;
    expect(isKafkaFailure(loop)).toBe(false);
    expect(isKafkaFailure('KafkaJSConnectionError')).toBe(false);
  });
});

describe('StrandedSweeper', () => {
  it('sweeps at most once per interval and returns what it republished', async () => {
    const h = harness(async () => ({ republished: ['us7000abcd'] }));
    expect(await h.sweeper.run()).toEqual(['us7000abcd']);
    h.advance(SWEEP_EVERY_MS - 1);
    expect(await h.sweeper.run()).toEqual([]);
    expect(h.sweeps()).toBe(1);
    h.advance(1);
    expect(await h.sweeper.run()).toEqual(['us7000abcd']);
    expect(h.sweeps()).toBe(2);
  });

  it('closes the connection it used when Kafka failed, and opens a new one at the next sweep', async () => {
    let fail = true;
    const h = harness(async () => {
      if (fail) throw new KafkaJSConnectionError('Connection error: read ECONNRESET');
      return { republished: [] };
    });
    expect(await h.sweeper.run()).toEqual([]);
    expect(h.dropped).toEqual([1]);
    expect(h.warnings).toEqual([{ error: 'Connection error: read ECONNRESET', kafka: true }]);
    fail = false;
    h.advance(SWEEP_EVERY_MS);
    await h.sweeper.run();
    expect(h.sweeps()).toBe(2);
    expect(h.dropped).toEqual([1]);
  });

  it('keeps the connection when the events table failed (the Scan or the marks)', async () => {
    const h = harness(async () => {
      throw new ProvisionedThroughputExceededException({ message: 'Rate of requests exceeds', $metadata: {} });
    });
    expect(await h.sweeper.run()).toEqual([]);
    expect(h.dropped).toEqual([]);
    expect(h.warnings).toEqual([{ error: 'Rate of requests exceeds', kafka: false }]);
  });

  it('closes nothing when the connection could not be opened, and tries again at the next interval', async () => {
    const h = harness(async () => ({ republished: [] }), {
      connectFails: new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:19092'),
    });
    expect(await h.sweeper.run()).toEqual([]);
    expect(h.dropped).toEqual([]);
    expect(h.sweeps()).toBe(0);
    expect(h.warnings[0]).toMatchObject({ kafka: true });
    expect(await h.sweeper.run()).toEqual([]);
    expect(h.warnings).toHaveLength(1);
    h.advance(SWEEP_EVERY_MS);
    expect(await h.sweeper.run()).toEqual([]);
    expect(h.warnings).toHaveLength(2);
    expect(h.dropped).toEqual([]);
  });

  it('never throws, even when closing the broken connection fails or the error is not an Error', async () => {
    const h = harness(
      async () => {
        throw new KafkaJSRequestTimeoutError('Request Produce(key: 0, version: 7) timed out');
      },
      { dropFails: new KafkaJSConnectionError('Connection error: already closed') },
    );
    expect(await h.sweeper.run()).toEqual([]);
    expect(h.dropped).toEqual([1]);
    expect(h.warnings).toEqual([{ error: 'Request Produce(key: 0, version: 7) timed out', kafka: true }]);
    const odd = harness(async () => {
      throw null;
    });
    expect(await odd.sweeper.run()).toEqual([]);
    expect(odd.warnings).toEqual([{ error: 'null', kafka: false }]);
  });
});

describe('dropIfCurrent', () => {
  function conn(id: number) {
    const c = {
      id,
      closed: false,
      disconnect: async () => {
        c.closed = true;
      },
    };
    return c;
  }
  type Conn = ReturnType<typeof conn>;
  function slot(initial: Promise<Conn> | undefined) {
    let p = initial;
    return {
      current: () => p,
      clear: () => {
        p = undefined;
      },
      set: (next: Promise<Conn> | undefined) => {
        p = next;
      },
    };
  }

  it('forgets and closes the connection when it is still the shared one', async () => {
    const a = conn(1);
    const s = slot(Promise.resolve(a));
    await dropIfCurrent(s, a);
    expect(s.current()).toBeUndefined();
    expect(a.closed).toBe(true);
  });

  it('keeps a connection a poll opened meanwhile, and still closes the broken one', async () => {
    const a = conn(1);
    const b = conn(2);
    const s = slot(Promise.resolve(b));
    await dropIfCurrent(s, a);
    expect(await s.current()).toBe(b);
    expect(a.closed).toBe(true);
    expect(b.closed).toBe(false);
  });

  it('keeps a connection that replaces the broken one while the comparison waits', async () => {
    const a = conn(1);
    const b = conn(2);
    const s = slot(Promise.resolve(a));
    const dropping = dropIfCurrent(s, a);
    s.set(Promise.resolve(b)); // a poll dropped `a` and reconnected before the comparison settled
    await dropping;
    expect(await s.current()).toBe(b);
    expect(a.closed).toBe(true);
  });

  it('leaves an empty or failing slot alone', async () => {
    const a = conn(1);
    const empty = slot(undefined);
    await dropIfCurrent(empty, a);
    expect(a.closed).toBe(true);
    const failing = Promise.reject(new KafkaJSConnectionError('connect ECONNREFUSED'));
    failing.catch(() => {});
    const s = slot(failing);
    await dropIfCurrent(s, conn(3));
    expect(s.current()).toBe(failing);
  });
});
