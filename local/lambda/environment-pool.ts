/**
 * Execution environments per function version, reused warm as Lambda reuses sandboxes: an invocation takes an idle
 * environment of the same code and configuration (the `$LATEST` pool is replaced when its code or configuration
 * changes, as an update does in AWS), or starts a new one (a cold start). Idle on-demand environments are stopped
 * after `idleMs`. Provisioned concurrency keeps N pre-initialised environments of a version that are never reaped;
 * invocations prefer them and report no Init Duration.
 */
import { type Environment as Env, Environment } from './environment.ts';
import { type FunctionLogs, logStreamName } from './logging.ts';
import type { FunctionConfig } from './registry.ts';
import { type LocalEndpoints, runtimeEnv } from './runtime-env.ts';

export interface PoolTarget {
  functionName: string;
  version: string;
  config: FunctionConfig;
  taskRoot: string;
}

/** Where an environment's log lines go: the function log, tagged with the request it serves, and the Tail buffer. */
export interface LogSink {
  requestId?: string;
  tail?: string[];
}

interface Slot {
  env: Env;
  sink: LogSink;
  fingerprint: string;
  /** Provisioned-concurrency owner key (`fn:qualifier`) or undefined for on-demand. */
  provisionedFor?: string;
  /** Deallocated while serving an invocation (its provisioned config was removed or reduced): stopped when it ends. */
  retired?: boolean;
}

export class EnvironmentPool {
  readonly #slots = new Map<string, Slot[]>();
  readonly #logs: FunctionLogs;
  readonly #endpoints: LocalEndpoints;
  readonly #idleMs: number;
  readonly #reaper: NodeJS.Timeout;

  constructor(opts: { logs: FunctionLogs; endpoints: LocalEndpoints; idleMs?: number }) {
    this.#logs = opts.logs;
    this.#endpoints = opts.endpoints;
    this.#idleMs = opts.idleMs ?? 5 * 60_000;
    this.#reaper = setInterval(() => this.#reap(), Math.min(30_000, this.#idleMs)).unref();
  }

  #key(t: PoolTarget): string {
    return `${t.functionName}:${t.version}`;
  }

  #fingerprint(t: PoolTarget): string {
    return `${t.config.CodeSha256}:${t.config.RevisionId}`;
  }

  #start(t: PoolTarget, provisionedFor?: string): Slot {
    const stream = logStreamName(t.version);
    const sink: LogSink = {};
    const env = new Environment({
      taskRoot: t.taskRoot,
      handler: t.config.Handler,
      memoryMb: t.config.MemorySize,
      env: runtimeEnv({
        config: t.config,
        version: t.version,
        taskRoot: t.taskRoot,
        logStreamName: stream,
        provisioned: provisionedFor !== undefined,
        endpoints: this.#endpoints,
      }),
      logStreamName: stream,
      provisioned: provisionedFor !== undefined,
      onLog: (message) => {
        this.#logs.append(t.functionName, {
          timestamp: Date.now(),
          logStreamName: stream,
          requestId: sink.requestId,
          message,
        });
        sink.tail?.push(message);
      },
    });
    const slot: Slot = { env, sink, fingerprint: this.#fingerprint(t), provisionedFor };
    const list = this.#slots.get(this.#key(t)) ?? [];
    list.push(slot);
    this.#slots.set(this.#key(t), list);
    return slot;
  }

  /** An idle environment (provisioned first) or a new one; marks it busy. */
  acquire(t: PoolTarget): { env: Env; sink: LogSink; release: () => void } {
    const fp = this.#fingerprint(t);
    const list = (this.#slots.get(this.#key(t)) ?? []).filter((s) => s.env.state !== 'dead');
    this.#slots.set(this.#key(t), list);
    const idle = list.filter((s) => s.env.state === 'idle' && s.fingerprint === fp);
    const slot = idle.find((s) => s.provisionedFor) ?? idle[0] ?? this.#start(t);
    // Taken at once: a new environment is 'initializing' and so invisible to other acquires until this one is done.
    if (slot.env.state === 'idle') slot.env.state = 'busy';
    return {
      env: slot.env,
      sink: slot.sink,
      release: () => {
        slot.sink.requestId = undefined;
        slot.sink.tail = undefined;
        if (slot.retired || slot.fingerprint !== this.#fingerprint(t) || slot.env.state === 'dead') slot.env.kill();
      },
    };
  }

  /** Starts environments until `count` provisioned ones exist for `owner`; resolves when all are initialised. */
  async provision(t: PoolTarget, owner: string, count: number): Promise<void> {
    const key = this.#key(t);
    let mine = (this.#slots.get(key) ?? []).filter((s) => s.provisionedFor === owner && s.env.state !== 'dead');
    for (const extra of mine.slice(count)) this.#deallocate(extra);
    mine = mine.slice(0, count);
    const started: Slot[] = [];
    while (mine.length + started.length < count) started.push(this.#start(t, owner));
    await Promise.all([...mine, ...started].map((s) => s.env.ready()));
  }

  /** Stops provisioned environments of `owner` (on DeleteProvisionedConcurrencyConfig). */
  unprovision(owner: string): void {
    for (const list of this.#slots.values()) {
      for (const s of list) if (s.provisionedFor === owner) this.#deallocate(s);
    }
  }

  /**
   * A provisioned environment no longer wanted (config deleted, replaced or reduced) is deallocated, as Lambda does:
   * stopped at once when idle or still initialising, after its invocation when busy. It never serves as an on-demand
   * environment (it was initialised as `provisioned-concurrency`, which its code can see).
   */
  #deallocate(s: Slot): void {
    s.provisionedFor = undefined;
    if (s.env.state === 'busy') s.retired = true;
    else s.env.kill();
  }

  provisionedReady(owner: string): number {
    let n = 0;
    for (const list of this.#slots.values()) {
      for (const s of list) if (s.provisionedFor === owner && (s.env.state === 'idle' || s.env.state === 'busy')) n++;
    }
    return n;
  }

  /** Stops every environment of a function (DeleteFunction) or of one of its versions. */
  drop(functionName: string, version?: string): void {
    for (const [key, list] of this.#slots) {
      if (key === `${functionName}:${version}` || (version === undefined && key.startsWith(`${functionName}:`))) {
        for (const s of list) s.env.kill();
        this.#slots.delete(key);
      }
    }
  }

  /** Kills idle environments whose code/config is stale (after an update), so the next invoke cold-starts. */
  invalidate(t: PoolTarget): void {
    const fp = this.#fingerprint(t);
    for (const s of this.#slots.get(this.#key(t)) ?? []) {
      if (s.fingerprint !== fp && s.env.state === 'idle') s.env.kill();
    }
  }

  counts(): { total: number; busy: number } {
    let total = 0;
    let busy = 0;
    for (const list of this.#slots.values()) {
      for (const s of list) {
        if (s.env.state === 'dead') continue;
        total++;
        if (s.env.state === 'busy') busy++;
      }
    }
    return { total, busy };
  }

  #reap(): void {
    const now = Date.now();
    for (const [key, list] of this.#slots) {
      const alive = list.filter((s) => {
        if (s.env.state === 'dead') return false;
        if (!s.provisionedFor && s.env.state === 'idle' && now - s.env.lastUsed > this.#idleMs) {
          s.env.kill();
          return false;
        }
        return true;
      });
      if (alive.length) this.#slots.set(key, alive);
      else this.#slots.delete(key);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#reaper);
    const all = [...this.#slots.values()].flat();
    this.#slots.clear();
    await Promise.all(all.map((s) => s.env.stop()));
  }
}
