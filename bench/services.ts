/**
 * The services a benchmark starts for itself and nothing else: dynalite (DynamoDB) and ElasticMQ (SQS, for the
 * delivery DLQ), each on a free loopback port, each behind bench/guard.ts so it stops when the benchmark exits for
 * any reason (normal end, thrown error, SIGINT/SIGTERM, or SIGKILL, which only the guard's IPC channel notices).
 * No shared local stack is needed or touched.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ELASTICMQ_MAIN, elasticmqArtifact, renderElasticmqConfig } from '../local/stack/elasticmq.ts';
import { ensureArtifact } from '../local/stack/maven.ts';
import { dynaliteArgs } from '../local/stack/node-services.ts';
import { freePort } from '../local/stack/ports.ts';
import { requireJava } from '../local/stack/prereqs.ts';
import { cacheDir } from '../shared/infra/config.ts';

const GUARD = fileURLToPath(new URL('./guard.ts', import.meta.url));

export interface Service {
  endpoint: string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
let handlersInstalled = false;

/** Stops every service still running (SIGTERM to each guard, which stops its command). Idempotent. */
export function stopAll(): void {
  for (const c of running) c.kill('SIGTERM');
  running.clear();
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.once('exit', stopAll);
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(s, () => {
      process.stderr.write(`\n${s}: stopping the benchmark's services\n`);
      stopAll();
      process.exit(130);
    });
  }
}

async function guarded(
  command: string,
  args: string[],
  endpoint: string,
  what: string,
  scratch?: string,
): Promise<Service> {
  installHandlers();
  const child = spawn(process.execPath, [GUARD, command, ...args], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: scratch ? { ...process.env, QUAKECTL_GUARD_RM: scratch } : process.env,
  });
  running.add(child);
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr = (stderr + d).slice(-2000);
  });
  let exited = false;
  const gone = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      running.delete(child);
      resolve();
    }),
  );
  const stop = async () => {
    if (!exited) child.kill('SIGTERM');
    await gone;
  };
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    if (exited) throw new Error(`${what} exited at start: ${stderr.trim() || 'no output'}`);
    try {
      await fetch(endpoint, { method: 'POST', signal: AbortSignal.timeout(1000) });
      return { endpoint, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await stop();
  throw new Error(`${what} did not answer on ${endpoint} within 60 s`);
}

/** dynalite in memory on a free port (tables ACTIVE after 50 ms). */
export async function startDynalite(): Promise<Service> {
  const port = await freePort();
  return guarded(process.execPath, dynaliteArgs({ port }), `http://127.0.0.1:${port}`, 'dynalite');
}

/** ElasticMQ in memory on a free port, from the jars `quakectl local up` caches (fetched with Maven if absent). */
export async function startSqs(): Promise<Service> {
  const java = requireJava();
  const lib = await ensureArtifact(cacheDir(), elasticmqArtifact());
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'quakectl-bench-sqs-'));
  const conf = join(dir, 'elasticmq.conf');
  writeFileSync(conf, renderElasticmqConfig({ port }));
  const args = ['-Xms64m', '-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', `-Dconfig.file=${conf}`];
  // The guard removes the config directory when ElasticMQ has exited, however the benchmark ended.
  return guarded(java, [...args, '-cp', join(lib, '*'), ELASTICMQ_MAIN], `http://127.0.0.1:${port}`, 'ElasticMQ', dir);
}
