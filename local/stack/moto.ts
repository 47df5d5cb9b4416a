/**
 * moto server: an independent implementation of the AWS APIs (PyPI `moto[server]`, pinned in
 * scripts/python-requirements.txt), started from the project's own Python virtual environment on a free loopback
 * port, awaited until it answers, and stopped by the PID it was started with (never by name).
 *
 * One moto process serves every AWS service on one endpoint (it routes by the request's signing scope), so a test
 * points each SDK client (Lambda, SQS, DynamoDB, EventBridge, Secrets Manager, SNS, SES, IAM…) at the same URL.
 * `reset()` clears all of moto's state (POST /moto-api/reset) between test files that share a server.
 *
 * Errors: `MotoStartError` when the environment cannot be built, the process exits early, or it does not answer
 * within the timeout (the message ends with the tail of its log).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort, LOCAL_HOST, sleep } from './ports.ts';
import { isAlive, type Spawned, spawnDetached, stopGroup } from './processes.ts';

const run = promisify(execFile);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The installer: idempotent, prints the environment's directory on its last line (see the script's header). */
export const PYTHON_ENV_SCRIPT = join(repoRoot, 'scripts', 'python-env.sh');

export class MotoStartError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MotoStartError';
  }
}

export interface MotoServer {
  /** `http://127.0.0.1:<port>`: the endpoint for every AWS client. */
  endpoint: string;
  port: number;
  pid: number;
  /** moto's own log (stdout and stderr), kept after stop for a failing test to show. */
  log: string;
  /** Clears every service's state. */
  reset(): Promise<void>;
  /** SIGTERM to the process group started here, SIGKILL after a grace period; idempotent. */
  stop(): Promise<void>;
}

export interface StartMotoOptions {
  /** A ready virtual environment (its directory); default: built or reused by scripts/python-env.sh. */
  venv?: string;
  port?: number;
  /** Where the log goes; default a fresh temporary directory. */
  logDir?: string;
  /** How long to wait for the first answer (moto imports every service's module at start: seconds). */
  timeoutMs?: number;
}

/** Runs the installer (a no-op when the pinned environment exists) and returns the environment's directory. */
export async function ensurePythonEnv(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  try {
    const { stdout } = await run('bash', [PYTHON_ENV_SCRIPT], { env, maxBuffer: 16 * 1024 * 1024 });
    const lines = stdout.trim().split('\n');
    return lines[lines.length - 1];
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new MotoStartError(`${PYTHON_ENV_SCRIPT} failed: ${e.stderr?.trim() || e.message}`, { cause: err });
  }
}

/** What identifies a moto server in its command line (with its port: `local down` stops only its own). */
export const MOTO_MAIN = 'moto_server';

/** Starts `moto_server` from `venv` on loopback `port`, its output appended to `log`; does not wait for it. */
export function spawnMotoServer(o: { venv: string; port: number; log: string }): Spawned {
  return spawnDetached(join(o.venv, 'bin', MOTO_MAIN), ['-H', LOCAL_HOST, '-p', String(o.port)], {
    log: o.log,
    // Region and credentials are the client's business; moto needs none of the caller's AWS settings.
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8' },
  });
}

export async function startMoto(opts: StartMotoOptions = {}): Promise<MotoServer> {
  const venv = opts.venv ?? (await ensurePythonEnv());
  const port = opts.port ?? (await freePort());
  const logDir = opts.logDir ?? mkdtempSync(join(tmpdir(), 'quakectl-moto-'));
  const log = join(logDir, 'moto.log');
  const endpoint = `http://${LOCAL_HOST}:${port}`;
  const spawned = spawnMotoServer({ venv, port, log });
  let exitCode: number | null | undefined;
  void spawned.exited.then((c) => {
    exitCode = c;
  });
  const stop = async () => {
    if (isAlive(spawned.pid)) await stopGroup(spawned.pid, 5000);
    if (!opts.logDir) rmSync(logDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    if (exitCode !== undefined) {
      const tail = readTail(log);
      await stop();
      throw new MotoStartError(`moto_server exited with ${exitCode} before answering:\n${tail}`);
    }
    if (await answers(endpoint)) break;
    if (Date.now() > deadline) {
      const tail = readTail(log);
      await stop();
      throw new MotoStartError(
        `moto_server did not answer on ${endpoint} within ${opts.timeoutMs ?? 60_000} ms:\n${tail}`,
      );
    }
    await sleep(200);
  }
  return {
    endpoint,
    port,
    pid: spawned.pid,
    log,
    async reset() {
      const r = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!r.ok) throw new MotoStartError(`moto reset answered ${r.status}`);
    },
    stop,
  };
}

/** moto's own API answers once every service is loaded. */
async function answers(endpoint: string): Promise<boolean> {
  try {
    const r = await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(2000) });
    await r.body?.cancel();
    return r.ok;
  } catch {
    return false;
  }
}

function readTail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
