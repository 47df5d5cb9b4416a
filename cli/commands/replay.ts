/**
 * `quakectl replay FILE|DIR... [--dry-run] [--drill] [--yes]`: parse recorded feeds (USGS GeoJSON, EMSC websocket JSON
 * Lines or FDSN JSON, FDSN text, QuakeML; each file's format detected unless --format says; a directory is its files),
 * associate and deduplicate them together in publication order, and print what would be sent (`--dry-run`) or send it
 * through the producer Lambda (alias `live`) in batches and print the producer's answer. Retractions the files hold are
 * listed under their own key, and an event they withdraw is not sent.
 * Replayed events are real events unless `--drill`; outside the local profile sending asks first (shared/ops/confirm).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { QuakectlError, UsageError, ValidationError } from '../../shared/infra/errors.ts';
import type { ProducerResult } from '../../shared/ingest/types.ts';
import type { FeedParseResult } from '../../shared/quake/detect.ts';
import type { FeedFormat, Quake, Rejection, Retraction } from '../../shared/quake/types.ts';
import { commandContext, loadCommandProfile, outputFormat, withOutput } from '../context.ts';
import { color, output, renderTable } from '../output.ts';

/** Sends replayed events to the producer and answers with its (summed) result. */
export type ReplaySender = (events: Quake[], retractions?: Retraction[]) => Promise<ProducerResult>;

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
  return async (events, retractions) => {
    try {
      return await forward(events, retractions);
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
  parsed: {
    format: ReplayFormat;
    rejected: ReplayRejection[];
    retracted: Retraction[];
    superseded: number;
    associated: number;
    withdrawn: number;
  };
}

export interface ReplayOptions {
  /** Feed files and directories (each file of a directory, not recursive, in name order). */
  paths: string[];
  dryRun: boolean;
  format?: FeedFormat;
}

/** One format, or 'mixed' when the files differ. */
export type ReplayFormat = FeedFormat | 'mixed';

/** A rejected input: which file, which item of it, why. */
export interface ReplayRejection extends Rejection {
  file: string;
}

/** The JSON printed by `-o json` (the issue's shape, with retractions under their own key). */
export interface ReplayReport {
  accepted: Quake[];
  rejected: ReplayRejection[];
  /** Every retraction the inputs held (USGS `deleted`, EMSC `delete`, QuakeML `not existing` / `rejected`). */
  retracted: Retraction[];
  superseded: number;
  associated: number;
  /** Events left out of `accepted` because the inputs also held their retraction. */
  withdrawn: number;
}

export interface PreparedReplay extends ReplayReport {
  format: ReplayFormat;
  /** The files read, in the order given (directories expanded). */
  files: { file: string; format: FeedFormat }[];
}

/**
 * `--format` choices: shared/quake's FEED_FORMATS, listed here so that registering the command does not load the
 * parsers (and their XML parser) at start-up; test/unit/cli-replay-files.test.ts keeps the two lists equal.
 */
export const REPLAY_FORMATS: readonly FeedFormat[] = [
  'usgs-geojson',
  'usgs-feature',
  'emsc-ws',
  'emsc-json',
  'fdsn-text',
  'quakeml',
];

/** The files behind the paths given: a file as is, a directory's regular files (not hidden, not recursive) by name. */
async function expandPaths(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const p of paths) {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(p);
    } catch (err) {
      throw new QuakectlError(`cannot read ${p}`, { cause: err });
    }
    if (!info.isDirectory()) {
      files.push(p);
      continue;
    }
    const entries = (await readdir(p, { withFileTypes: true }))
      .filter((e) => e.isFile() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
    if (entries.length === 0) throw new ValidationError(`${p}: the directory holds no feed file`);
    files.push(...entries.map((name) => join(p, name)));
  }
  return files;
}

/**
 * Reads every file (each in its own format, detected unless `format` says), then associates and deduplicates them
 * together in publication order, as one producer would have seen them live. An unreadable file or one of no known
 * format: QuakectlError / ValidationError (exit 1), before anything is sent.
 */
export async function prepareReplay(opts: ReplayOptions): Promise<PreparedReplay> {
  const { parseFeed, replayParsed } = await import('../../shared/quake/index.ts');
  const files = await expandPaths(opts.paths);
  const parsed: FeedParseResult[] = [];
  const rejected: ReplayRejection[] = [];
  const read: PreparedReplay['files'] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new QuakectlError(`cannot read ${file}`, { cause: err });
    }
    const r = parseFeed(text, { format: opts.format });
    if (r.format === undefined) {
      throw new ValidationError(`${file}: ${r.rejected[0]?.reason ?? 'unknown feed format'}`);
    }
    parsed.push(r);
    read.push({ file, format: r.format });
    for (const x of r.rejected) rejected.push({ file, ...x });
  }
  const formats = new Set(read.map((f) => f.format));
  const r = replayParsed(parsed);
  return {
    accepted: r.accepted,
    rejected,
    retracted: r.retracted,
    superseded: r.superseded,
    associated: r.associated,
    withdrawn: r.withdrawn,
    format: formats.size === 1 ? read[0].format : 'mixed',
    files: read,
  };
}

