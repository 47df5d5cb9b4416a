/**
 * `quakectl logs` on the local profile reads the emulator's log files (local/lambda/logging.ts format); with
 * --follow it prints new lines as they come. The same lines give the concurrent executions the provisioned
 * concurrency rule tracks (`scale plan`).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resourceNames } from '../../shared/infra/names.ts';
import type { LogLine } from '../../shared/ops/logs/types.ts';
import type { Decision } from '../../shared/scaling/engine.ts';
import { localClients, uniqueName } from '../helpers/stack.ts';
import { createTestFunction, deleteTestFunctions, profileArgs, runCli, runJson } from './ops-cli.ts';

const clients = localClients();
const prefix = uniqueName('opslog');
const names = resourceNames(prefix);
const P = profileArgs(prefix);
const fn = names.function('producer');

const HANDLER = `
export const handler = async (event) => {
  console.log('hello ops', JSON.stringify(event));
  if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
  return { ok: true };
};`;

const invoke = (payload: unknown) =>
  clients.lambda.send(new InvokeCommand({ FunctionName: fn, Payload: Buffer.from(JSON.stringify(payload)) }));

beforeAll(async () => {
  await createTestFunction(clients.lambda, fn, HANDLER);
});

afterAll(async () => {
  await deleteTestFunctions(clients.lambda, [fn]);
  clients.destroy();
});

describe('quakectl logs', () => {
  it('refuses a function that is neither a role nor deployed (a typo printed nothing and exited 0)', async () => {
    const r = await runCli([...P, 'logs', `${prefix}-produser`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown function ".*-produser": name a role/);
  });

  it('prints the function’s lines by role, filtered by request id', async () => {
    const a = await invoke({ n: 1 });
    await invoke({ n: 2 });
    expect(a.FunctionError).toBeUndefined();
    const r = await runCli([...P, 'logs', 'producer', '--since', '5m', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as LogLine);
    const messages = lines.map((l) => l.message);
    expect(messages.filter((m) => m.startsWith('START RequestId:'))).toHaveLength(2);
    expect(messages.filter((m) => m.startsWith('REPORT RequestId:'))).toHaveLength(2);
    expect(messages.filter((m) => m.includes('hello ops {"n":2}'))).toHaveLength(1);

    const requestId = lines.find((l) => l.message.includes('hello ops {"n":1}'))?.requestId;
    expect(requestId).toBeTruthy();
    const one = await runCli([...P, 'logs', 'producer', '--since', '5m', '--request', requestId ?? '']);
    expect(one.stdout).toContain('hello ops {"n":1}');
    expect(one.stdout).not.toContain('hello ops {"n":2}');
    expect(one.stdout).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z START RequestId: /m);
  });

  it('--follow prints lines of later invocations until interrupted', async () => {
    const bin = fileURLToPath(new URL('../../bin/quakectl', import.meta.url));
    const child = spawn(process.execPath, [bin, ...P, 'logs', fn, '--follow', '--since', '1s'], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await new Promise((r) => setTimeout(r, 1500));
    await invoke({ followed: true });
    const deadline = Date.now() + 20_000;
    while (!out.includes('hello ops {"followed":true}')) {
      if (Date.now() > deadline) throw new Error(`follow printed nothing new: ${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});

describe('provisioned concurrency from utilisation', () => {
  it('scale plan tracks the concurrent executions seen in the logs', async () => {
    await Promise.all([invoke({ sleepMs: 1500 }), invoke({ sleepMs: 1500 }), invoke({ sleepMs: 1500 })]);
    const rules = join(tmpdir(), `${prefix}-pc.yaml`);
    writeFileSync(rules, 'version: 1\nprovisioned:\n  - function: producer\n    targetUtilization: 0.5\n    max: 20\n');
    const plan = await runJson<{ decisions: Decision[] }>([...P, 'scale', 'plan', '--rules', rules]);
    // 3 at once in the last minute, target 0.5 → 6.
    expect(plan.decisions[0]).toMatchObject({ target: 'provisioned', current: null, desired: 6, action: 'set' });
    expect(plan.decisions[0].metrics).toMatchObject({ inUse: 3, targetUtilization: 0.5 });
  });
});
