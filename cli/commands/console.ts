/**
 * `quakectl console [--port P] [--host H] [--token T] [--interval S]`: a read-only web page with what
 * `status --watch` shows, the map of each running event filling in as deliveries are acknowledged (server-sent
 * events), and links to drill reports. Loopback only by default; bound elsewhere it needs a token (one is generated
 * when none is given). Runs until Ctrl-C.
 */
import type { Command } from 'commander';
import { commandContext } from '../context.ts';
import { port, ranged } from '../options.ts';

interface ConsoleFlags {
  port: number;
  host: string;
  token?: string;
  interval: number;
}

export const DEFAULT_CONSOLE_PORT = 19088;

export function register(program: Command): void {
  program
    .command('console')
    .description('read-only web console: status, live event map (server-sent events), drill reports')
    .option('--port <port>', `port to listen on (0: any free port)`, port, DEFAULT_CONSOLE_PORT)
    .option('--host <host>', 'address to bind; anything but loopback needs a token', '127.0.0.1')
    .option('--token <token>', 'access token (required off loopback; generated if not given there)')
    .option('--interval <s>', 'refresh interval in seconds', ranged(0.5, 3600, 'seconds'), 2)
    .action(async (flags: ConsoleFlags, cmd: Command) => {
      const ctx = await commandContext(cmd);
      const [{ startConsoleServer, isLoopback }, { consoleFrame }, config, { randomBytes }] = await Promise.all([
        import('../../shared/report/console-server.ts'),
        import('../../shared/report/console-data.ts'),
        import('../../shared/infra/config.ts'),
        import('node:crypto'),
      ]);
      const token = flags.token ?? (isLoopback(flags.host) ? undefined : randomBytes(18).toString('base64url'));
      const stateDir = ctx.profile.type === 'local' ? config.stateDir(ctx.profile) : undefined;
      const { reportsDir } = await import('../../shared/report/archive.ts');
      const { gatherReport } = await import('../../shared/report/gather.ts');
      const { renderReportHtml } = await import('../../shared/report/html.ts');
      const { SubscriberStore } = await import('../../shared/segments/index.ts');
      const store = new SubscriberStore(ctx.clients.ddb, ctx.config.names, {
        maxSegmentSize: ctx.config.fanout.maxSegmentSize,
      });
      const server = await startConsoleServer({
        host: flags.host,
        port: flags.port,
        token,
        intervalMs: flags.interval * 1000,
        reportsDir: stateDir ? reportsDir(stateDir) : undefined,
        load: () => consoleFrame(ctx.clients, { profile: ctx.profile.name, stateDir }),
        eventReport: async (eventId) =>
          renderReportHtml(await gatherReport({ clients: ctx.clients, names: ctx.config.names, eventId, store })),
      }).catch(async (err: Error) => {
        ctx.clients.destroy();
        const { PrerequisiteError } = await import('../../shared/infra/errors.ts');
        throw new PrerequisiteError(`cannot serve the console on ${flags.host}:${flags.port}: ${err.message}`, {
          cause: err,
        });
      });
      process.stdout.write(`console: ${server.url}  (read-only; Ctrl-C stops it)\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
      ctx.clients.destroy();
    });
}
