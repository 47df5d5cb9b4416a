/**
 * `quakectl ingest`: the long-running real-time ingester. Polls USGS GeoJSON feeds and/or FDSN queries with
 * conditional GETs, listens to the EMSC SeismicPortal websocket, and sends every new or updated event to the producer
 * Lambda (Invoke, RequestResponse) or, with --direct, through the producer's domain code straight to Kafka. Prints
 * one line per forwarded event (JSON Lines with -o json); SIGINT/SIGTERM stop it cleanly (a second one exits at once).
 * How to run it on a VM, in a container or under systemd: docs/ingest.md.
 */
import type { Command } from 'commander';
import { UsageError } from '../../shared/infra/errors.ts';
import type { ForwardedEvent, IngestSummary } from '../../shared/ingest/run.ts';
import type { IngestLog } from '../../shared/ingest/support.ts';
import { commandContext, outputFormat, withOutput } from '../context.ts';
import { color, type OutputFormat } from '../output.ts';

export interface IngestCommandOptions {
  usgs: string[];
  fdsn: string[];
  /** true = the default EMSC URL. */
  emsc?: string | boolean;
  intervalS: number;
  /** 0 = no limit. */
  maxAgeMin: number;
  direct: boolean;
  functionName?: string;
  qualifier?: string;
  drill: boolean;
  output: OutputFormat;
}

export function register(program: Command): void {
  withOutput(
    program
      .command('ingest')
      .description(
        'poll USGS/FDSN feeds and listen to EMSC, sending new or updated events to the producer (long-running)',
      )
      .option('--usgs <url>', 'USGS GeoJSON summary feed URL (repeatable)', collect, [])
      .option('--fdsn <url>', 'FDSN event query URL, format=text or format=xml (QuakeML) (repeatable)', collect, [])
      .option(
        '--emsc [url]',
        'listen to the EMSC SeismicPortal websocket (default wss://www.seismicportal.eu/standing_order/websocket)',
      )
      .option('--interval <seconds>', 'feed polling interval', '10')
      .option('--max-age <minutes>', 'do not forward events older than this (origin time); 0 = no limit', '60')
      .option(
        '--direct',
        'produce to Kafka from this process (the producer domain code) instead of invoking the producer Lambda',
        false,
      )
      .option('--function <name>', "producer function name or role (default: the profile's producer)")
      .option('--qualifier <alias>', 'producer alias or version to invoke (default: live)')
      .option('--drill', 'mark every forwarded event as a drill', false),
  ).action(async (opts: Record<string, unknown>, cmd: Command) => {
    const interval = Number(opts.interval);
    if (!Number.isFinite(interval) || interval < 1)
      throw new UsageError(`--interval ${opts.interval}: at least 1 second`);
    const maxAge = Number(opts.maxAge);
    if (!Number.isFinite(maxAge) || maxAge < 0) throw new UsageError(`--max-age ${opts.maxAge}: minutes, 0 or more`);
    const options: IngestCommandOptions = {
      usgs: opts.usgs as string[],
      fdsn: opts.fdsn as string[],
      emsc: opts.emsc as string | boolean | undefined,
      intervalS: interval,
      maxAgeMin: maxAge,
      direct: opts.direct === true,
      functionName: opts.function as string | undefined,
      qualifier: opts.qualifier as string | undefined,
      drill: opts.drill === true,
      output: outputFormat(cmd),
    };
    if (options.usgs.length + options.fdsn.length === 0 && !options.emsc) {
      throw new UsageError('nothing to ingest: give --usgs URL, --fdsn URL and/or --emsc');
    }
    for (const url of [...options.usgs, ...options.fdsn]) checkUrl(url, ['http:', 'https:']);
    if (typeof options.emsc === 'string') checkUrl(options.emsc, ['ws:', 'wss:']);
    await ingest(options, cmd);
  });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function checkUrl(url: string, protocols: string[]): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`${url}: not a URL`);
  }
  if (!protocols.includes(u.protocol)) throw new UsageError(`${url}: expected ${protocols.join(' or ')}`);
}

