/**
 * The one retry policy (shared/infra/retry.ts): p-retry for our own call sites, the SDK's standard retry strategy
 * with our attempts and delays for AWS calls. The SDK case runs the real DynamoDB client against a local HTTP server
 * that answers with DynamoDB's own throttling error shape (awsJson1_0: `__type`, HTTP 400).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  drainUnprocessed,
  RETRY_POLICIES,
  RetryBudgetSpent,
  StopRetrying,
  sdkRetryStrategy,
  UnprocessedError,
  withRetry,
} from '../../shared/infra/retry.ts';

const fast = { attempts: 4, baseMs: 1, maxMs: 4 };

describe('withRetry', () => {
  it('retries until success, counting attempts from 1', async () => {
    const seen: number[] = [];
    const r = await withRetry(fast, async (n) => {
      seen.push(n);
      if (n < 3) throw new Error(`fail ${n}`);
      return 'ok';
    });
    expect(r).toBe('ok');
    expect(seen).toEqual([1, 2, 3]);
  });

  it('is bounded: rejects with the last error after policy.attempts', async () => {
    let calls = 0;
    await expect(
      withRetry(fast, async (n) => {
        calls++;
        throw new Error(`fail ${n}`);
      }),
    ).rejects.toThrow('fail 4');
    expect(calls).toBe(4);
  });

  it('stops at once on an error that is not retriable, or on StopRetrying', async () => {
    let calls = 0;
    const permanent = Object.assign(new Error('HTTP 422'), { permanent: true });
    await expect(
      withRetry(
        fast,
        async () => {
          calls++;
          throw permanent;
        },
        { retriable: (e) => !(e as { permanent?: boolean }).permanent },
      ),
    ).rejects.toBe(permanent);
    expect(calls).toBe(1);
    await expect(
      withRetry(fast, async () => {
        calls++;
        throw new StopRetrying(new Error('refused'));
      }),
    ).rejects.toThrow('refused');
    expect(calls).toBe(2);
  });

  it('tops a retry delay up to what the failure asked for, capped at maxMs', async () => {
    const delays: number[] = [];
    await withRetry(
      { attempts: 3, baseMs: 1, maxMs: 30 },
      async (n) => {
        if (n < 3) throw Object.assign(new Error('429'), { retryAfterMs: n === 1 ? 20 : 60_000 });
      },
      {
        waitAtLeastMs: (e) => (e as { retryAfterMs: number }).retryAfterMs,
        onRetry: (_e, _n, ms) => delays.push(ms),
      },
    );
    expect(delays).toEqual([20, 30]);
  });
});

describe('withRetry deadline', () => {
  it('makes no retry whose wait would end after the deadline; RetryBudgetSpent carries the last error', async () => {
    let calls = 0;
    const err = await withRetry(
      { attempts: 10, baseMs: 50, maxMs: 50 },
      async (n) => {
        calls++;
        throw new Error(`fail ${n}`);
      },
      { deadline: Date.now() + 30 },
    ).catch((e) => e);
    expect(err).toBeInstanceOf(RetryBudgetSpent);
    expect((err.cause as Error).message).toBe('fail 1');
    expect(calls).toBe(1);
  });
});

describe('drainUnprocessed', () => {
  it('resubmits only what is left, until nothing is', async () => {
    const sent: number[][] = [];
    await drainUnprocessed(
      fast,
      [1, 2, 3, 4],
      async (pending) => {
        sent.push(pending);
        return pending.slice(1);
      },
      'test',
    );
    expect(sent).toEqual([[1, 2, 3, 4], [2, 3, 4], [3, 4], [4]]);
  });

  it('gives up with UnprocessedError after policy.attempts (never an endless loop)', async () => {
    let calls = 0;
    const err = await drainUnprocessed(
      fast,
      ['k'],
      async (p) => {
        calls++;
        return p;
      },
      'BatchGet from locks',
    ).catch((e) => e);
    expect(err).toBeInstanceOf(UnprocessedError);
    expect(err.message).toBe('BatchGet from locks: 1 items still unprocessed after 4 attempts');
    expect(calls).toBe(4);
  });

  it('does not multiply the SDK call’s own retries: an error of the call itself is not retried here', async () => {
    let calls = 0;
    await expect(
      drainUnprocessed(
        fast,
        ['k'],
        async () => {
          calls++;
          throw new Error('AccessDeniedException');
        },
        'x',
      ),
    ).rejects.toThrow('AccessDeniedException');
    expect(calls).toBe(1);
  });
});

describe('sdkRetryStrategy on a throttled DynamoDB', () => {
  let server: Server;
  let endpoint: string;
  let requests = 0;
  let throttleFor = Number.POSITIVE_INFINITY;
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        requests++;
        if (requests <= throttleFor) {
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
          res.end(
            JSON.stringify({
              __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
              message: 'The level of configured provisioned throughput for the table was exceeded.',
            }),
          );
          return;
        }
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ Item: { pk: { S: 'a' } } }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const client = () =>
    new DynamoDBClient({
      region: 'us-east-1',
      endpoint,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      retryStrategy: sdkRetryStrategy(RETRY_POLICIES.sdk),
    });

  it('retries throttling up to the policy’s attempts, then fails with the throttling error', async () => {
    requests = 0;
    throttleFor = Number.POSITIVE_INFINITY;
    const ddb = client();
    const err = await ddb
      .send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'a' } } }))
      .catch((e: Error & { $metadata?: { attempts?: number } }) => e);
    ddb.destroy();
    expect((err as Error).name).toBe('ProvisionedThroughputExceededException');
    expect(requests).toBe(RETRY_POLICIES.sdk.attempts);
    expect((err as { $metadata: { attempts: number } }).$metadata.attempts).toBe(RETRY_POLICIES.sdk.attempts);
  });

  it('a throttle that clears within the policy is invisible to the caller', async () => {
    requests = 0;
    throttleFor = 5; // more than the SDK's default 3 attempts
    const ddb = client();
    const out = await ddb.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'a' } } }));
    ddb.destroy();
    expect(out.Item).toEqual({ pk: { S: 'a' } });
    expect(out.$metadata.attempts).toBe(6);
  });

  it('computes delays as full jitter over base·2ⁿ⁻¹ capped at maxMs (fast for throttling)', () => {
    const s = sdkRetryStrategy({ attempts: 8, baseMs: 25, maxMs: 1000 }, () => 1) as unknown as {
      computeNextBackoffDelay: (attempt: number) => number;
    };
    expect([1, 2, 3, 4, 5, 6, 7].map((a) => s.computeNextBackoffDelay(a))).toEqual([25, 50, 100, 200, 400, 800, 1000]);
  });
});
