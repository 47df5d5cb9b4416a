/**
 * `quakectl simulate (--scenario NAME | --mag M --lat LAT --lon LON [--depth KM] | --replay FILE) [--wait] [--direct]
 * [--live] [-o json]`. Every simulated event is a drill unless `--live` (refused on the local profile, confirmed
 * elsewhere). With `--wait` on the local profile the loopback sink listens on the drill port, so delivered, duplicates
 * and latencies are measured at the receiving end. Exit 1 if a followed event did not complete or missed anyone.
 */
import type { Command } from 'commander';
import { type DrillReport, drillPassed } from '../../shared/drill/report.ts';
import type { RunResult } from '../../shared/drill/run.ts';
import { SCENARIOS } from '../../shared/drill/scenarios.ts';
import type { Clients, ServiceConfig } from '../../shared/infra/clients.ts';
import type { Profile } from '../../shared/infra/config.ts';
import type { ProducerPayload } from '../../shared/ingest/index.ts';
import { commandContext, outputFormat, withOutput } from '../context.ts';
import { port, ranged } from '../options.ts';
import { color, interactive, type OutputFormat, printJson } from '../output.ts';

// Out-of-range values are a usage error (exit 2) here, as in `predict`, instead of a send the producer rejects
// (exit 1): the ranges are the ones shared/quake/schema.ts validates.

export interface SimulateFlags {
  scenario?: string;
  mag?: number;
  lat?: number;
  lon?: number;
  depth?: number;
  replay?: string;
  detectionDelay: number;
  live?: boolean;
  yes?: boolean;
  direct?: boolean;
  wait?: boolean;
  timeout: number;
  sinkPort?: number;
  secret?: string;
}

export function register(program: Command): void {
  withOutput(
    program
      .command('simulate')
      .description('send a simulated (drill) earthquake through the pipeline and optionally follow it to completion')
      .option('--scenario <name>', `scenario: ${SCENARIOS.map((x) => x.name).join(', ')}`)
      .option('--mag <m>', 'magnitude (-2..10)', ranged(-2, 10))
      .option('--lat <deg>', 'epicentre latitude', ranged(-90, 90))
      .option('--lon <deg>', 'epicentre longitude', ranged(-180, 180))
      .option('--depth <km>', 'hypocentre depth in km, -10..800 (default 10)', ranged(-10, 800))
      .option('--replay <file>', 'send the events of a feed file (USGS GeoJSON, EMSC, FDSN text) as drills')
      .option(
        '--detection-delay <s>',
        'origin time = now minus this (networks publish 5-7 s after origin)',
        ranged(0, 86_400, 'seconds'),
        5,
      )
      .option('--live', 'send a REAL, non-drill alert (refused on the local profile; asks for confirmation)')
      .option('--yes', 'confirm --live without asking')
      .option('--direct', 'produce straight to Kafka with the producer code instead of invoking the producer Lambda')
      .option('--wait', 'follow the event to completion and print the report')
      .option('--timeout <s>', 'give up following after this many seconds', ranged(1, 86_400, 'seconds'), 300)
      .option('--sink-port <port>', 'local: port of the loopback receiver (default 19080; 0 = no receiver)', port)
      .option('--secret <secret>', 'local: webhook secret the receiver verifies (default: the drill secret)'),
  ).action(async (flags: SimulateFlags, cmd: Command) => {
    const format = outputFormat(cmd);
    const ctx = await commandContext(cmd);
    try {
      const payload = await buildPayload(flags, ctx.profile);
      const receiver = flags.wait && ctx.profile.type === 'local' ? await startReceiver(flags) : undefined;
      try {
        const result = await simulateAndReport(ctx, payload, flags, format, receiver);
        if (result.reports.some((r) => !drillPassed(r))) process.exitCode = 1;
      } finally {
        await receiver?.close();
      }
    } finally {
      ctx.clients.destroy();
    }
  });
}

