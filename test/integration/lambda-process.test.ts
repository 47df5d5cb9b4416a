/**
 * The emulator as `quakectl local up` runs it: `node local/lambda/main.ts …` in its own process, ready when
 * GetAccountSettings answers, and closing cleanly on SIGTERM (exit 0, execution environments killed).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateFunctionCommand, GetAccountSettingsCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS } from '../../shared/infra/clients.ts';
import { decode, ROLE, zipHandler } from '../fixtures/lambda/harness.ts';
import { localStack } from '../helpers/stack.ts';

const stateDir = mkdtempSync(join(tmpdir(), 'quakectl-lambda-main-'));
let proc: ChildProcess | undefined;

afterAll(() => {
  if (proc && proc.exitCode === null) proc.kill('SIGKILL');
  rmSync(stateDir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('local/lambda/main.ts', () => {
  it('serves the API until SIGTERM, then exits 0 and kills its environments', async () => {
    const stack = localStack();
    proc = spawn(
      process.execPath,
      [
        'local/lambda/main.ts',
        '--port',
        '0',
        '--state-dir',
        stateDir,
        '--sqs-endpoint',
        stack.sqs.endpoint,
        '--dynamodb-endpoint',
        stack.dynamodb.endpoint,
        '--kafka-brokers',
        stack.kafka.brokers.join(','),
        '--time-scale',
        '0.01',
        '--account-concurrency',
        '500',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const endpoint = await new Promise<string>((resolve, reject) => {
      let out = '';
      proc!.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      proc!.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    const lambda = new LambdaClient({ region: 'us-east-1', endpoint, credentials: LOCAL_CREDENTIALS });
    const settings = await lambda.send(new GetAccountSettingsCommand({}));
    expect(settings.AccountLimit?.ConcurrentExecutions).toBe(500);
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'main-echo',
        Runtime: 'nodejs22.x',
        Role: ROLE,
        Handler: 'index.handler',
        Code: { ZipFile: zipHandler('echo.mjs', 'index.mjs') },
      }),
    );
    const r = await lambda.send(new InvokeCommand({ FunctionName: 'main-echo', Payload: Buffer.from('{}') }));
    const body = decode(r.Payload) as { pid: number; env: { AWS_ENDPOINT_URL_SQS: string } };
    expect(body.env.AWS_ENDPOINT_URL_SQS).toBe(stack.sqs.endpoint);
    expect(alive(body.pid)).toBe(true);
    lambda.destroy();

    const exit = new Promise<number | null>((resolve) => proc!.once('exit', (code) => resolve(code)));
    proc.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(alive(body.pid)).toBe(false);
  });
});
