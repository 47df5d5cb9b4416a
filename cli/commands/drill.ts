/**
 * `quakectl drill [--scenario NAME] [--subscribers N] [--reseed]`: the one-command drill on the local profile. Brings
 * the local stack up if needed, seeds the scenario's population if the table is empty (pointing at the receiver; on a
 * new stack after deploying the tables, queues and topics), or finds what the table holds (shared/drill/layout.ts):
 * the population asked for is used, another one is replaced with --reseed, refused when the operator named the
 * population, used with a warning otherwise. Then it deploys (the functions then prime on the seeded tables), starts the loopback
 * receiver on the drill port, runs the scenario and prints the report measured at the receiver. Exit 0 only when
 * every eligible subscriber was notified.
 */
import type { Command } from 'commander';
import { DEFAULT_DRILL_POPULATION, SCENARIOS, scenarioNames } from '../../shared/drill/scenarios.ts';
import { globalOptions, loadCommandProfile, outputFormat, withOutput } from '../context.ts';
import { fixedPort, positiveInt, positiveNumber, ranged } from '../options.ts';
import { color } from '../output.ts';

interface DrillFlags {
  scenario: string;
  subscribers?: number;
  radiusKm?: number;
  seed: number;
  reseed?: boolean;
  detectionDelay: number;
  timeout: number;
  sinkPort?: number;
  direct?: boolean;
  report?: string;
  channels?: string;
}

/** The scenarios whose drill radius is not the default, for the help text. */
function radiusDefaults(): string {
  return SCENARIOS.filter((s) => s.drillPopulation)
    .map((s) => `${s.name} ${s.drillPopulation!.radiusKm}`)
    .join('; ');
}

/** The scenarios whose drill population is not the default, for the help text. */
function populationDefaults(): string {
  return SCENARIOS.filter((s) => s.drillPopulation)
    .map((s) => `${s.name} ${s.drillPopulation!.subscribers} within ${s.drillPopulation!.radiusKm} km`)
    .join('; ');
}

