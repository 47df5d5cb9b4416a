/**
 * The Lambda emulator through @aws-sdk/client-lambda: functions, versions, aliases, synchronous invoke, error shapes,
 * execution environments (cold/warm, timeout, crash, CommonJS, SDK import), concurrency and provisioned concurrency.
 * The emulator runs in-process on a free port; these operations need no other service.
 */

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteAliasCommand,
  DeleteFunctionCommand,
  DeleteFunctionConcurrencyCommand,
  DeleteFunctionEventInvokeConfigCommand,
  DeleteProvisionedConcurrencyConfigCommand,
  GetAccountSettingsCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConcurrencyCommand,
  GetFunctionConfigurationCommand,
  GetFunctionEventInvokeConfigCommand,
  GetProvisionedConcurrencyConfigCommand,
  InvalidParameterValueException,
  InvokeCommand,
  ListAliasesCommand,
  ListFunctionEventInvokeConfigsCommand,
  ListFunctionsCommand,
  ListProvisionedConcurrencyConfigsCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  PutFunctionEventInvokeConfigCommand,
  PutProvisionedConcurrencyConfigCommand,
  ResourceConflictException,
  ResourceNotFoundException,
  TooManyRequestsException,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  UpdateFunctionEventInvokeConfigCommand,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { logFilePath } from '../../local/lambda/logging.ts';
import { decode, type Harness, ROLE, startHarness, uniqueName, zipHandler } from '../fixtures/lambda/harness.ts';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ accountConcurrency: 1000 });
});

afterAll(async () => {
  await h?.close();
});

async function createFunction(
  fixture: string,
  opts: {
    entry?: string;
    name?: string;
    timeout?: number;
    env?: Record<string, string>;
    extra?: Record<string, string>;
    handler?: string;
  } = {},
) {
  const name = opts.name ?? uniqueName('fn');
  const out = await h.lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs22.x',
      Role: ROLE,
      Handler: opts.handler ?? 'index.handler',
      Timeout: opts.timeout ?? 3,
      Code: { ZipFile: zipHandler(fixture, opts.entry ?? 'index.mjs', opts.extra) },
      Environment: opts.env ? { Variables: opts.env } : undefined,
    }),
  );
  return { name, out };
}

async function invoke(name: string, event: unknown = {}, extra: { Qualifier?: string; LogType?: 'Tail' } = {}) {
  return h.lambda.send(
    new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(event)), ...extra }),
  );
}

/** Publishes version 1, points alias `live` at it and asks for `n` provisioned environments on the alias. */
async function provisionLive(name: string, n: number) {
  await h.lambda.send(new PublishVersionCommand({ FunctionName: name }));
  await h.lambda.send(new CreateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: '1' }));
  return h.lambda.send(
    new PutProvisionedConcurrencyConfigCommand({
      FunctionName: name,
      Qualifier: 'live',
      ProvisionedConcurrentExecutions: n,
    }),
  );
}

function tail(logResult: string | undefined): string {
  return Buffer.from(logResult ?? '', 'base64').toString('utf8');
}

