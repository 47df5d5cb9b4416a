/**
 * `quakectl drill --channels push=40,sms=20,email=20,telegram=10,webhook=10`: the drill with a channel mix. Refuses a
 * mix naming a channel whose local receiver is missing (local/drill-receivers.ts says what), then: local stack up,
 * each channel's receiver started, deploy with what the worker needs to reach them, the population seeded (upserted:
 * the same ids as the plain drill's seeding, each given its channel of the mix by a hash of its id), the scenario run,
 * and the report: the event's as usual (from the pipeline's counters), then one row per channel measured at that
 * channel's receiver (shared/drill/channels.ts). Exit 1 when the event failed or any channel missed someone.
 *
 * The table keeps the mix after the drill; a plain `quakectl drill` on it then finds subscribers and does not seed:
 * `quakectl local down` (without --persist) and up again starts from an empty table.
 */
import type { Command } from 'commander';
import type { DrillReceiver } from '../../local/drill-receivers.ts';
import type { ChannelRow, ChannelSite } from '../../shared/drill/channels.ts';
import type { DrillReport } from '../../shared/drill/report.ts';
import type { Profile } from '../../shared/infra/config.ts';
import type { SubscriberInput } from '../../shared/segments/types.ts';
import { globalOptions, outputFormat } from '../context.ts';
import { color, renderTable } from '../output.ts';

export interface ChannelDrillFlags {
  channels: string;
  scenario: string;
  subscribers?: number;
  radiusKm?: number;
  seed: number;
  reseed?: boolean;
  detectionDelay: number;
  timeout: number;
  sinkPort?: number;
  direct?: boolean;
}

export interface ChannelDrillResult {
  report: DrillReport;
  channels: ChannelRow[];
}