export function register(program: Command): void {
  withOutput(
    program
      .command('drill')
      .description(
        "one command: local stack up, deploy, seed the scenario's subscribers if none (--reseed replaces them), run it, report (local profile)",
      )
      .option('--scenario <name>', `a scenario: ${scenarioNames().join(', ')}`, 'vrancea-1977')
      .option(
        '--subscribers <n>',
        `how many subscribers the drill's population has (default ${DEFAULT_DRILL_POPULATION.subscribers}; ${populationDefaults()}); seeded into an empty table`,
        positiveInt,
      )
      .option(
        '--radius-km <km>',
        `within this distance of the epicentre (default ${DEFAULT_DRILL_POPULATION.radiusKm}; ${radiusDefaults()})`,
        positiveNumber,
      )
      .option('--seed <n>', 'PRNG seed of the synthetic subscribers', positiveInt, 1)
      .option(
        '--reseed',
        'replace the subscribers in the local table with the drill population (deletes every one of them first)',
      )
      .option('--detection-delay <s>', 'origin time = acceptance minus this', ranged(0, 86_400, 'seconds'), 5)
      .option('--timeout <s>', 'give up following the event after this many seconds', ranged(1, 86_400, 'seconds'), 600)
      .option(
        '--sink-port <port>',
        'port of the loopback receiver (default 19080, env QUAKECTL_DRILL_SINK_PORT)',
        fixedPort,
      )
      .option('--direct', 'produce straight to Kafka instead of invoking the producer Lambda')
      .option('--report <file>', 'also write the HTML report (map, plot, tables; times measured at the receiver)')
      .option(
        '--channels <mix>',
        'seed a channel mix in percent, e.g. push=40,telegram=30,webhook=30, and report per channel; the local receiver of each channel is started (moto for sms and email)',
      ),
  ).action(async (flags: DrillFlags, cmd: Command) => {
    const format = outputFormat(cmd);
    const say = (m: string) => {
      if (format === 'table') process.stderr.write(`${color().dim('›')} ${m}\n`);
    };
    const profile = await loadCommandProfile(cmd);
    const { UsageError, PrerequisiteError } = await import('../../shared/infra/errors.ts');
    if (profile.type !== 'local') {
      throw new UsageError(
        `drill runs on the local profile (its receiver is on loopback); on "${profile.name}" use: ` +
          'quakectl simulate --scenario vrancea-1977 --wait',
      );
    }
    if (flags.channels !== undefined) {
      const { channelDrill } = await import('./drill-channels.ts');
      return channelDrill(cmd, { ...flags, channels: flags.channels }, profile);
    }
    const { findScenario, findStreamScenario } = await import('../../shared/drill/scenarios.ts');
    const stream = findStreamScenario(flags.scenario);
    const last = stream?.steps.at(-1);
    const scenario = stream
      ? { title: stream.title, lat: last!.lat, lon: last!.lon, name: stream.name }
      : findScenario(flags.scenario);

    // 1. the local stack
    const [{ up }, config] = await Promise.all([
      import('../../local/stack/stack.ts'),
      import('../../shared/infra/config.ts'),
    ]);
    const upResult = await up({ stateDir: config.stateDir(profile), cacheDir: config.cacheDir(), onProgress: say });
    for (const w of upResult.warnings) process.stderr.write(`${color().yellow('warning:')} ${w}\n`);
    say(
      upResult.alreadyRunning
        ? 'local stack already running'
        : `local stack up in ${(upResult.elapsedMs / 1000).toFixed(1)} s`,
    );

    const { createClients, serviceConfigFromProfile } = await import('../../shared/infra/clients.ts');
    const serviceConfig = serviceConfigFromProfile(profile);
    const clients = createClients(serviceConfig);
    try {
      // 2. deploy
      const { deploy } = await import('../../shared/deploy/index.ts');
      // The profile's deploy block counts here too (e.g. provisionedConcurrency 0 to measure the cold path).
      const { readDeploySettings } = await import('../../shared/deploy/settings.ts');
      const g = globalOptions(cmd);
      const settings = readDeploySettings(profile.name, { profile: g.profile, configFile: g.config });
      const { SubscriberStore } = await import('../../shared/segments/index.ts');
      const store = new SubscriberStore(clients.ddb, serviceConfig.names, {
        maxSegmentSize: serviceConfig.fanout.maxSegmentSize,
        minMmiFloor: serviceConfig.fanout.minSubscriberMmi,
      });
      // Subscribers are seeded before the functions are published, as in production, where they exist before a
      // release: provisioned environments prime on the real tables (the consumer's cell circles, a real shard's first
      // page), so the drill's first notification measures the cold path a real deployment has. On a new stack the
      // tables, queues and topics come first; an unreadable segments table is a missing one.
      const tablesFirst = async () => {
        const later = 'after seeding';
        const data = await deploy(
          { profile, clients },
          { settings, skip: { function: later, mapping: later, schedule: later } },
        );
        say(`deploy: tables, queues and topics first (${data.applied.length} created or updated)`);
      };
      const readable = await store.stats().then(
        () => true,
        () => false,
      );
      if (!readable) await tablesFirst();
      const { sinkPort, sinkUrl } = await import('../../shared/drill/receiver.ts');
      const port = flags.sinkPort ?? sinkPort();
      const { DEFAULT_DRILL_SECRET } = await import('../../shared/drill/seed.ts');
      const { drillLayoutState, drillPopulation, dropSubscriberTables, populationAction } = await import(
        '../../shared/drill/layout.ts'
      );
      const population = drillPopulation(flags, (key) => cmd.getOptionValueSource(key) === 'cli', scenario);
      // A receiver on another port names the population too: its subscribers' targets carry the port.
      if (cmd.getOptionValueSource('sinkPort') === 'cli') population.explicit.push('--sink-port');
      // The plain drill's population is on its receiver: subscribers left on other channels (a channel drill that could
      // not put them back) or on another port's receiver are another population.
      const found = await drillLayoutState(store, {
        ...population.layout,
        webhook: sinkUrl(port),
        secret: DEFAULT_DRILL_SECRET,
      });
      const action = populationAction(found, {
        reseed: flags.reseed === true,
        explicit: population.explicit,
        channels: false,
        describe: population.describe,
      });
      if (action.kind === 'refuse') throw new UsageError(action.message);
      const drilledOn = {
        asked: population.describe,
        found:
          action.kind === 'seed'
            ? ('seeded' as const)
            : action.kind === 'reseed'
              ? ('reseeded' as const)
              : found.kind === 'other'
                ? ('other' as const)
                : ('same' as const),
        subscribers: action.kind === 'use' && found.kind !== 'empty' ? found.subscribers : population.layout.count,
        ...(action.kind === 'use' && found.kind === 'other' ? { reason: found.reason } : {}),
      };
      if (action.kind === 'reseed') {
        say('--reseed: deleting the subscribers and segments tables…');
        await dropSubscriberTables(clients.dynamodb, serviceConfig.names);
        await tablesFirst();
      }
      if (action.kind === 'seed' || action.kind === 'reseed') {
        const { seedStore } = await import('../../shared/drill/subscribers.ts');
        say(`seeding ${population.describe}…`);
        const t0 = Date.now();
        await seedStore(store, {
          ...population.layout,
          webhook: sinkUrl(port),
          secret: DEFAULT_DRILL_SECRET,
          assumeNew: true,
        });
        say(`seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      } else if (action.warning) {
        process.stderr.write(`${color().yellow('warning:')} ${action.warning}\n`);
      } else {
        say(`${population.describe}: already there, not seeding`);
      }
      const deployed = await deploy({ profile, clients }, { settings });
      // A mapping this deploy created is still joining its Kafka consumer group: the drill measures the alert path,
      // not that join (a deployed system's mapping joined long before its first quake).
      if (deployed.applied.some((a) => a.kind === 'mapping')) {
        const { defaultConsumerGroup, waitForGroupMembers } = await import('../../shared/ops/kafka/group.ts');
        const group = await defaultConsumerGroup(
          clients.lambda,
          serviceConfig.names.function('consumer'),
          serviceConfig.names.eventsTopic,
        );
        if (!(await waitForGroupMembers(clients.kafka, group, { timeoutMs: 20_000 }))) {
          process.stderr.write(
            `${color().yellow('warning:')} the consumer's Kafka group ${group} has no member after 20 s: the first notification includes its join\n`,
          );
        }
      }
      say(
        deployed.applied.length === 0
          ? 'deploy: every resource unchanged'
          : `deploy: ${deployed.applied.length} resource(s) created or updated`,
      );

      // 3. the receiver, on a fixed port: seeded subscribers keep its URL as their target
      const { startWebhookSink } = await import('../../local/webhook-sink.ts');
      const sink = await startWebhookSink({ port, secrets: { '*': DEFAULT_DRILL_SECRET } }).catch((err: Error) => {
        throw new PrerequisiteError(
          `cannot start the drill receiver on 127.0.0.1:${port} (${err.message}): is another drill running? ` +
            'Pick another port with --sink-port and add --reseed (seeded subscribers carry the port in their URL)',
          { cause: err },
        );
      });
      try {
        // 4. the scenario
        if (stream) {
          say(
            `running ${stream.name}: ${stream.steps.length} solutions from ${new Set(stream.steps.map((x) => x.source)).size} agencies over ${stream.steps.at(-1)!.atS} s`,
          );
          const { runStream } = await import('../../shared/drill/stream.ts');
          const report = await runStream({
            clients,
            names: serviceConfig.names,
            store,
            scenario: stream,
            direct: flags.direct,
            detectionDelayS: flags.detectionDelay,
            timeoutMs: flags.timeout * 1000,
            receiver: sink,
            onStep: (st) =>
              say(
                `  +${st.atS}s ${st.source} M${st.magnitude}: ${st.accepted.length ? `published as ${st.accepted.join(', ')}` : 'superseded'}`,
              ),
          });
          const { printJson } = await import('../output.ts');
          if (format === 'json') printJson(report);
          else process.stdout.write(`${renderStreamReport(report)}\n`);
          if (!report.passed) process.exitCode = 1;
          return;
        }
        const { scenarioQuake } = await import('../../shared/drill/scenarios.ts');
        const quake = scenarioQuake(findScenario(flags.scenario), {
          now: Date.now(),
          detectionDelayS: flags.detectionDelay,
        });
        say(`running ${quake.place}: M${quake.magnitude}, ${quake.depthKm} km deep`);
        const { simulateAndReport } = await import('./simulate.ts');
        const environments = async (eventId: string) => {
          const [{ coldStarts }, { getEvent }, { loadLogSupport, logSource }] = await Promise.all([
            import('../../shared/report/gather.ts'),
            import('../../shared/events/index.ts'),
            import('./logs.ts'),
          ]);
          await loadLogSupport();
          const record = await getEvent({ ddb: clients.ddb, table: serviceConfig.names.table('events') }, eventId);
          if (!record) return null;
          const logs = logSource({ clients, config: serviceConfig, profile });
          return coldStarts(logs, serviceConfig.names, record, Date.now());
        };
        const result = await simulateAndReport(
          { clients, config: serviceConfig },
          { quakes: [quake], drill: true },
          { direct: flags.direct, wait: true, timeout: flags.timeout },
          format,
          sink,
          environments,
          drilledOn,
        );
        if (flags.report) {
          const { writeReports } = await import('./report.ts');
          const ids = result.reports.map((r) => r.eventId);
          await writeReports({ clients, config: serviceConfig, profile }, ids, flags.report, {
            receiver: sink,
            duplicates: ids.length === 1 ? (result.reports[0].duplicates ?? undefined) : undefined,
          });
        }
        const { drillPassed } = await import('../../shared/drill/report.ts');
        if (sink.badSignatures() > 0) say(color().yellow(`${sink.badSignatures()} request(s) with a bad signature`));
        if (sink.replays() > 0) say(color().yellow(`${sink.replays()} replayed or stale request(s) not processed`));
        if (!result.reports.every(drillPassed)) process.exitCode = 1;
      } finally {
        await sink.close();
      }
    } finally {
      clients.destroy();
    }
  });
}

