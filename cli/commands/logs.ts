/**
 * `quakectl logs FUNCTION [--follow] [--since TIME] [--request ID]`: the local emulator's log files, or CloudWatch
 * Logs on AWS. FUNCTION is a role or a deployed name.
 */
import type { Command } from 'commander';
import type { LogSource } from '../../shared/ops/logs/source.ts';
import type { LogLine } from '../../shared/ops/logs/types.ts';
import { type CommandContext, commandContext, outputFormat, withOutput } from '../context.ts';

export function logSource(ctx: CommandContext): LogSource {
  if (ctx.config.local) {
    return { kind: 'local', stateDir: localStateDir(ctx) };
  }
  return { kind: 'cloudwatch', logs: ctx.clients.logs };
}

/** Resolves the emulator's state dir of a local profile (loaded lazily, see loadLogSupport). */
let stateDirFn: ((p: CommandContext['profile']) => string) | undefined;
function localStateDir(ctx: CommandContext): string {
  if (!stateDirFn) throw new Error('logs: state dir resolver not loaded');
  return stateDirFn(ctx.profile);
}

/** Loads what logSource needs (kept out of module scope so registering stays cheap). */
export async function loadLogSupport(): Promise<void> {
  const { stateDir } = await import('../../shared/infra/config.ts');
  const { emulatorStateDir } = await import('../../shared/ops/logs/local.ts');
  stateDirFn = (p) => emulatorStateDir(stateDir(p));
}

export function register(program: Command): void {
  withOutput(
    program
      .command('logs')
      .argument('<function>', 'role (producer, consumer, segment-worker, autoscaler) or deployed name')
      .description('function logs: the local emulator files, or CloudWatch Logs on AWS'),
  )
    .option('--since <time>', 'from TIME (ISO, or 15m / 2h / 1d ago)', '10m')
    .option('-f, --follow', 'keep printing new lines until interrupted')
    .option('--request <id>', 'only lines of this request id')
    .action(async (fn: string, opts: { since: string; follow?: boolean; request?: string }, cmd: Command) => {
      const format = outputFormat(cmd);
      const ctx = await commandContext(cmd);
      await loadLogSupport();
      const { parseSince } = await import('../../shared/ops/time.ts');
      const { resolveFunctionName } = await import('../../shared/infra/names.ts');
      const { readLogs, followLogs } = await import('../../shared/ops/logs/source.ts');
      const name = resolveFunctionName(ctx.config.names, fn);
      if (name === fn) await requireKnownFunction(ctx, fn);
      const sinceMs = parseSince(opts.since);
      const source = logSource(ctx);
      const keep = (l: LogLine) => !opts.request || l.requestId === opts.request || l.message.includes(opts.request);
      const print = (l: LogLine) => {
        if (!keep(l)) return;
        if (format === 'json') process.stdout.write(`${JSON.stringify(l)}\n`);
        else process.stdout.write(`${new Date(l.timestamp).toISOString()} ${l.message}\n`);
      };
      if (!opts.follow) {
        const lines = await readLogs(source, name, sinceMs);
        for (const l of lines) print(l);
        if (format === 'table' && !lines.some(keep)) {
          process.stderr.write(`no log lines of ${name} since ${new Date(sinceMs).toISOString()}\n`);
        }
        return;
      }
      const ac = new AbortController();
      const stop = () => ac.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await followLogs(source, name, { sinceMs, signal: ac.signal, onLine: print });
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}

/**
 * A name that is not a role must be a deployed function: a typo (`logs produser`) used to print nothing and exit 0,
 * indistinguishable from a quiet function. If Lambda cannot be asked (emulator down), the log files are read anyway.
 */
async function requireKnownFunction(ctx: CommandContext, fn: string): Promise<void> {
  const { functionExists } = await import('../../shared/scaling/concurrency.ts');
  let exists: boolean;
  try {
    exists = await functionExists(ctx.clients.lambda, fn);
  } catch {
    return;
  }
  if (!exists) {
    const { UnknownFunctionError } = await import('../../shared/scaling/errors.ts');
    throw new UnknownFunctionError(fn);
  }
}
