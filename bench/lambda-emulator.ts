/**
 * Benchmark of the local Lambda emulator: the overhead of a warm synchronous invoke of an empty handler (client-side
 * latency through @aws-sdk/client-lambda, p50/p99 over N invokes) and cold start (first invoke of a new environment:
 * client latency and the Init Duration the REPORT line gives). The emulator runs in this process on a free port.
 *
 *   node bench/lambda-emulator.ts [--invokes 1000] [--cold 10]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CreateFunctionCommand,
  InvokeCommand,
  LambdaClient,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { zipSync } from 'fflate';
import { startEmulator } from '../local/lambda/emulator.ts';
import { LOCAL_CREDENTIALS } from '../shared/infra/clients.ts';

const { values } = parseArgs({
  options: { invokes: { type: 'string', default: '1000' }, cold: { type: 'string', default: '10' } },
});
const invokes = Number(values.invokes);
const colds = Number(values.cold);

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return `p50 ${pct(s, 50).toFixed(2)} ms, p99 ${pct(s, 99).toFixed(2)} ms, mean ${mean.toFixed(2)} ms, max ${s[s.length - 1].toFixed(2)} ms (n=${s.length})`;
}

const stateDir = mkdtempSync(join(tmpdir(), 'quakectl-lambda-bench-'));
const emulator = await startEmulator({ stateDir });
const lambda = new LambdaClient({
  region: 'us-east-1',
  endpoint: emulator.endpoint,
  credentials: LOCAL_CREDENTIALS,
  maxAttempts: 1,
});
try {
  const handler = readFileSync(new URL('../test/fixtures/lambda/empty.mjs', import.meta.url));
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'bench-empty',
      Runtime: 'nodejs24.x',
      Role: 'arn:aws:iam::000000000000:role/bench',
      Handler: 'index.handler',
      Code: { ZipFile: zipSync({ 'index.mjs': handler }) },
    }),
  );
  const payload = Buffer.from('{}');

  const coldClient: number[] = [];
  const coldInit: number[] = [];
  for (let i = 0; i < colds; i++) {
    // A configuration change retires the warm environment: the next invoke is a cold start.
    await lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: 'bench-empty', Description: `cold ${i}` }),
    );
    const t = performance.now();
    const r = await lambda.send(new InvokeCommand({ FunctionName: 'bench-empty', Payload: payload, LogType: 'Tail' }));
    coldClient.push(performance.now() - t);
    const init = /Init Duration: ([\d.]+) ms/.exec(Buffer.from(r.LogResult ?? '', 'base64').toString());
    if (init) coldInit.push(Number(init[1]));
  }

  for (let i = 0; i < 50; i++) await lambda.send(new InvokeCommand({ FunctionName: 'bench-empty', Payload: payload }));
  const warm: number[] = [];
  for (let i = 0; i < invokes; i++) {
    const t = performance.now();
    await lambda.send(new InvokeCommand({ FunctionName: 'bench-empty', Payload: payload }));
    warm.push(performance.now() - t);
  }

  console.log(`command: node bench/lambda-emulator.ts --invokes ${invokes} --cold ${colds}`);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`);
  console.log(`warm sync invoke, empty handler (client latency): ${summary(warm)}`);
  console.log(`cold start, client latency of the first invoke: ${summary(coldClient)}`);
  console.log(`cold start, Init Duration reported (process start + module init): ${summary(coldInit)}`);
} finally {
  lambda.destroy();
  await emulator.close();
  rmSync(stateDir, { recursive: true, force: true });
}
