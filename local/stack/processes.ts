/**
 * The stack's processes: started detached in their own process group (so they outlive the CLI that started them and
 * can be stopped as a group), one append-only log file each, stopped by pid and never by name.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { sleep } from './ports.ts';

export interface Spawned {
  pid: number;
  /** Resolves with the exit code if the process ends (a crash at start shows up here). */
  exited: Promise<number | null>;
}

export function spawnDetached(
  command: string,
  args: string[],
  opts: { log: string; cwd?: string; env?: NodeJS.ProcessEnv },
): Spawned {
  const fd = openSync(opts.log, 'a');
  try {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null)));
      child.once('error', () => resolve(127));
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    return { pid: child.pid, exited };
  } finally {
    closeSync(fd);
  }
}

/**
 * Runs a short command to its end (kafka-storage format), output appended to `log`. Not detached and not unref'd: the
 * awaiting caller's event loop stays alive until the child exits (an unref'd child let `local up` end with exit 13,
 * "unsettled top-level await", when Kafka was the only service left to start).
 */
export function runToCompletion(command: string, args: string[], opts: { log: string }): Promise<number | null> {
  const fd = openSync(opts.log, 'a');
  try {
    const child = spawn(command, args, { stdio: ['ignore', fd, fd] });
    return new Promise<number | null>((resolve) => {
      child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null)));
      child.once('error', () => resolve(127));
    });
  } finally {
    closeSync(fd);
  }
}

export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (exited, not yet reaped) still answers signal 0 but is gone for our purposes.
  const stat = procFile(pid, 'stat');
  return !stat || !/^\d+ \(.*\) Z/.test(stat);
}

/** The process's command line (Linux /proc); undefined where /proc is unavailable. */
export function commandLine(pid: number): string | undefined {
  return procFile(pid, 'cmdline')?.split('\0').join(' ');
}

function procFile(pid: number, name: string): string | undefined {
  const p = `/proc/${pid}/${name}`;
  if (!existsSync('/proc/self')) return undefined;
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * True when `pid` still runs the process we started: its command line contains `marker` (guards against pid reuse
 * after a reboot or a crash). Without /proc we trust the pid.
 */
export function isOurs(pid: number | undefined, marker: string): boolean {
  if (!pid || !isAlive(pid)) return false;
  const cmd = commandLine(pid);
  return cmd === undefined || cmd.includes(marker);
}

/** SIGTERM to the process group, then SIGKILL after `graceMs`. Returns once the leader is gone. */
export async function stopGroup(pid: number, graceMs = 8000): Promise<void> {
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  // Whatever is left of the group (children of the leader) goes too.
  signalGroup(pid, 'SIGKILL');
  const hard = Date.now() + 3000;
  while (isAlive(pid) && Date.now() < hard) await sleep(50);
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}
