/**
 * The producer's sweep of stranded versions (shared/ingest/sweep.ts): once per interval, and a failed sweep closes the
 * Kafka connection only when Kafka failed. The errors are the real classes kafkajs and the AWS SDK throw.
 */
import { ProvisionedThroughputExceededException, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSRequestTimeoutError } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { isKafkaFailure, StrandedSweeper, SWEEP_EVERY_MS } from '../../shared/ingest/sweep.ts';

interface FakeConnection {
  id: number;
}

function harness(
  sweep: (p: FakeConnection) => Promise<{ republished: string[] }>,
  opts: { connectFails?: Error } = {},
) {
  let clock = 1_000_000;
  let opened = 0;
  const dropped: number[] = [];
  const warnings: Record<string, unknown>[] = [];
  let sweeps = 0;
  const sweeper = new StrandedSweeper<FakeConnection>({
    connect: async () => {
      if (opts.connectFails) throw opts.connectFails;
      return { id: ++opened };
    },
    dropConnection: async (p) => {
      dropped.push(p.id);
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
  });
});
