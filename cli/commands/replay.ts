/**
 * `quakectl replay FILE [--dry-run] [--drill] [--yes]`: parse a recorded feed (USGS GeoJSON, EMSC websocket JSON
 * Lines, FDSN text; detected unless --format says), associate and deduplicate, and print what would be sent
 * (`--dry-run`) or send it through the producer Lambda (alias `live`) in batches and print the producer's answer.
 * Replayed events are real events unless `--drill`; outside the local profile sending asks first (shared/ops/confirm).
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { QuakectlError, UsageError, ValidationError } from '../../shared/infra/errors.ts';
import type { ProducerResult } from '../../shared/ingest/types.ts';
import type { FeedFormat, Quake, Rejection } from '../../shared/quake/types.ts';
import { commandContext, loadCommandProfile, outputFormat, withOutput } from '../context.ts';
import { color, output, renderTable } from '../output.ts';

/** Sends replayed events to the producer and answers with its (summed) result. */
export type ReplaySender = (events: Quake[]) => Promise<ProducerResult>;

/**
 * The producer's sender for the command's profile: shared/ingest's Lambda forwarder (the one way quakectl invokes the
 * producer; it splits large feeds into calls of FORWARD_BATCH events and sums the answers).
 */
export async function loadReplaySender(cmd: Command, opts: { drill: boolean }): Promise<ReplaySender> {
  const [{ clients, config }, { lambdaForwarder }] = await Promise.all([
    commandContext(cmd),
    import('../../shared/ingest/forward.ts'),
  ]);
  const functionName = config.names.function('producer');
  const forward = lambdaForwarder({
    lambda: clients.lambda,
    functionName,
    qualifier: config.names.alias,
    drill: opts.drill,
  });
  return async (events) => {
    try {
      return await forward(events);
    } catch (err) {
      if ((err as Error).cause && ((err as Error).cause as Error).name === 'ResourceNotFoundException') {
        throw new QuakectlError(`${functionName}:${config.names.alias} is not deployed: run quakectl deploy first`, {
          cause: err,
        });
      }
      throw err;
    } finally {
      clients.destroy();
    }
  };
}

/** `-o json` of a replay that was sent: the producer's answer, plus what parsing dropped before sending. */
export interface ReplaySentReport extends ProducerResult {
  sent: number;
  drill: boolean;
  parsed: { format: FeedFormat; rejected: Rejection[]; superseded: number; associated: number };
}

export interface ReplayOptions {
  file: string;
  dryRun: boolean;
  format?: FeedFormat;
}

/** The JSON printed by `-o json` (the issue's shape). */
export interface ReplayReport {
  accepted: Quake[];
  rejected: Rejection[];
  superseded: number;
  associated: number;
}

const FORMATS: FeedFormat[] = ['usgs-geojson', 'usgs-feature', 'emsc-ws', 'fdsn-text'];

/** Reads, parses, associates. Unreadable file or undetectable format: QuakectlError / ValidationError (exit 1). */
export async function prepareReplay(opts: ReplayOptions): Promise<ReplayReport & { format: FeedFormat }> {
  let text: string;
  try {
    text = await readFile(opts.file, 'utf8');
  } catch (err) {
    throw new QuakectlError(`cannot read ${opts.file}`, { cause: err });
  }
  const { replayFeed } = await import('../../shared/quake/index.ts');
  const r = replayFeed(text, { format: opts.format });
  if (r.format === undefined) {
    throw new ValidationError(`${opts.file}: ${r.rejected[0]?.reason ?? 'unknown feed format'}`);
  }
  return {
    accepted: r.accepted,
    rejected: r.rejected,
    superseded: r.superseded,
    associated: r.associated,
    format: r.format,
  };
}

export function renderReplay(
  report: ReplayReport & { format?: FeedFormat },
  isAlertable: (q: Quake) => boolean,
): string {
  const c = color();
  const table = renderTable(report.accepted, [
    { header: 'id', value: (q) => q.id },
    { header: 'origin (UTC)', value: (q) => new Date(q.originTime).toISOString().replace('T', ' ').slice(0, 21) },
    { header: 'M', value: (q) => `${q.magnitude.toFixed(1)} ${q.magType}`.trim(), align: 'right' },
    { header: 'lat', value: (q) => q.lat.toFixed(3), align: 'right' },
    { header: 'lon', value: (q) => q.lon.toFixed(3), align: 'right' },
    { header: 'depth', value: (q) => q.depthKm.toFixed(1), align: 'right' },
    { header: 'kind', value: (q) => (isAlertable(q) ? q.kind : c.dim(q.kind)) },
    { header: 'status', value: (q) => q.status },
    { header: 'ids', value: (q) => q.sourceIds.join(' ') },
    { header: 'place', value: (q) => q.place },
  ]);
  const lines = [
    table,
    `${report.format ? `${report.format}: ` : ''}${report.accepted.length} events, ${report.rejected.length} rejected, ` +
      `${report.superseded} superseded, ${report.associated} associated`,
  ];
  for (const r of report.rejected) lines.push(c.yellow(`  rejected #${r.index}: ${r.reason}`));
  return lines.join('\n');
}