describe('functions', () => {
  it('creates, reads, lists, updates and deletes a function with AWS fields', async () => {
    const zip = zipHandler('echo.mjs', 'index.mjs');
    const { name, out } = await createFunction('echo.mjs', { env: { GREETING: 'salut' } });
    expect(out.FunctionArn).toBe(`arn:aws:lambda:us-east-1:000000000000:function:${name}`);
    expect(out.CodeSha256).toBe(createHash('sha256').update(zip).digest('base64'));
    expect(out.CodeSize).toBe(zip.length);
    expect(out).toMatchObject({
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      Timeout: 3,
      MemorySize: 128,
      Version: '$LATEST',
      State: 'Active',
    });

    const got = await h.lambda.send(new GetFunctionCommand({ FunctionName: name }));
    expect(got.Configuration?.Environment?.Variables).toEqual({ GREETING: 'salut' });
    expect(got.Code?.Location).toBeTruthy();
    const byArn = await h.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: out.FunctionArn }));
    expect(byArn.FunctionName).toBe(name);

    const list = await h.lambda.send(new ListFunctionsCommand({}));
    expect(list.Functions?.map((f) => f.FunctionName)).toContain(name);

    const newZip = zipHandler('empty.mjs', 'index.mjs');
    const code = await h.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: newZip }));
    expect(code.CodeSha256).toBe(createHash('sha256').update(newZip).digest('base64'));
    const cfg = await h.lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: name, Timeout: 10, MemorySize: 256 }),
    );
    expect(cfg).toMatchObject({ Timeout: 10, MemorySize: 256 });
    expect(decode((await invoke(name)).Payload)).toEqual({});

    await h.lambda.send(new DeleteFunctionCommand({ FunctionName: name }));
    await expect(h.lambda.send(new GetFunctionCommand({ FunctionName: name }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('answers errors with AWS types, statuses and x-amzn-ErrorType', async () => {
    const missing = uniqueName('missing');
    const err = await h.lambda.send(new GetFunctionCommand({ FunctionName: missing })).catch((e) => e);
    expect(err).toBeInstanceOf(ResourceNotFoundException);
    expect(err.$metadata.httpStatusCode).toBe(404);
    expect(err.message).toContain(`function:${missing}`);

    const raw = await fetch(`${h.emulator.endpoint}/2015-03-31/functions/${missing}`);
    expect(raw.status).toBe(404);
    expect(raw.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
    expect(await raw.json()).toMatchObject({ Type: 'User', Message: expect.stringContaining('Function not found') });

    const badRole = await h.lambda
      .send(
        new CreateFunctionCommand({
          FunctionName: uniqueName('bad'),
          Runtime: 'nodejs22.x',
          Role: 'not-a-role',
          Handler: 'index.handler',
          Code: { ZipFile: zipHandler('echo.mjs', 'index.mjs') },
        }),
      )
      .catch((e) => e);
    // A value outside the model's pattern is the common ValidationException, as AWS and moto answer.
    expect(badRole.name).toBe('ValidationException');
    expect(badRole.$metadata.httpStatusCode).toBe(400);

    const badRuntime = await h.lambda
      .send(
        new CreateFunctionCommand({
          FunctionName: uniqueName('bad'),
          Runtime: 'python3.12',
          Role: ROLE,
          Handler: 'index.handler',
          Code: { ZipFile: zipHandler('echo.mjs', 'index.mjs') },
        }),
      )
      .catch((e) => e);
    expect(badRuntime).toBeInstanceOf(InvalidParameterValueException);

    const { name } = await createFunction('echo.mjs');
    const dup = await createFunction('echo.mjs', { name }).catch((e) => e);
    expect(dup).toBeInstanceOf(ResourceConflictException);
    expect(dup.$metadata.httpStatusCode).toBe(409);
  });

  it('publishes versions and routes aliases', async () => {
    const { name } = await createFunction('echo.mjs');
    const v1 = await h.lambda.send(new PublishVersionCommand({ FunctionName: name }));
    expect(v1.Version).toBe('1');
    expect(v1.FunctionArn).toBe(`arn:aws:lambda:us-east-1:000000000000:function:${name}:1`);
    // Nothing changed: AWS returns the same version.
    expect((await h.lambda.send(new PublishVersionCommand({ FunctionName: name }))).Version).toBe('1');
    await h.lambda.send(
      new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: zipHandler('empty.mjs', 'index.mjs') }),
    );
    const v2 = await h.lambda.send(new PublishVersionCommand({ FunctionName: name }));
    expect(v2.Version).toBe('2');
    const versions = await h.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: name }));
    expect(versions.Versions?.map((v) => v.Version)).toEqual(['$LATEST', '1', '2']);

    const alias = await h.lambda.send(
      new CreateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: '1' }),
    );
    expect(alias.AliasArn).toBe(`arn:aws:lambda:us-east-1:000000000000:function:${name}:live`);
    const r1 = await invoke(name, { x: 1 }, { Qualifier: 'live' });
    expect(r1.ExecutedVersion).toBe('1');
    expect((decode(r1.Payload) as { invokedFunctionArn: string }).invokedFunctionArn).toBe(alias.AliasArn);
    await h.lambda.send(new UpdateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: '2' }));
    expect((await h.lambda.send(new GetAliasCommand({ FunctionName: name, Name: 'live' }))).FunctionVersion).toBe('2');
    const r2 = await invoke(`${name}:live`);
    expect(r2.ExecutedVersion).toBe('2');
    expect(decode(r2.Payload)).toEqual({});
    expect((await h.lambda.send(new ListAliasesCommand({ FunctionName: name }))).Aliases?.map((a) => a.Name)).toEqual([
      'live',
    ]);
    await expect(
      h.lambda.send(new CreateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: '1' })),
    ).rejects.toBeInstanceOf(ResourceConflictException);
    await h.lambda.send(new DeleteAliasCommand({ FunctionName: name, Name: 'live' }));
    await expect(h.lambda.send(new GetAliasCommand({ FunctionName: name, Name: 'live' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    await expect(invoke(name, {}, { Qualifier: '9' })).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('invoke', () => {
  it('returns the handler payload with a Lambda-like context, environment and logs', async () => {
    const { name } = await createFunction('echo.mjs', { env: { GREETING: 'hello' } });
    const r = await invoke(name, { quake: 'M6.1' }, { LogType: 'Tail' });
    expect(r.StatusCode).toBe(200);
    expect(r.FunctionError).toBeUndefined();
    expect(r.ExecutedVersion).toBe('$LATEST');
    const body = decode(r.Payload) as {
      event: unknown;
      remaining: number;
      requestId: string;
      env: unknown;
      logStreamName: string;
    };
    expect(body.event).toEqual({ quake: 'M6.1' });
    expect(body).toMatchObject({
      functionName: name,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
      memoryLimitInMB: '128',
      logGroupName: `/aws/lambda/${name}`,
    });
    expect(body.remaining).toBeGreaterThan(2000);
    expect(body.remaining).toBeLessThanOrEqual(3000);
    expect(body.requestId).toBe(r.$metadata.requestId);
    expect(body.env).toMatchObject({
      AWS_REGION: 'us-east-1',
      AWS_LAMBDA_FUNCTION_NAME: name,
      AWS_ACCESS_KEY_ID: 'local',
      GREETING: 'hello',
      AWS_ENDPOINT_URL_LAMBDA: h.emulator.endpoint,
    });
    const log = tail(r.LogResult);
    expect(log).toContain(`START RequestId: ${body.requestId} Version: $LATEST`);
    expect(log).toMatch(/\tINFO\techo \{"quake":"M6.1"\}/);
    expect(log).toMatch(
      /REPORT RequestId: .*\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB/,
    );

    // The log file is an append stream flushed asynchronously: under load its REPORT line may land just after the
    // response, so it is awaited (briefly), not assumed.
    await vi.waitFor(
      () => {
        const file = readFileSync(logFilePath(h.stateDir, name), 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l));
        expect(
          file.some(
            (e) =>
              e.message.startsWith('REPORT') &&
              e.requestId === body.requestId &&
              e.logStreamName === body.logStreamName,
          ),
        ).toBe(true);
      },
      { timeout: 3000, interval: 50 },
    );
  });

  it('reports cold start as Init Duration once, then reuses the warm environment', async () => {
    const { name } = await createFunction('echo.mjs');
    const cold = await invoke(name, {}, { LogType: 'Tail' });
    const warm = await invoke(name, {}, { LogType: 'Tail' });
    const coldInit = /Init Duration: ([\d.]+) ms/.exec(tail(cold.LogResult));
    expect(coldInit).not.toBeNull();
    expect(Number(coldInit![1])).toBeGreaterThan(0);
    expect(tail(warm.LogResult)).not.toContain('Init Duration');
    expect((decode(warm.Payload) as { pid: number }).pid).toBe((decode(cold.Payload) as { pid: number }).pid);
    const duration = (t: string) => Number(/\tDuration: ([\d.]+) ms/.exec(t)![1]);
    console.log(
      `cold: Init Duration ${coldInit![1]} ms + Duration ${duration(tail(cold.LogResult))} ms; warm: Duration ${duration(tail(warm.LogResult))} ms`,
    );
  });

  it('gives FunctionError Unhandled with AWS error JSON when the handler throws', async () => {
    const { name } = await createFunction('fail.mjs');
    const r = await invoke(name);
    expect(r.StatusCode).toBe(200);
    expect(r.FunctionError).toBe('Unhandled');
    const err = decode(r.Payload) as { errorType: string; errorMessage: string; trace: string[] };
    expect(err.errorType).toBe('TypeError');
    expect(err.errorMessage).toBe('boom from fail handler');
    expect(err.trace[0]).toContain('TypeError: boom from fail handler');
  });

  it('answers DryRun with 204 and rejects a non-JSON payload', async () => {
    const { name } = await createFunction('echo.mjs');
    const r = await h.lambda.send(new InvokeCommand({ FunctionName: name, InvocationType: 'DryRun' }));
    expect(r.StatusCode).toBe(204);
    const bad = await h.lambda
      .send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from('{nope') }))
      .catch((e) => e);
    expect(bad.name).toBe('InvalidRequestContentException');
    expect(bad.$metadata.httpStatusCode).toBe(400);
  });

  it('kills the environment on timeout with AWS message, then cold-starts a new one', async () => {
    const { name } = await createFunction('sleep.mjs', { timeout: 1 });
    const r = await invoke(name, { ms: 3000 }, { LogType: 'Tail' });
    expect(r.FunctionError).toBe('Unhandled');
    const err = decode(r.Payload) as { errorType: string; errorMessage: string };
    expect(err.errorType).toBe('Sandbox.Timedout');
    expect(err.errorMessage).toMatch(/Task timed out after 1\.00 seconds/);
    const next = await invoke(name, { ms: 10 }, { LogType: 'Tail' });
    expect(next.FunctionError).toBeUndefined();
    expect(tail(next.LogResult)).toContain('Init Duration');
  });

  it('replaces a crashed environment', async () => {
    const { name } = await createFunction('crash.mjs');
    const r = await invoke(name);
    expect(r.FunctionError).toBe('Unhandled');
    expect((decode(r.Payload) as { errorType: string }).errorType).toBe('Runtime.ExitError');
    const again = await invoke(name, {}, { LogType: 'Tail' });
    expect(tail(again.LogResult)).toContain('Init Duration');
  });

  it('caps the heap from MemorySize: an allocation past it kills the environment as Runtime.OutOfMemory', async () => {
    const { name } = await createFunction('hog.mjs', { timeout: 60 });
    const r = await invoke(name);
    expect(r.FunctionError).toBe('Unhandled');
    expect((decode(r.Payload) as { errorType: string }).errorType).toBe('Runtime.OutOfMemory');
  });

  it('runs CommonJS callback handlers and lets functions import the AWS SDK unbundled', async () => {
    const { name } = await createFunction('legacy.js', { entry: 'lib/legacy.js', handler: 'lib/legacy.handler' });
    expect(decode((await invoke(name, { a: 1 })).Payload)).toEqual({ cjs: true, got: { a: 1 }, name });
    const sdk = await createFunction('sdk.mjs', { env: {} });
    const r = await invoke(sdk.name);
    expect(r.FunctionError).toBeUndefined();
    expect(decode(r.Payload)).toMatchObject({ sdk: 'function' });
    const esmJs = await createFunction('echo.mjs', {
      entry: 'index.js',
      extra: { 'package.json': '{"type":"module"}' },
    });
    expect((await invoke(esmJs.name)).FunctionError).toBeUndefined();
  });

  it('reports a missing handler export as Runtime.HandlerNotFound', async () => {
    const { name } = await createFunction('echo.mjs', { handler: 'index.nothere' });
    const r = await invoke(name);
    expect(r.FunctionError).toBe('Unhandled');
    expect((decode(r.Payload) as { errorType: string }).errorType).toBe('Runtime.HandlerNotFound');
  });
});

