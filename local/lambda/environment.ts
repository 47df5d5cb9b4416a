/**
 * One execution environment: a separate Node process (runtime-bootstrap.ts) serving one invocation at a time, like a
 * Lambda sandbox. Cold start = process start + module init, measured here and reported once as `Init Duration` (not
 * at all for provisioned environments, whose init happened before any request). The heap is capped from MemorySize
 * with --max-old-space-size. A timeout kills the process (`Task timed out after N.00 seconds`); a process that exits
 * or crashes is dead and the pool replaces it on the next invocation.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BOOTSTRAP = fileURLToPath(new URL('./runtime-bootstrap.ts', import.meta.url));

export interface FunctionError {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

export interface InvokeOutcome {
  ok: boolean;
  /** JSON text of the handler's result when ok. */
  result?: string;
  error?: FunctionError;
  durationMs: number;
  /** Set on the first invocation of an on-demand environment. */
  initMs?: number;
  maxMemoryMb: number;
  /** The environment died during (or because of) this invocation. */
  envDied: boolean;
}

export interface EnvironmentSpec {
  taskRoot: string;
  handler: string;
  memoryMb: number;
  env: Record<string, string>;
  logStreamName: string;
  provisioned: boolean;
  onLog: (message: string) => void;
}

type ChildMessage =
  | { t: 'ready'; initMs: number }
  | { t: 'init-error'; error: FunctionError; initMs: number }
  | { t: 'log'; message: string }
  | { t: 'done'; id: string; ok: boolean; result?: string; error?: FunctionError; rssMb: number }
  | { t: 'crash'; error: FunctionError };

export class Environment {
  readonly id = crypto.randomUUID();
  readonly spec: EnvironmentSpec;
  readonly logStreamName: string;
  state: 'initializing' | 'idle' | 'busy' | 'dead' = 'initializing';
  lastUsed = Date.now();
  #proc: ChildProcess;
  #ready: Promise<void>;
  #initMs = 0;
  #initError?: FunctionError;
  #initReported: boolean;
  #pending?: { id: string; resolve: (m: ChildMessage & { t: 'done' }) => void };
  #crash?: FunctionError;
  #outOfMemory = false;
  #exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #onLog: (message: string) => void;