export function renderReplay(
  report: ReplayReport & { format?: ReplayFormat; files?: PreparedReplay['files'] },
  isAlertable: (q: Quake) => boolean,
): string {
  const c = color();
  const table = renderTable(report.accepted, [
    { header: 'id', value: (q) => q.id },
    { header: 'origin (UTC)', value: (q) => new Date(q.originTime).toISOString().replace('T', ' ').slice(0, 21) },
    { header: 'M', value: (q) => `${q.magnitude.toFixed(1)} ${q.magType}`.trim(), align: 'right' },
    { header: 'lat', value: (q) => q.lat.toFixed(3), align: 'right' },
    { header: 'lon', value: (q) => q.lon.toFixed(3), align: 'right' },
    {
      header: 'depth',
      value: (q) => (q.depthKnown === false ? `${q.depthKm.toFixed(1)}?` : q.depthKm.toFixed(1)),
      align: 'right',
    },
    { header: 'source', value: (q) => q.source },
    { header: 'kind', value: (q) => (isAlertable(q) ? q.kind : c.dim(q.kind)) },
    { header: 'status', value: (q) => q.status },
    { header: 'ids', value: (q) => q.sourceIds.join(' ') },
    { header: 'place', value: (q) => q.place },
  ]);
  const several = (report.files?.length ?? 1) > 1;
  const lines = [
    table,
    `${report.format ? `${report.format}: ` : ''}${report.accepted.length} events, ${report.rejected.length} rejected, ` +
      `${report.superseded} superseded, ${report.associated} associated` +
      (report.retracted.length > 0 ? `, ${report.retracted.length} retracted (${report.withdrawn} withdrawn)` : ''),
  ];
  if (report.accepted.some((q) => q.depthKnown === false)) {
    lines.push(c.dim('  depth ? : not given by the feed; 10 km assumed'));
  }
  for (const r of report.retracted) {
    lines.push(c.cyan(`  retracted ${r.id} (${r.source}) at ${new Date(r.updatedAt).toISOString()}: ${r.reason}`));
  }
  for (const r of report.rejected) {
    lines.push(c.yellow(`  rejected ${several ? `${r.file} ` : ''}#${r.index}: ${r.reason}`));
  }
  return lines.join('\n');
}

export function renderReplaySent(r: ReplaySentReport): string {
  const c = color();
  const lines = [
    `${r.parsed.format}: sent ${r.sent} ${r.drill ? 'drill' : 'real'} event(s) to the producer`,
    `producer: ${r.accepted.length} accepted, ${r.rejected.length} rejected, ${r.superseded} superseded, ` +
      `${r.associated} associated`,
  ];
  for (const x of r.retracted ?? []) {
    lines.push(
      c.cyan(
        `  retraction ${x.id} (${x.source}): ${x.outcome}${x.eventId && x.eventId !== x.id ? ` (event ${x.eventId})` : ''}`,
      ),
    );
  }
  if (r.parsed.withdrawn > 0)
    lines.push(c.dim(`(${r.parsed.withdrawn} event(s) withdrawn in the file itself: not sent)`));
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
      .description(
        'replay recorded feed files (USGS GeoJSON, EMSC websocket JSON Lines or FDSN JSON, FDSN text, QuakeML), ' +
          'together in time order',
      )
      .argument('<files...>', 'feed files, or directories of them (formats may differ)')
      .option('--dry-run', 'parse, associate and deduplicate, and print what would be sent; send nothing')
      .option('--drill', 'send the events as drills (default: real events, as the feed says)')
      .option('--yes', 'do not ask for confirmation (profiles other than local ask before sending)')
      .option('--format <format>', `skip detection: ${REPLAY_FORMATS.join(', ')}`)
      .option('--min-magnitude <M>', 'table output: dim events below this magnitude (not alertable)', '0'),
  ).action(async (paths: string[], flags: ReplayFlags, cmd: Command) => {
    const format = outputFormat(cmd);
    if (flags.format !== undefined && !REPLAY_FORMATS.includes(flags.format as FeedFormat)) {
      throw new UsageError(`invalid --format "${flags.format}": expected one of ${REPLAY_FORMATS.join(', ')}`);
    }
    const minMagnitude = Number(flags.minMagnitude);
    if (!Number.isFinite(minMagnitude)) {
      throw new UsageError(`invalid --min-magnitude "${flags.minMagnitude}": expected a number`);
    }
    const report = await prepareReplay({ paths, dryRun: Boolean(flags.dryRun), format: flags.format as FeedFormat });
    const { accepted, rejected, retracted, superseded, associated, withdrawn } = report;
    const what = report.files.length === 1 ? report.files[0].file : `the ${report.files.length} files`;
    // Every input rejected: nothing of the file can be processed. The report (with each reason) is printed, and the
    // exit is 1, as simulate --replay exits when the producer accepts nothing. Some rejected among accepted events is
    // normal for real feeds (null magnitudes) and stays exit 0.
    // A file of retractions only is usable (it says which events are withdrawn).
    const nothingUsable = accepted.length === 0 && retracted.length === 0 && rejected.length > 0;
    if (flags.dryRun || nothingUsable) {
      const { isAlertable } = await import('../../shared/quake/rules.ts');
      if (format === 'json') {
        const json: ReplayReport = { accepted, rejected, retracted, superseded, associated, withdrawn };
        output(format, json, () => '');
      } else output(format, report, (r) => renderReplay(r, (q) => isAlertable(q, minMagnitude)));
      if (nothingUsable) {
        process.stderr.write(
          `${color().red('error:')} no event of ${what} can be sent: all ${rejected.length} input(s) rejected\n`,
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
        `from ${what} to the producer of profile "${profile.name}"`,
      yes: flags.yes,
      local: profile.type === 'local',
    });
    const send = await loadReplaySender(cmd, { drill });
    // Retractions go with the last call, after the versions they withdraw (the producer records them per source).
    const result = await send(accepted, retracted);
    const sent: ReplaySentReport = {
      ...result,
      sent: accepted.length,
      drill,
      parsed: { format: report.format, rejected, retracted, superseded, associated, withdrawn },
    };
    output(format, sent, renderReplaySent);
  });
}