export function renderReplaySent(r: ReplaySentReport): string {
  const c = color();
  const lines = [
    `${r.parsed.format}: sent ${r.sent} ${r.drill ? 'drill' : 'real'} event(s) to the producer`,
    `producer: ${r.accepted.length} accepted, ${r.rejected.length} rejected, ${r.superseded} superseded, ` +
      `${r.associated} associated`,
  ];
  for (const x of r.rejected) lines.push(c.yellow(`  producer rejected #${x.index}: ${x.reason}`));
  if (r.parsed.rejected.length > 0) lines.push(c.dim(`(${r.parsed.rejected.length} input(s) rejected while parsing)`));
  return lines.join('\n');
}

interface ReplayFlags {
  dryRun?: boolean;
  drill?: boolean;
  yes?: boolean;
  format?: string;
  minMagnitude?: string;
  output?: string;
}

export function register(program: Command): void {
  withOutput(
    program
      .command('replay')
      .description('replay a recorded feed file (USGS GeoJSON, EMSC websocket JSON Lines, FDSN text)')
      .argument('<file>', 'the feed file')
      .option('--dry-run', 'parse, associate and deduplicate, and print what would be sent; send nothing')
      .option('--drill', 'send the events as drills (default: real events, as the feed says)')
      .option('--yes', 'do not ask for confirmation (profiles other than local ask before sending)')
      .option('--format <format>', `skip detection: ${FORMATS.join(', ')}`)
      .option('--min-magnitude <M>', 'table output: dim events below this magnitude (not alertable)', '0'),
  ).action(async (file: string, flags: ReplayFlags, cmd: Command) => {
    const format = outputFormat(cmd);
    if (flags.format !== undefined && !FORMATS.includes(flags.format as FeedFormat)) {
      throw new UsageError(`invalid --format "${flags.format}": expected one of ${FORMATS.join(', ')}`);
    }
    const minMagnitude = Number(flags.minMagnitude);
    if (!Number.isFinite(minMagnitude)) {
      throw new UsageError(`invalid --min-magnitude "${flags.minMagnitude}": expected a number`);
    }
    const report = await prepareReplay({ file, dryRun: Boolean(flags.dryRun), format: flags.format as FeedFormat });
    const { accepted, rejected, superseded, associated } = report;
    // Every input rejected: nothing of the file can be processed. The report (with each reason) is printed, and the
    // exit is 1, as simulate --replay exits when the producer accepts nothing. Some rejected among accepted events is
    // normal for real feeds (null magnitudes) and stays exit 0.
    const nothingUsable = accepted.length === 0 && rejected.length > 0;
    if (flags.dryRun || nothingUsable) {
      const { isAlertable } = await import('../../shared/quake/rules.ts');
      if (format === 'json') output(format, { accepted, rejected, superseded, associated }, () => '');
      else output(format, report, (r) => renderReplay(r, (q) => isAlertable(q, minMagnitude)));
      if (nothingUsable) {
        process.stderr.write(
          `${color().red('error:')} no event of ${file} can be sent: all ${rejected.length} input(s) rejected\n`,
        );
        process.exitCode = 1;
      }
      return;
    }
    const drill = Boolean(flags.drill);
    const { confirm } = await import('../../shared/ops/confirm.ts');
    const profile = await loadCommandProfile(cmd);
    // Confirmed before any client exists: a refusal touches nothing.
    await confirm({
      action:
        `send ${accepted.length} ${drill ? 'drill' : 'REAL (non-drill: subscribers get real alerts)'} event(s) ` +
        `from ${file} to the producer of profile "${profile.name}"`,
      yes: flags.yes,
      local: profile.type === 'local',
    });
    const send = await loadReplaySender(cmd, { drill });
    const result = await send(accepted);
    const sent: ReplaySentReport = {
      ...result,
      sent: accepted.length,
      drill,
      parsed: { format: report.format, rejected, superseded, associated },
    };
    output(format, sent, renderReplaySent);
  });
}
