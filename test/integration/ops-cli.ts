/** Runs the real `bin/quakectl` as an operator (or CI) would: stdin is a pipe, never a TTY. */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteFunctionCommand,
  type LambdaClient,
  PublishVersionCommand,
} from '@aws-sdk/client-lambda';
import { zipSync } from 'fflate';
import { stringify } from 'yaml';

const BIN = fileURLToPath(new URL('../../bin/quakectl', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

export async function runJson<T = unknown>(args: string[], opts?: { env?: NodeJS.ProcessEnv }): Promise<T> {
  const r = await runCli([...args, '-o', 'json'], opts);
  if (r.code !== 0) throw new Error(`quakectl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

export const TEST_ROLE = 'arn:aws:iam::000000000000:role/quakectl-ops-test';

/** A deployment zip with `source` as index.mjs (fixed dates: stable CodeSha256). */
export function zipSource(source: string): Uint8Array {
  return zipSync({ 'index.mjs': [Buffer.from(source), { mtime: new Date('1980-01-01T00:00:00Z') }] });
}

/** Creates a function in the shared emulator, published with the alias `live` (provisioned concurrency needs one). */
export async function createTestFunction(
  lambda: LambdaClient,
  name: string,
  source: string,
  env: Record<string, string> = {},
): Promise<void> {
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs24.x',
      Role: TEST_ROLE,
      Handler: 'index.handler',
      Code: { ZipFile: zipSource(source) },
      Timeout: 30,
      Environment: { Variables: env },
    }),
  );
  const v = await lambda.send(new PublishVersionCommand({ FunctionName: name }));
  await lambda.send(new CreateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: v.Version }));
}

export async function deleteTestFunctions(lambda: LambdaClient, names: string[]): Promise<void> {
  for (const n of names) await lambda.send(new DeleteFunctionCommand({ FunctionName: n })).catch(() => {});
}

/** A config file with one local profile `t` using `prefix`: pass `['--config', file, '--profile', 't']`. */
export function profileArgs(prefix: string, extra: Record<string, unknown> = {}): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'quakectl-ops-'));
  const file = join(dir, 'quakectl.config.yaml');
  writeFileSync(file, stringify({ profiles: { t: { type: 'local', prefix, ...extra } } }));
  return ['--config', file, '--profile', 't'];
}
