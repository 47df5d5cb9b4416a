/**
 * `quakectl status [-o json] [--watch [--interval S]]`: one screen of the system's health. `--watch` draws a live
 * ink dashboard when stdout is an interactive terminal (not CI, colour allowed); otherwise it prints plain text once.
 */
import type { Command } from 'commander';
import { commandContext, outputFormat, withOutput } from '../context.ts';
import { interactive, output } from '../output.ts';

export function register(program: Command): void {
  withOutput(program.command('status').description('stack and function health, concurrency, lag, DLQs, events, drills'))
    .option('-w, --watch', 'live dashboard (interactive terminals only; q or Ctrl-C quits)')
    .option('--interval <seconds>', 'refresh interval of --watch', (v) => Number(v), 2)
    .action(async (opts: { watch?: boolean; interval: number }, cmd: Command) => {
      const format = outputFormat(cmd);
      // Checked on every path, not only the live one: --interval abc is wrong wherever it is given.
      if (!(opts.interval >= 0.5)) {
        const { UsageError } = await import('../../shared/infra/errors.ts');
        throw new UsageError('--interval must be a number of seconds, at least 0.5');
      }
      const ctx = await commandContext(cmd);
      const { statusSnapshot } = await import('../../shared/ops/status/snapshot.ts');
      const load = () => statusSnapshot(ctx.clients, { profile: ctx.profile.name });
      if (opts.watch && format === 'table' && interactive()) {
        const { runDashboard } = await import('../views/dashboard.ts');
        await runDashboard({ load, intervalMs: opts.interval * 1000 });
        return;
      }
      const { statusText } = await import('../../shared/ops/status/text.ts');
      const snapshot = await load();
      output(format, snapshot, statusText);
      // Like `local status`: a service that does not answer is a failure a script must see (exit 1), report printed.
      const down = snapshot.services.filter((s) => !s.healthy).map((s) => s.service);
      if (down.length > 0) {
        process.stderr.write(`status: not answering: ${down.join(', ')}\n`);
        process.exitCode = 1;
      }
    });
}