export async function buildPayload(flags: SimulateFlags, profile: Profile): Promise<ProducerPayload> {
  const { UsageError } = await import('../../shared/infra/errors.ts');
  const sources = [flags.scenario, flags.replay, flags.mag !== undefined ? 'mag' : undefined].filter(Boolean);
  if (sources.length !== 1) throw new UsageError('give exactly one of --scenario, --replay or --mag/--lat/--lon');
  if (flags.live) {
    if (profile.type === 'local') {
      throw new UsageError('--live is refused on the local profile: a local stack only runs drills');
    }
    const { confirm } = await import('../../shared/ops/confirm.ts');
    await confirm({
      action: `send a REAL, non-drill earthquake alert to every eligible subscriber of profile "${profile.name}"`,
      yes: flags.yes,
      alwaysAsk: true,
    });
  }
  const drill = !flags.live;
  if (flags.replay) {
    const { readFile } = await import('node:fs/promises');
    const text = await readFile(flags.replay, 'utf8').catch((err: Error) => {
      throw new UsageError(`cannot read ${flags.replay}: ${err.message}`, { cause: err });
    });
    return { documents: [text], drill };
  }
  const { findScenario, scenarioQuake, simulatedQuake } = await import('../../shared/drill/scenarios.ts');
  const now = Date.now();
  const common = { now, detectionDelayS: flags.detectionDelay, live: flags.live };
  if (flags.scenario) return { quakes: [scenarioQuake(findScenario(flags.scenario), common)], drill };
  if (flags.lat === undefined || flags.lon === undefined) throw new UsageError('--mag needs --lat and --lon');
  const e = { magnitude: flags.mag!, lat: flags.lat, lon: flags.lon, depthKm: flags.depth ?? 10 };
  return { quakes: [simulatedQuake(e, common)], drill };
}

/** The loopback receiver on the drill port; undefined (with a note) when that port is taken. */
export async function startReceiver(flags: { sinkPort?: number; secret?: string }) {
  const { sinkPort } = await import('../../shared/drill/receiver.ts');
  const { DEFAULT_DRILL_SECRET } = await import('../../shared/drill/seed.ts');
  const port = flags.sinkPort ?? sinkPort();
  if (port === 0) return undefined;
  const { startWebhookSink } = await import('../../local/webhook-sink.ts');
  try {
    return await startWebhookSink({ port, secrets: { '*': flags.secret ?? DEFAULT_DRILL_SECRET } });
  } catch (err) {
    process.stderr.write(
      `note: no receiver on port ${port} (${(err as Error).message}); figures come from the sender's counters\n`,
    );
    return undefined;
  }
}

export async function simulateAndReport(
  ctx: { clients: Clients; config: ServiceConfig },
  payload: ProducerPayload,
  flags: Pick<SimulateFlags, 'direct' | 'wait' | 'timeout'>,
  format: OutputFormat,
  receiver?: Awaited<ReturnType<typeof startReceiver>>,
  /** The drill: which function environments were cold during the event (read from the functions' logs). */
  environments?: (eventId: string) => Promise<DrillReport['environments']>,
  /** The drill: the population it ran on (`DrillReport.population`). */
  population?: DrillReport['population'],
): Promise<RunResult> {
  const { SubscriberStore } = await import('../../shared/segments/index.ts');
  const { runSimulation } = await import('../../shared/drill/run.ts');
  const { inkProgress, plainProgress } = await import('./simulate-view.ts');
  const store = new SubscriberStore(ctx.clients.ddb, ctx.config.names, {
    maxSegmentSize: ctx.config.fanout.maxSegmentSize,
    minMmiFloor: ctx.config.fanout.minSubscriberMmi,
  });
  const progress = flags.wait ? (interactive(process.stderr) ? await inkProgress() : plainProgress()) : undefined;
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  let result: RunResult;
  try {
    result = await runSimulation({
      clients: ctx.clients,
      names: ctx.config.names,
      store,
      payload,
      direct: flags.direct,
      wait: flags.wait,
      timeoutMs: flags.timeout * 1000,
      receiver,
      signal: abort.signal,
      onSent: (sent) => {
        if (format === 'table') {
          process.stderr.write(
            `sent ${sent.accepted.length} event(s)${sent.accepted.length ? `: ${sent.accepted.join(', ')}` : ''}` +
              `${sent.rejected.length ? `, ${sent.rejected.length} rejected` : ''}\n`,
          );
        }
      },
      onProgress: (u) => void Promise.resolve(progress?.update(u)).catch(() => {}),
    });
  } finally {
    progress?.stop();
    process.off('SIGINT', onSigint);
  }
  if (environments) {
    for (const r of result.reports) {
      r.environments = await environments(r.eventId).catch((err) => {
        process.stderr.write(`note: function logs not read (${(err as Error).message})\n`);
        return null;
      });
    }
  }
  if (population) for (const r of result.reports) r.population = population;
  if (format === 'json')
    printJson(flags.wait ? (result.reports.length === 1 ? result.reports[0] : result.reports) : result.sent);
  else if (flags.wait) process.stdout.write(`${result.reports.map(renderReport).join('\n\n')}\n`);
  else process.stdout.write(`accepted: ${result.sent.accepted.join(', ') || 'none'}\n`);
  return result;
}

