/**
 * `quakectl report EVENT_ID --html FILE [-o json]`: the event report (map, time–distance plot, tables) as one
 * self-contained HTML file, from what the system recorded: events table, plan, locks, subscribers, DLQs, function
 * logs. Delivery times are the work units' completion times here (no receiver); `drill --report FILE` writes the
 * same report with the times measured at its receiver. On a local profile a copy goes to `<state>/reports/`, where
 * `quakectl console` lists it.
 */
import type { Command } from 'commander';
import type { ReportReceipt } from '../../shared/report/build.ts';
import { type CommandContext, commandContext, outputFormat, withOutput } from '../context.ts';
import { positiveInt } from '../options.ts';
import { color, printJson } from '../output.ts';

interface ReportFlags {
  html?: string;
  maxPoints: number;
}

export function register(program: Command): void {
  withOutput(
    program
      .command('report')
      .description('an event report as one self-contained HTML file: map, delivery vs distance plot, tables')
      .argument('<event-id>', 'canonical event id (quakectl status lists recent drills)')
      .option('--html <file>', 'write the HTML report here')
      .option(
        '--max-points <n>',
        'subscribers drawn on the map; more are sampled evenly by distance',
        positiveInt,
        4000,
      ),
  ).action(async (eventId: string, flags: ReportFlags, cmd: Command) => {
    const format = outputFormat(cmd);
    if (!flags.html && format !== 'json') {
      const { UsageError } = await import('../../shared/infra/errors.ts');
      throw new UsageError('give --html FILE (or -o json for the data)');
    }
    const ctx = await commandContext(cmd);
    try {
      const data = await writeReports(ctx, [eventId], flags.html, { maxPoints: flags.maxPoints });
      if (format === 'json') printJson(data[0]);
    } finally {
      ctx.clients.destroy();
    }
  });
}

/** What a drill's receiver offers the report (local/webhook-sink.ts). */
export interface ReceiptSource {
  receipts(): Array<{ notification: { eventId: string; subscriberId: string }; receivedAt: number }>;
  duplicates(): number;
}

/**
 * Gathers and writes the report of each event; with several events the file name gets `-<event id>` before its
 * extension. Returns the data. `receiver`: the drill's sink (its receipts give the delivery times).
 */
export async function writeReports(
  ctx: Pick<CommandContext, 'clients' | 'config' | 'profile'>,
  eventIds: string[],
  file: string | undefined,
  opts: { receiver?: ReceiptSource; maxPoints?: number; duplicates?: number } = {},
) {
  const [{ gatherReport }, { renderReportHtml }, { SubscriberStore }, { loadLogSupport, logSource }, fs, path] =
    await Promise.all([
      import('../../shared/report/gather.ts'),
      import('../../shared/report/html.ts'),
      import('../../shared/segments/index.ts'),
      import('./logs.ts'),
      import('node:fs/promises'),
      import('node:path'),
    ]);
  await loadLogSupport();
  const store = new SubscriberStore(ctx.clients.ddb, ctx.config.names, {
    maxSegmentSize: ctx.config.fanout.maxSegmentSize,
  });
  const out = [];
  for (const eventId of eventIds) {
    const receipts: ReportReceipt[] | undefined = opts.receiver
      ?.receipts()
      .filter((r) => r.notification.eventId === eventId)
      .map((r) => ({ subscriberId: r.notification.subscriberId, receivedAt: r.receivedAt }));
    const data = await gatherReport({
      clients: ctx.clients,
      names: ctx.config.names,
      eventId,
      store,
      receipts,
      duplicates: opts.duplicates,
      logs: logSource({ ...ctx, clients: ctx.clients }),
      maxPoints: opts.maxPoints,
    });
    out.push(data);
    if (!file) continue;
    const html = await renderReportHtml(data);
    const target = eventIds.length === 1 ? file : file.replace(/(\.[^./]+)?$/, (ext) => `-${eventId}${ext}`);
    await fs.mkdir(path.dirname(path.resolve(target)), { recursive: true });
    await fs.writeFile(target, html);
    process.stderr.write(`${color().dim('›')} report written to ${target}\n`);
    if (ctx.profile.type === 'local') {
      const { stateDir } = await import('../../shared/infra/config.ts');
      const { archiveReport } = await import('../../shared/report/archive.ts');
      await archiveReport(stateDir(ctx.profile), data, html);
    }
  }
  return out;
}