export async function channelDrill(cmd: Command, flags: ChannelDrillFlags, profile: Profile): Promise<void> {
  const format = outputFormat(cmd);
  const say = (m: string) => {
    if (format === 'table') process.stderr.write(`${color().dim('›')} ${m}\n`);
  };
  const { UsageError, PrerequisiteError } = await import('../../shared/infra/errors.ts');
  const { parseChannelMix, channelFor, channelReport } = await import('../../shared/drill/channels.ts');
  let mix: ReturnType<typeof parseChannelMix>;
  try {
    mix = parseChannelMix(flags.channels);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { RECEIVER_PLUGINS } = await import('../../local/drill-receivers.ts');
  const missing = mix.flatMap((c) => (RECEIVER_PLUGINS[c.type].missing ? [RECEIVER_PLUGINS[c.type].missing] : []));
  if (missing.length) throw new PrerequisiteError(`--channels: ${missing.join('; ')}`);
  const { findScenario, findStreamScenario, scenarioQuake, SCENARIOS } = await import(
    '../../shared/drill/scenarios.ts'
  );
  if (findStreamScenario(flags.scenario)) {
    throw new UsageError(`--channels runs single-event scenarios (${SCENARIOS.map((x) => x.name).join(', ')})`);
  }
  const scenario = findScenario(flags.scenario);

  const [{ up }, config] = await Promise.all([
    import('../../local/stack/stack.ts'),
    import('../../shared/infra/config.ts'),
  ]);
  const state = config.stateDir(profile);
  const upResult = await up({ stateDir: state, cacheDir: config.cacheDir(), onProgress: say });
  for (const w of upResult.warnings) process.stderr.write(`${color().yellow('warning:')} ${w}\n`);

  const { createClients, serviceConfigFromProfile } = await import('../../shared/infra/clients.ts');
  const serviceConfig = serviceConfigFromProfile(profile);
  const clients = createClients(serviceConfig);
  // The population first: a table holding another population is refused before any receiver starts or anything is
  // deployed (this drill gives its own subscribers channels, and would move another population's). On a new stack the
  // tables do not exist yet: the deploy below creates them; with --reseed it re-creates the ones dropped here.
  const { SubscriberStore } = await import('../../shared/segments/index.ts');
  const store = new SubscriberStore(clients.ddb, serviceConfig.names, {
    maxSegmentSize: serviceConfig.fanout.maxSegmentSize,
    minMmiFloor: serviceConfig.fanout.minSubscriberMmi,
  });
  const { drillLayoutState, drillPopulation, dropSubscriberTables, populationAction } = await import(
    '../../shared/drill/layout.ts'
  );
  const population = drillPopulation(flags, (key) => cmd.getOptionValueSource(key) === 'cli', scenario);
  // Its own population is on the drill's webhook between channel drills (put back after each): subscribers on any
  // other target are not its to give channels to.
  const { sinkPort: defaultSinkPort, sinkUrl } = await import('../../shared/drill/receiver.ts');
  const { DEFAULT_DRILL_SECRET: drillSecret } = await import('../../shared/drill/seed.ts');
  const found = await drillLayoutState(store, {
    ...population.layout,
    webhook: sinkUrl(flags.sinkPort ?? defaultSinkPort()),
    secret: drillSecret,
  }).catch((err: Error) => {
    if (err.name === 'ResourceNotFoundException') return { kind: 'empty' as const };
    clients.destroy();
    throw err;
  });
  const action = populationAction(found, {
    reseed: flags.reseed === true,
    explicit: population.explicit,
    channels: true,
    describe: population.describe,
  });
  if (action.kind === 'refuse') {
    clients.destroy();
    throw new UsageError(action.message);
  }
  if (action.kind === 'reseed') {
    say('--reseed: deleting the subscribers and segments tables (the deploy re-creates them)…');
    await dropSubscriberTables(clients.dynamodb, serviceConfig.names);
  }
  const receivers: DrillReceiver[] = [];
  /** The population as seeded with the mix: put back on the drill's webhook afterwards (see `finally`). */
  let seededMix: SubscriberInput[] = [];
  let restore: ((subs: SubscriberInput[]) => Promise<unknown>) | undefined;
  // Ctrl-C mid-drill: still put the subscribers back on the webhook (a `finally` does not run on a signal), so the next
  // plain drill does not find them on channels whose receivers are gone.
  const onInterrupt = () => {
    process.stderr.write('interrupted: putting the drill subscribers back on the webhook channel…\n');
    const done = restore && seededMix.length ? restore(seededMix) : Promise.resolve();
    void done.catch(() => {}).finally(() => process.exit(130));
  };
  process.once('SIGINT', onInterrupt);
  try {
    // 1. the receivers, on fixed ports: seeded targets stay valid from one drill to the next
    const { localVapidKeys } = await import('../../shared/notify/push-keys.ts');
    const { sinkPort } = await import('../../shared/drill/receiver.ts');
    const ctx = {
      env: process.env,
      vapidPublicKey: localVapidKeys(state).publicKey,
      sinkPort: flags.sinkPort ?? sinkPort(),
      motoEndpoint: upResult.state.moto?.healthy ? serviceConfig.endpoints.sesv2 : undefined,
      sesv2: () => clients.sesv2(),
    };
    for (const { type } of mix) {
      receivers.push(
        await RECEIVER_PLUGINS[type].start(ctx).catch((err: Error) => {
          throw new PrerequisiteError(`cannot start the ${type} receiver (${err.message}): is another drill running?`, {
            cause: err,
          });
        }),
      );
    }
    const byType = new Map(receivers.map((r) => [r.type, r]));

    // 2. deploy, with what the worker needs to reach them
    const { deploy } = await import('../../shared/deploy/index.ts');
    const { readDeploySettings } = await import('../../shared/deploy/settings.ts');
    const g = globalOptions(cmd);
    const settings = readDeploySettings(profile.name, { profile: g.profile, configFile: g.config });
    const channelEnv = Object.assign({}, ...receivers.map((r) => r.env));
    const deployed = await deploy({ profile, clients }, { settings, channelEnv });
    say(`deploy: ${deployed.applied.length} resource(s) created or updated`);

    // 3. the population, each subscriber on its channel of the mix
    const { seedSubscribers } = await import('../../shared/drill/seed.ts');
    const subs = seedSubscribers({ ...population.layout }).map((s) => ({
      ...s,
      channel: byType.get(channelFor(s.id, mix))!.channel(s.id),
    }));
    say(`seeding ${subs.length} subscribers (${mix.map((c) => `${c.type} ${c.share}%`).join(', ')})…`);
    seededMix = subs;
    const { DEFAULT_DRILL_SECRET } = await import('../../shared/drill/seed.ts');
    const { sinkUrl: sinkUrlOf } = await import('../../shared/drill/receiver.ts');
    const drillTarget = sinkUrlOf(ctx.sinkPort);
    restore = (list) =>
      store.importAll(
        list.map((s) => ({ ...s, channel: { type: 'webhook', target: drillTarget, secret: DEFAULT_DRILL_SECRET } })),
      );
    const seeded = await store.importAll(subs);
    if (seeded.rejected.length) {
      throw new PrerequisiteError(
        `seeding refused ${seeded.rejected.length} subscriber(s): ${seeded.rejected[0].reason}`,
      );
    }

    // 4. the scenario
    const quake = scenarioQuake(scenario, { now: Date.now(), detectionDelayS: flags.detectionDelay });
    say(`running ${quake.place}: M${quake.magnitude}, ${quake.depthKm} km deep`);
    const { runSimulation, censusRadiusKm } = await import('../../shared/drill/run.ts');
    const since = Date.now();
    const run = await runSimulation({
      clients,
      names: serviceConfig.names,
      store,
      payload: { quakes: [quake], drill: true },
      direct: flags.direct,
      wait: true,
      timeoutMs: flags.timeout * 1000,
    });
    const report = run.reports[0];

    // 5. per channel, at the receivers
    const { getEvent } = await import('../../shared/events/index.ts');
    const record = await getEvent({ ddb: clients.ddb, table: serviceConfig.names.table('events') }, report.eventId);
    const planned = (record?.plannedQuake ?? record?.quake ?? quake) as typeof quake;
    const { subscribersNear } = await import('../../shared/drill/simulate.ts');
    const { subscriberLevel } = await import('../../shared/fanout/ledger.ts');
    const { intensityModelFor } = await import('../../shared/seismo/intensity.ts');
    const model = intensityModelFor(planned);
    const eligible: ChannelSite[] = (await subscribersNear(store, planned, censusRadiusKm(planned)))
      .filter((s) => subscriberLevel(model, s, { probability: serviceConfig.fanout.alertProbability }).level !== 'none')
      .map((s) => ({ id: s.id, lat: s.lat, lon: s.lon, type: s.channel.type }));
    // The polled receivers (moto's SMS and e-mail record) read once more: the last sends before the event completed
    // may not have been polled yet.
    await Promise.all(receivers.map((r) => r.flush()));
    const channels = channelReport({
      quake: planned,
      acceptedAt: record?.acceptedAt ?? planned.updatedAt,
      mix,
      eligible,
      deliveries: Object.fromEntries(receivers.map((r) => [r.type, r.deliveries(report.eventId, since)])),
      throttled: Object.fromEntries(receivers.map((r) => [r.type, r.throttled()])),
    });
    const result: ChannelDrillResult = { report, channels };
    const { printJson } = await import('../output.ts');
    const { renderReport } = await import('./simulate.ts');
    if (format === 'json') printJson(result);
    else process.stdout.write(`${renderReport(report)}\n${renderChannelTable(channels)}\n`);
    const { drillPassed } = await import('../../shared/drill/report.ts');
    if (!drillPassed(report) || channels.some((c) => c.missing > 0)) process.exitCode = 1;
  } finally {
    process.removeListener('SIGINT', onInterrupt);
    for (const r of receivers) await r.close().catch(() => {});
    // The receivers are gone and a plain drill deploys no channel senders: the seeded subscribers go back to the
    // drill's webhook, so the next plain `drill` finds the table as it expects.
    if (restore && seededMix.length) {
      await restore(seededMix).then(
        () => say(`${seededMix.length} drill subscribers put back on the webhook channel`),
        (err: Error) =>
          process.stderr.write(
            `warning: could not put the drill subscribers back on the webhook channel (${err.message}); ` +
              'run `quakectl local down && quakectl local up` before a plain drill\n',
          ),
      );
    }
    clients.destroy();
  }
}

const msText = (v: number | null) => (v === null ? '-' : v < 1000 ? `${v} ms` : `${(v / 1000).toFixed(2)} s`);

/** The per-channel rows as a table (times after the producer accepted the event, measured at each receiver). */
export function renderChannelTable(rows: ChannelRow[]): string {
  return renderTable(rows, [
    { header: 'channel', value: (r) => `${r.channel} (${r.share}%)` },
    { header: 'eligible', value: (r) => r.eligible, align: 'right' },
    { header: 'delivered', value: (r) => r.delivered, align: 'right' },
    { header: 'missing', value: (r) => r.missing, align: 'right' },
    { header: 'first', value: (r) => msText(r.firstDeliveryMs), align: 'right' },
    { header: 'last', value: (r) => msText(r.lastDeliveryMs), align: 'right' },
    { header: 'before S', value: (r) => (r.beforeSPct === null ? '-' : `${r.beforeSPct}%`), align: 'right' },
    { header: 'throttled', value: (r) => (r.throttled === null ? '-' : r.throttled), align: 'right' },
  ]);
}