const ms = (v: number | null) => (v === null ? '-' : v < 1000 ? `${v} ms` : `${(v / 1000).toFixed(2)} s`);

export function renderReport(r: DrillReport): string {
  const c = color();
  const passed = drillPassed(r);
  const where =
    r.measuredAt === 'sender'
      ? "sender's counters: the receivers' acknowledgements"
      : r.eligibleAtSink !== null && r.eligibleAtSink < r.eligible
        ? `${r.receivedAtSink} at the local receiver, the rest acknowledged by other receivers`
        : 'measured at the receiver';
  return [
    `${r.drill ? c.yellow('DRILL') : c.red.bold('LIVE')} ${c.bold(r.eventId)}  M${r.magnitude} ${r.place}`,
    `  state ${r.state}, strategy ${r.strategy ?? '-'}, segments ${r.segments.done}/${r.segments.total}`,
    ...(r.population?.found === 'other'
      ? [
          c.yellow(
            `  population: not the one asked for (${r.population.asked}): ${r.population.reason}; --reseed replaces it`,
          ),
        ]
      : []),
    `  subscribers in footprint ${r.subscribersInFootprint ?? '-'}, eligible ${r.eligible}`,
    `  delivered ${r.delivered} (${where}), failed ${r.failed}, duplicates ${r.duplicates ?? '-'}` +
      (r.missing !== null ? `, missing ${r.missing}` : ''),
    `  after acceptance: first ${ms(r.firstDeliveryMs)}, p50 ${ms(r.p50DeliveryMs)}, p90 ${ms(r.p90DeliveryMs)}, ` +
      `p99 ${ms(r.p99DeliveryMs)}, last ${ms(r.lastDeliveryMs)}` +
      `${r.ratePerS !== null ? `, ${r.ratePerS} notifications/s` : ''}`,
    `  notified before shaking (every eligible subscriber, the blind zone included) ${r.notifiedBeforeShakingPct === null ? '-' : `${r.notifiedBeforeShakingPct}%`}`,
    ...bandLines(r),
    ...environmentLines(r),
    r.state === 'skipped'
      ? c.yellow(`  NOT ALERTED: ${r.reason ?? 'the consumer skipped the event'} (nobody was due an alert)`)
      : passed
        ? c.green('  PASS: every eligible subscriber was notified')
        : c.red('  FAIL: not every eligible subscriber was notified'),
  ].join('\n');
}

/** The per-band table: before-S share outside the blind zone (S before the first notification) by epicentral band. */
function bandLines(r: DrillReport): string[] {
  if (!r.bands) return [];
  const pct = (v: number | null) => (v === null ? '-' : `${v}%`);
  return [
    '  before S outside the blind zone, by epicentral band:',
    ...r.bands.map(
      (b) =>
        `    ${b.toKm === null ? `≥ ${b.fromKm}` : `${b.fromKm}–${b.toKm}`} km: ${pct(b.pct)} ` +
        `(${b.beforeS} of ${b.outsideBlind} outside the blind zone; ${b.eligible} eligible)`,
    ),
  ];
}

/** Cold or warm (provisioned or reused) environments of the consumer and the segment worker. */
function environmentLines(r: DrillReport): string[] {
  if (!r.environments) return [];
  // Warm: every environment on the path was initialised before the quake (a provisioned one, even never invoked
  // before, as right after a deploy, counts: its init ran at publication, as on AWS).
  const path = r.environments.some((e) => (e.coldBeforeFirst ?? 0) > 0)
    ? 'cold'
    : 'warm, no environment initialised on it (provisioned ones initialise when published)';
  return [
    `  first notification's path: ${path}; ` +
      r.environments
        .map(
          (e) =>
            `${e.function.replace(/^.*?-(consumer|segment-worker)$/, '$1')}: ${e.invocations} invocation(s), ` +
            `${e.cold} cold${e.cold ? ` (init up to ${Math.round(e.maxInitMs ?? 0)} ms; ${e.coldBeforeFirst ?? 0} before the first notification)` : ''}`,
        )
        .join('; '),
  ];
}
