/**
 * The Node services of the stack: dynalite (DynamoDB), the CAP feed (local/cap-server.ts) and the project's Lambda
 * emulator (local/lambda/main.ts, written separately; started only when it exists). All run under the same Node binary
 * as the CLI.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnDetached } from './processes.ts';

export const LAMBDA_MAIN = fileURLToPath(new URL('../lambda/main.ts', import.meta.url));

export function dynaliteCli(): string {
  const require = createRequire(import.meta.url);
  return join(require.resolve('dynalite/package.json'), '..', 'cli.js');
}

export function dynaliteArgs(o: { port: number; dataDir?: string; host?: string }): string[] {
  return [
    dynaliteCli(),
    '--host',
    o.host ?? '127.0.0.1',
    '--port',
    String(o.port),
    // Tables become ACTIVE after 50 ms instead of 500: callers still have to wait, tests just wait less.
    '--createTableMs',
    '50',
    '--deleteTableMs',
    '50',
    '--updateTableMs',
    '50',
    ...(o.dataDir ? ['--path', o.dataDir] : []),
  ];
}

export function startDynalite(l: { log: string; port: number; dataDir?: string }) {
  if (l.dataDir) mkdirSync(l.dataDir, { recursive: true });
  return spawnDetached(process.execPath, dynaliteArgs(l), { log: l.log });
}

export function lambdaEmulatorAvailable(): boolean {
  return existsSync(LAMBDA_MAIN);
}

export interface LambdaLaunch {
  log: string;
  port: number;
  stateDir: string;
  sqsEndpoint: string;
  dynamodbEndpoint: string;
  kafkaBrokers: string[];
  timeScale?: number;
}

export function lambdaArgs(l: LambdaLaunch): string[] {
  const strip = process.features.typescript
    ? []
    : ['--experimental-strip-types', '--disable-warning=ExperimentalWarning'];
  return [
    ...strip,
    LAMBDA_MAIN,
    '--port',
    String(l.port),
    '--state-dir',
    l.stateDir,
    '--sqs-endpoint',
    l.sqsEndpoint,
    '--dynamodb-endpoint',
    l.dynamodbEndpoint,
    '--kafka-brokers',
    l.kafkaBrokers.join(','),
    ...(l.timeScale !== undefined ? ['--time-scale', String(l.timeScale)] : []),
  ];
}

export function startLambda(l: LambdaLaunch) {
  return spawnDetached(process.execPath, lambdaArgs(l), { log: l.log });
}

export const CAP_SERVER_MAIN = fileURLToPath(new URL('../cap-server.ts', import.meta.url));

/** The CAP feed (local/cap-server.ts) serving `dir` on loopback. */
export function startCapServer(l: { log: string; port: number; dir: string }) {
  mkdirSync(l.dir, { recursive: true });
  const strip = process.features.typescript
    ? []
    : ['--experimental-strip-types', '--disable-warning=ExperimentalWarning'];
  return spawnDetached(process.execPath, [...strip, CAP_SERVER_MAIN, '--port', String(l.port), '--dir', l.dir], {
    log: l.log,
  });
}