const msText = (v: number | null) => (v === null ? '-' : v < 1000 ? `${v} ms` : `${(v / 1000).toFixed(2)} s`);

/** The revision-stream drill's report, per subscriber and level (shared/drill/stream.ts). */
export function renderStreamReport(r: import('../../shared/drill/stream.ts').StreamReport): string {
  const c = color();
  const levels = Object.entries(r.byLevel)
    .map(([l, n]) => `${l} ${n}`)
    .join(', ');
  return [
    `${c.yellow('DRILL')} ${c.bold(r.scenario)}: ${r.steps.length} solutions sent, ${r.oneEvent ? `one event ${r.eventIds[0]}` : c.red(`${r.eventIds.length} events: ${r.eventIds.join(', ')}`)}`,
    `  runs: ${r.runs.map((x) => `r${x.revision} M${x.magnitude} (${x.source})`).join(' → ') || '-'}; state ${r.state}`,
    `  eligible (last version) ${r.eligible}, alerted ${r.alerted}, notifications ${r.delivered} (${levels || '-'})`,
    `  missing ${r.missing}, same level twice ${r.levelTwice}, stray levels ${r.strayLevels}, repeated ids ${r.repeats} (de-duplicated by receivers)`,
    `  after the first solution was sent: first ${msText(r.firstDeliveryMs)}, p50 ${msText(r.p50DeliveryMs)}, last ${msText(r.lastDeliveryMs)}`,
    `  notified before shaking (every eligible subscriber, the blind zone included) ${r.notifiedBeforeShakingPct === null ? '-' : `${r.notifiedBeforeShakingPct}%`}`,
    r.passed
      ? c.green('  PASS: one event, everyone alerted at each level reached exactly once, nobody skipped')
      : c.red('  FAIL: see the counts above'),
  ].join('\n');
}