  constructor(spec: EnvironmentSpec) {
    this.spec = spec;
    this.logStreamName = spec.logStreamName;
    this.#initReported = spec.provisioned;
    this.#onLog = spec.onLog;
    const started = performance.now();
    this.#proc = fork(BOOTSTRAP, [], {
      cwd: spec.taskRoot,
      env: spec.env,
      execArgv: [
        `--max-old-space-size=${Math.max(64, Math.floor(spec.memoryMb * 0.9))}`,
        '--no-warnings',
        // The bootstrap is TypeScript: Node 22 needs the flag that Node 24 no longer does.
        ...((process.features as { typescript?: unknown }).typescript ? [] : ['--experimental-strip-types']),
      ],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    const forward = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        if (line.includes('JavaScript heap out of memory')) this.#outOfMemory = true;
        this.#onLog(line);
      }
    };
    this.#proc.stdout?.on('data', forward);
    this.#proc.stderr?.on('data', forward);
    this.#exit = new Promise((resolve) => {
      // 'close' rather than 'exit': stdio is drained by then, so a dying process's last lines (an OOM report) are seen.
      this.#proc.once('close', (code, signal) => {
        this.state = 'dead';
        resolve({ code, signal });
      });
    });
    this.#ready = new Promise((resolve) => {
      const onMessage = (m: ChildMessage) => {
        if (m.t === 'ready' || m.t === 'init-error') {
          // Process start + module init, as the REPORT line's Init Duration.
          this.#initMs = performance.now() - started;
          if (m.t === 'init-error') this.#initError = m.error;
          resolve();
        }
      };
      this.#proc.on('message', onMessage);
      void this.#exit.then(() => resolve());
    });
    this.#proc.on('message', (m: ChildMessage) => {
      if (m.t === 'log') this.#onLog(m.message);
      else if (m.t === 'done' && this.#pending?.id === m.id) this.#pending.resolve(m);
      else if (m.t === 'crash') this.#crash = m.error;
    });
    this.#proc.on('error', () => {});
  }

  get pid(): number | undefined {
    return this.#proc.pid;
  }

  /** Resolves when the handler module is loaded (or failed to load). */
  async ready(): Promise<void> {
    await this.#ready;
    if (this.state === 'initializing') this.state = 'idle';
  }

  setLogSink(onLog: (message: string) => void): void {
    this.#onLog = onLog;
  }

  async invoke(
    requestId: string,
    payload: string,
    invokedFunctionArn: string,
    timeoutMs: number,
  ): Promise<InvokeOutcome> {
    await this.ready();
    this.state = 'busy';
    const initMs = this.#initReported ? undefined : this.#initMs;
    this.#initReported = true;
    const started = performance.now();
    const finish = (o: Omit<InvokeOutcome, 'durationMs' | 'initMs'>): InvokeOutcome => {
      this.lastUsed = Date.now();
      if (this.state === 'busy') this.state = o.envDied ? 'dead' : 'idle';
      return { ...o, durationMs: performance.now() - started, initMs };
    };
    if (this.#initError) {
      this.kill();
      return finish({ ok: false, error: this.#initError, maxMemoryMb: 0, envDied: true });
    }
    if ((this.state as string) === 'dead' || !this.#proc.connected) {
      return finish({ ok: false, error: exitError(requestId, 'exit status 1'), maxMemoryMb: 0, envDied: true });
    }
    let timer: NodeJS.Timeout | undefined;
    type Race =
      | { kind: 'done'; m: ChildMessage & { t: 'done' } }
      | { kind: 'timeout' }
      | { kind: 'exit'; code: number | null; signal: NodeJS.Signals | null };
    const done = new Promise<Race>((resolve) => {
      this.#pending = { id: requestId, resolve: (m) => resolve({ kind: 'done', m }) };
    });
    const timeout = new Promise<Race>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'timeout' }), timeoutMs);
    });
    const exited = this.#exit.then((e): Race => ({ kind: 'exit', ...e }));
    // A send to a process that just died fails through the callback; the exit promise then settles the race.
    this.#proc.send(
      { t: 'invoke', id: requestId, payload, invokedFunctionArn, deadlineMs: Date.now() + timeoutMs },
      () => {},
    );
    const r = await Promise.race([done, timeout, exited]);
    clearTimeout(timer);
    this.#pending = undefined;
    if (r.kind === 'done') {
      return finish({ ok: r.m.ok, result: r.m.result, error: r.m.error, maxMemoryMb: r.m.rssMb, envDied: false });
    }
    if (r.kind === 'timeout') {
      this.kill();
      const secs = (timeoutMs / 1000).toFixed(2);
      return finish({
        ok: false,
        error: {
          errorType: 'Sandbox.Timedout',
          errorMessage: `RequestId: ${requestId} Error: Task timed out after ${secs} seconds`,
        },
        maxMemoryMb: 0,
        envDied: true,
      });
    }
    const how = r.signal
      ? `signal: ${r.signal === 'SIGKILL' || r.signal === 'SIGABRT' ? 'killed' : r.signal}`
      : `exit status ${r.code}`;
    // V8 aborts when the heap cap (from MemorySize) is reached: Lambda reports that as Runtime.OutOfMemory.
    const error = this.#outOfMemory
      ? {
          errorType: 'Runtime.OutOfMemory',
          errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: signal: killed`,
        }
      : (this.#crash ?? exitError(requestId, how));
    return finish({ ok: false, error, maxMemoryMb: 0, envDied: true });
  }

  kill(): void {
    if (this.state !== 'dead') this.state = 'dead';
    if (this.#proc.exitCode === null && this.#proc.signalCode === null) this.#proc.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    this.kill();
    await this.#exit;
  }
}

function exitError(requestId: string, how: string): FunctionError {
  return {
    errorType: 'Runtime.ExitError',
    errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: ${how}`,
  };
}