export async function ingest(options: IngestCommandOptions, cmd: Command): Promise<IngestSummary> {
  const { runIngest } = await import('../../shared/ingest/run.ts');
  const { EMSC_WEBSOCKET_URL } = await import('../../shared/ingest/emsc-listener.ts');
  const ctx = await commandContext(cmd);
  const log = stderrLog();
  const sink = await openForwarder(options, ctx, log);
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) process.exit(130);
    log.info('stopping', { signal });
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const emsc = options.emsc === true ? EMSC_WEBSOCKET_URL : options.emsc || undefined;
    log.info('ingesting', {
      usgs: options.usgs,
      fdsn: options.fdsn,
      emsc,
      to: sink.description,
      intervalS: options.intervalS,
    });
    const summary = await runIngest(
      {
        usgs: options.usgs,
        fdsn: options.fdsn,
        emsc,
        intervalMs: options.intervalS * 1000,
        maxAgeMs: options.maxAgeMin > 0 ? options.maxAgeMin * 60_000 : undefined,
        listener: {
          onState: (state, detail) => log.info(`emsc ${state}`, detail ?? {}),
        },
      },
      sink.forward,
      stop.signal,
      { log, onEvent: (e) => printEvent(e, options.output) },
    );
    log.info('stopped', { ...summary });
    return summary;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await sink.close();
    ctx.clients.destroy();
  }
}

type Ctx = Awaited<ReturnType<typeof commandContext>>;

async function openForwarder(options: IngestCommandOptions, ctx: Ctx, log: IngestLog) {
  const { lambdaForwarder, directForwarder } = await import('../../shared/ingest/forward.ts');
  if (!options.direct) {
    const { resolveFunctionName } = await import('../../shared/infra/names.ts');
    const functionName = resolveFunctionName(ctx.config.names, options.functionName ?? 'producer');
    const qualifier = options.qualifier ?? ctx.config.names.alias;
    const q = qualifier === '$LATEST' ? undefined : qualifier;
    return {
      description: `lambda ${functionName}${q ? `:${q}` : ''}`,
      forward: lambdaForwarder({ lambda: ctx.clients.lambda, functionName, qualifier: q, drill: options.drill }),
      close: async () => {},
    };
  }
  const { createEventProducer, eventsTopic } = await import('../../shared/ingest/producer.ts');
  const producer = createEventProducer(ctx.clients.kafka);
  await producer.connect();
  const topic = eventsTopic(ctx.config.names.eventsTopic);
  log.info('kafka producer connected', { brokers: ctx.config.kafka.brokers, topic });
  return {
    description: `kafka ${topic}`,
    forward: directForwarder(
      {
        events: { ddb: ctx.clients.ddb, table: ctx.config.names.table('events') },
        producer,
        topic,
        canonical: new Map(),
        published: new Map(),
        log,
      },
      options.drill,
    ),
    close: () => producer.disconnect(),
  };
}

export function formatEvent(e: ForwardedEvent): string {
  const c = color();
  const outcome =
    e.outcome === 'accepted' ? c.green('accepted') : e.outcome === 'rejected' ? c.red('rejected') : c.dim('dropped');
  const merged = e.canonicalId && e.canonicalId !== e.id ? ` → ${e.canonicalId}` : '';
  const mag = `M${e.magnitude.toFixed(1)}${e.magType ? ` ${e.magType}` : ''}`;
  const reason = e.reason ? ` (${e.reason})` : '';
  return `${e.forwardedAt}  ${e.via.padEnd(4)}  ${e.id}${merged}  ${mag}  ${e.originTime}  ${e.place}  ${outcome}${reason}`;
}

function printEvent(e: ForwardedEvent, format: OutputFormat): void {
  process.stdout.write(`${format === 'json' ? JSON.stringify(e) : formatEvent(e)}\n`);
}

/** Progress and warnings go to stderr, so stdout holds only forwarded events (one per line). */
function stderrLog(): IngestLog {
  const line = (level: string, message: string, fields: Record<string, unknown>) => {
    const extra = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    process.stderr.write(`${new Date().toISOString()} ${level} ${message}${extra ? ` ${extra}` : ''}\n`);
  };
  return {
    info: (m, f) => line('info', m, f),
    warn: (m, f) => line(color().yellow('warn'), m, f),
  };
}
