/**
 * The same Lambda calls against moto and against the project's emulator (the local stack's): where both implement an
 * operation, their answers must agree. A disagreement means one of them departs from AWS; the AWS reference decides
 * which (docs/lambda-emulator.md), and the emulator is fixed when it is the one.
 */
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetAliasCommand,
  GetFunctionCommand,
  LambdaClient,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  PutFunctionEventInvokeConfigCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { uniqueName } from '../helpers/stack.ts';

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const moto = inject('moto').endpoint;
const emulator = inject('localStack').lambda?.endpoint;
if (!emulator) throw new Error('the local stack has no Lambda emulator endpoint');

const targets = {
  moto: new LambdaClient({ region: REGION, endpoint: moto, credentials: CREDENTIALS, maxAttempts: 1 }),
  emulator: new LambdaClient({ region: REGION, endpoint: emulator, credentials: CREDENTIALS, maxAttempts: 1 }),
};
const ZIP = zipSync({
  'index.mjs': [Buffer.from('export const handler = async () => ({ ok: true });\n'), { mtime: new Date('1980-01-01') }],
});
const created: [keyof typeof targets, string][] = [];
let role: string;

beforeAll(async () => {
  // moto needs the role to exist; the emulator checks its form only. The same ARN serves both.
  const iam = new IAMClient({ region: REGION, endpoint: moto, credentials: CREDENTIALS });
  role = (
    await iam.send(new CreateRoleCommand({ RoleName: uniqueName('same-answers'), AssumeRolePolicyDocument: '{}' }))
  ).Role!.Arn!;
  iam.destroy();
});

afterAll(async () => {
  for (const [t, name] of created)
    await targets[t].send(new DeleteFunctionCommand({ FunctionName: name })).catch(() => {});
  for (const c of Object.values(targets)) c.destroy();
});

async function fn(t: keyof typeof targets): Promise<string> {
  const name = uniqueName('same');
  await targets[t].send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs24.x',
      Role: role,
      Handler: 'index.handler',
      Code: { ZipFile: ZIP },
      Environment: { Variables: { V: '1' } },
    }),
  );
  created.push([t, name]);
  return name;
}

/** The error's name and HTTP status, or 'ok'. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    return `${e.name} ${e.$metadata?.httpStatusCode}`;
  }
}

describe.each(Object.keys(targets) as (keyof typeof targets)[])('%s', (t) => {
  const lambda = targets[t];

  it('event invoke config: MaximumRetryAttempts above 2 is a ValidationException (400)', async () => {
    const name = await fn(t);
    expect(
      await outcome(
        lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: name, MaximumRetryAttempts: 3 })),
      ),
    ).toBe('ValidationException 400');
    expect(
      await outcome(
        lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: name, MaximumRetryAttempts: 2 })),
      ),
    ).toBe('ok');
  });

  it('PublishVersion: a new version after a change, the same one when nothing changed', async () => {
    const name = await fn(t);
    const v1 = await lambda.send(new PublishVersionCommand({ FunctionName: name }));
    const again = await lambda.send(new PublishVersionCommand({ FunctionName: name }));
    expect(again.Version).toBe(v1.Version);
    await lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: name, Environment: { Variables: { V: '2' } } }),
    );
    const v2 = await lambda.send(new PublishVersionCommand({ FunctionName: name }));
    expect(Number(v2.Version)).toBe(Number(v1.Version) + 1);
  });

  it('alias: created on a version, read back with its ARN; reserved concurrency shows in GetFunction', async () => {
    const name = await fn(t);
    const v = await lambda.send(new PublishVersionCommand({ FunctionName: name }));
    await lambda.send(new CreateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: v.Version }));
    const alias = await lambda.send(new GetAliasCommand({ FunctionName: name, Name: 'live' }));
    expect(alias).toMatchObject({ Name: 'live', FunctionVersion: v.Version });
    expect(alias.AliasArn).toMatch(new RegExp(`:function:${name}:live$`));
    await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: 3 }));
    expect((await lambda.send(new GetFunctionCommand({ FunctionName: name }))).Concurrency).toEqual({
      ReservedConcurrentExecutions: 3,
    });
  });

  it('an unknown function is ResourceNotFoundException (404)', async () => {
    expect(await outcome(lambda.send(new GetFunctionCommand({ FunctionName: uniqueName('missing') })))).toBe(
      'ResourceNotFoundException 404',
    );
  });
});
