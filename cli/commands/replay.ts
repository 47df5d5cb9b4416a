/**
 * `quakectl replay FILE --dry-run`: parse a recorded feed (USGS GeoJSON, EMSC websocket JSON Lines, FDSN text;
 * detected unless --format says), associate and deduplicate, and print what would be sent. Sending (without
 * --dry-run) goes through the producer: `loadReplaySender` is the one place to wire it.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { QuakectlError, UsageError, ValidationError } from '../../shared/infra/errors.ts';
import type { FeedFormat, Quake, Rejection } from '../../shared/quake/types.ts';
import { outputFormat, withOutput } from '../context.ts';
import { color, output, renderTable } from '../output.ts';

/** Sends replayed events (the producer's job). Returns how many were sent. */
export type ReplaySender = (events: Quake[], cmd: Command) => Promise<{ sent: number }>;

/**
 * The producer's sender, or undefined while there is none. The producer issue replaces the body with something like
 * `return (await import('../../shared/producer/replay.ts')).sendReplay;`.
 */
export async function loadReplaySender(): Promise<ReplaySender | undefined> {
  return undefined;
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

interface ReplayFlags {
  dryRun?: boolean;
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
    const send = flags.dryRun ? undefined : await loadReplaySender();
    if (!flags.dryRun && !send) {
      throw new QuakectlError(
        'replay without --dry-run sends through the producer, which is not wired into quakectl yet; use --dry-run',
      );
    }
    const report = await prepareReplay({ file, dryRun: Boolean(flags.dryRun), format: flags.format as FeedFormat });
    const { accepted, rejected, superseded, associated } = report;
    if (send) {
      const { sent } = await send(accepted, cmd);
      process.stderr.write(`${color().dim(`sent ${sent} events`)}\n`);
    }
    const { isAlertable } = await import('../../shared/quake/rules.ts');
    if (format === 'json') output(format, { accepted, rejected, superseded, associated }, () => '');
    else output(format, report, (r) => renderReplay(r, (q) => isAlertable(q, minMagnitude)));
  });
}
