/**
 * Throttling on the alert path, retried fast and bounded by the one SDK retry policy (shared/infra/retry.ts):
 * - Lambda: the emulator's real throttling (reserved concurrency 0 answers 429 TooManyRequestsException, as Lambda
 *   does). Bounded: exactly RETRY_POLICIES.sdk.attempts tries, then the error. Cleared: concurrency given back while
 *   the client is retrying, and the same call succeeds without the caller seeing the throttle.
 * - DynamoDB: dynalite never throttles, so a loopback proxy in front of it answers the first requests of a batch write
 *   with DynamoDB's ProvisionedThroughputExceededException and forwards the rest; every item is written.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  InvokeCommand,
  PutFunctionConcurrencyCommand,
  TooManyRequestsException,
} from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS } from '../../shared/infra/clients.ts';
import { RETRY_POLICIES, sdkRetryStrategy } from '../../shared/infra/retry.ts';
import { batchWriteAll } from '../../shared/segments/batch-write.ts';
import { ROLE, zipHandler } from '../fixtures/lambda/harness.ts';
import { localClients, uniqueName } from '../helpers/stack.ts';

const clients = localClients();

describe('Lambda TooManyRequestsException (emulator, reserved concurrency)', () => {
  const name = uniqueName('fault-throttle');
  beforeAll(async () => {
    await clients.lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs24.x',
        Role: ROLE,
        Handler: 'index.handler',
        Code: { ZipFile: zipHandler('echo.mjs', 'index.mjs') },
      }),
    );
  });
  afterAll(async () => {
    await clients.lambda.send(new DeleteFunctionCommand({ FunctionName: name })).catch(() => {});
  });

  const invoke = () =>
    clients.lambda.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from('{"hello":"throttle"}') }));

  it('is retried up to the policy’s attempts, then reported (bounded)', async () => {
    await clients.lambda.send(
      new PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: 0 }),
    );
    const err = await invoke().catch((e) => e);
    expect(err).toBeInstanceOf(TooManyRequestsException);
    expect(err.$metadata.attempts).toBe(RETRY_POLICIES.sdk.attempts);
  });

  it('a throttle that clears while the client retries is invisible to the caller', async () => {
    await clients.lambda.send(
      new PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: 0 }),
    );
    // A client of its own with the same strategy, and a step inside the retry loop that gives the function its
    // concurrency back just before the third attempt (what a freed slot looks like to the caller).
    const { LambdaClient } = await import('@aws-sdk/client-lambda');
    const lambda = new LambdaClient({
      region: 'us-east-1',
      endpoint: clients.config.endpoints.lambda,
      credentials: LOCAL_CREDENTIALS,
      retryStrategy: sdkRetryStrategy(RETRY_POLICIES.sdk),
    });
    let attempts = 0;
    lambda.middlewareStack.add(
      (next) => async (args) => {
        attempts++;
        if (attempts === 3) {
          await clients.lambda.send(
            new PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: 2 }),
          );
        }
        return next(args);
      },
      { step: 'deserialize', name: 'faultLiftThrottle' },
    );
    try {
      const out = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from('{"n":1}') }));
      expect(out.FunctionError).toBeUndefined();
      expect(out.$metadata.attempts).toBe(3);
      expect(attempts).toBe(3);
    } finally {
      lambda.destroy();
    }
  });
});

describe('DynamoDB ProvisionedThroughputExceededException (proxy in front of dynalite)', () => {
  const table = uniqueName('fault-throttle');
  let proxy: Server;
  let throttled = 0;
  let throttleNext = 0;

  beforeAll(async () => {
    const upstream = new URL(clients.config.endpoints.dynamodb!);
    proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        if (throttleNext > 0 && String(req.headers['x-amz-target']).endsWith('.BatchWriteItem')) {
          throttleNext--;
          throttled++;
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
          res.end(
            JSON.stringify({
              __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
              message: 'The level of configured provisioned throughput for the table was exceeded.',
            }),
          );
          return;
        }
        const up = request(
          { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
          (r) => {
            res.writeHead(r.statusCode ?? 502, r.headers);
            r.pipe(res);
          },
        );
        up.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    await clients.dynamodb.send(
      new CreateTableCommand({
        TableName: table,
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  });
  afterAll(async () => {
    await clients.dynamodb.send(new DeleteTableCommand({ TableName: table })).catch(() => {});
    await new Promise<void>((r) => proxy.close(() => r()));
    clients.destroy();
  });

  it('a batch write throttled 5 times in a row (more than the SDK default 3 attempts) still writes every item', async () => {
    const ddb = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
      credentials: LOCAL_CREDENTIALS,
      retryStrategy: sdkRetryStrategy(RETRY_POLICIES.sdk),
    });
    const doc = DynamoDBDocumentClient.from(ddb);
    try {
      throttleNext = 5;
      const items = Array.from({ length: 60 }, (_, i) => ({ PutRequest: { Item: { pk: `k${i}` } } }));
      await batchWriteAll(doc, table, items, { concurrency: 1 });
      expect(throttled).toBe(5);
      const all = await clients.ddb.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
      expect(all.Items?.map((i) => i.pk).sort()).toEqual(items.map((i) => i.PutRequest.Item.pk).sort());
    } finally {
      ddb.destroy();
    }
  });
});