describe('concurrency', () => {
  it('throttles invocations over reserved concurrency with 429 and Reason', async () => {
    const { name } = await createFunction('sleep.mjs');
    const put = await h.lambda.send(
      new PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: 1 }),
    );
    expect(put.ReservedConcurrentExecutions).toBe(1);
    expect(
      (await h.lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: name }))).ReservedConcurrentExecutions,
    ).toBe(1);
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => invoke(name, { ms: 1000 })));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const throttled = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason);
    expect(ok).toHaveLength(1);
    expect(throttled).toHaveLength(4);
    for (const e of throttled) {
      expect(e).toBeInstanceOf(TooManyRequestsException);
      expect(e.$metadata.httpStatusCode).toBe(429);
      expect(e.Reason).toBe('ReservedFunctionConcurrentInvocationLimitExceeded');
      expect(e.message).toBe('Rate Exceeded.');
    }
  });

  it('throttles everything at reserved 0 and restores on delete', async () => {
    const { name } = await createFunction('echo.mjs');
    await h.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: 0 }));
    await expect(invoke(name)).rejects.toBeInstanceOf(TooManyRequestsException);
    await h.lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: name }));
    expect(await h.lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: name }))).not.toHaveProperty(
      'ReservedConcurrentExecutions',
    );
    expect((await invoke(name)).StatusCode).toBe(200);
  });

  it('reports account settings and refuses reservations leaving fewer than 100 unreserved', async () => {
    const before = await h.lambda.send(new GetAccountSettingsCommand({}));
    expect(before.AccountLimit?.ConcurrentExecutions).toBe(1000);
    const { name } = await createFunction('echo.mjs');
    const free = before.AccountLimit!.UnreservedConcurrentExecutions!;
    const err = await h.lambda
      .send(new PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: free - 99 }))
      .catch((e) => e);
    expect(err).toBeInstanceOf(InvalidParameterValueException);
    expect(err.message).toContain('minimum value of [100]');
    await h.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: 50 }));
    const after = await h.lambda.send(new GetAccountSettingsCommand({}));
    expect(after.AccountLimit?.UnreservedConcurrentExecutions).toBe(free - 50);
    await h.lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: name }));
  });

  it('provisions concurrency IN_PROGRESS then READY, and provisioned invocations report no Init Duration', async () => {
    const { name } = await createFunction('echo.mjs');
    await expect(
      h.lambda.send(
        new PutProvisionedConcurrencyConfigCommand({
          FunctionName: name,
          Qualifier: '$LATEST',
          ProvisionedConcurrentExecutions: 1,
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidParameterValueException);
    const put = await provisionLive(name, 2);
    expect(put.$metadata.httpStatusCode).toBe(202);
    expect(put.Status).toBe('IN_PROGRESS');
    let status = put.Status;
    for (let i = 0; i < 100 && status !== 'READY'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = (
        await h.lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: name, Qualifier: 'live' }))
      ).Status;
    }
    expect(status).toBe('READY');
    const got = await h.lambda.send(
      new GetProvisionedConcurrencyConfigCommand({ FunctionName: name, Qualifier: 'live' }),
    );
    expect(got).toMatchObject({
      RequestedProvisionedConcurrentExecutions: 2,
      AllocatedProvisionedConcurrentExecutions: 2,
      AvailableProvisionedConcurrentExecutions: 2,
    });
    const list = await h.lambda.send(new ListProvisionedConcurrencyConfigsCommand({ FunctionName: name }));
    expect(list.ProvisionedConcurrencyConfigs?.[0].FunctionArn).toBe(
      `arn:aws:lambda:us-east-1:000000000000:function:${name}:live`,
    );
    const r = await invoke(name, {}, { Qualifier: 'live', LogType: 'Tail' });
    expect(tail(r.LogResult)).not.toContain('Init Duration');
    expect((decode(r.Payload) as { env: Record<string, string> }).env.AWS_LAMBDA_INITIALIZATION_TYPE).toBe(
      'provisioned-concurrency',
    );
    await h.lambda.send(new DeleteProvisionedConcurrencyConfigCommand({ FunctionName: name, Qualifier: 'live' }));
    const gone = await h.lambda
      .send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: name, Qualifier: 'live' }))
      .catch((e) => e);
    expect(gone.name).toBe('ProvisionedConcurrencyConfigNotFoundException');
    expect(gone.$metadata.httpStatusCode).toBe(404);
  });

  it('a config deleted while its environments initialise deallocates them: the next invoke is an on-demand cold start', async () => {
    const { name } = await createFunction('echo.mjs');
    const put = await provisionLive(name, 2);
    expect(put.Status).toBe('IN_PROGRESS');
    await h.lambda.send(new DeleteProvisionedConcurrencyConfigCommand({ FunctionName: name, Qualifier: 'live' }));
    // Long enough for the two environments to have finished initialising had they been left running.
    await new Promise((r) => setTimeout(r, 2000));
    const r = await invoke(name, {}, { Qualifier: 'live', LogType: 'Tail' });
    expect((decode(r.Payload) as { env: Record<string, string> }).env.AWS_LAMBDA_INITIALIZATION_TYPE).toBe('on-demand');
    expect(tail(r.LogResult)).toContain('Init Duration');
  });
});

describe('event invoke config', () => {
  it('puts, updates, gets, lists and deletes with AWS validation', async () => {
    const { name } = await createFunction('echo.mjs');
    const dest = 'arn:aws:sqs:us-east-1:000000000000:some-queue';
    const put = await h.lambda.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: name,
        MaximumRetryAttempts: 1,
        MaximumEventAgeInSeconds: 120,
        DestinationConfig: { OnFailure: { Destination: dest } },
      }),
    );
    expect(put.FunctionArn).toBe(`arn:aws:lambda:us-east-1:000000000000:function:${name}:$LATEST`);
    expect(put.LastModified).toBeInstanceOf(Date);
    expect(put.DestinationConfig?.OnFailure?.Destination).toBe(dest);
    const upd = await h.lambda.send(
      new UpdateFunctionEventInvokeConfigCommand({ FunctionName: name, MaximumRetryAttempts: 0 }),
    );
    expect(upd).toMatchObject({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 120 });
    expect(
      (await h.lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: name }))).MaximumRetryAttempts,
    ).toBe(0);
    expect(
      (await h.lambda.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: name })))
        .FunctionEventInvokeConfigs,
    ).toHaveLength(1);
    await expect(
      h.lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: name, MaximumRetryAttempts: 3 })),
    ).rejects.toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    await h.lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: name }));
    await expect(h.lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: name }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });
});
