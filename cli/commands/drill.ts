/**
 * `quakectl drill [--scenario NAME] [--subscribers N]`: the one-command drill on the local profile. Brings the local
 * stack up if needed, deploys, starts the loopback receiver on the drill port, seeds subscribers if there are none
 * (pointing at the receiver), runs the scenario and prints the report measured at the receiver. Exit 0 only when every
 * eligible subscriber was notified.
 */
import type { Command } from 'commander';
import { globalOptions, loadCommandProfile, outputFormat, withOutput } from '../context.ts';
import { port, positiveInt, positiveNumber, ranged } from '../options.ts';
import { color } from '../output.ts';

interface DrillFlags {
  scenario: string;
  subscribers: number;
  radiusKm: number;
  seed: number;
  detectionDelay: number;
  timeout: number;
  sinkPort?: number;
  direct?: boolean;
}

export function register(program: Command): void {
  withOutput(
    program
      .command('drill')
      .description(
        'one command: local stack up, deploy, seed subscribers if none, run a scenario, report (local profile)',
      )
      .option('--scenario <name>', 'vrancea-1977, vrancea-1990 or kahramanmaras-2023', 'vrancea-1977')
      .option('--subscribers <n>', 'how many to seed when the table is empty', positiveInt, 50_000)
      .option('--radius-km <km>', 'seed them within this distance of the epicentre', positiveNumber, 250)
      .option('--seed <n>', 'PRNG seed of the synthetic subscribers', positiveInt, 1)
      .option('--detection-delay <s>', 'origin time = acceptance minus this', ranged(0, 86_400, 'seconds'), 5)
      .option('--timeout <s>', 'give up following the event after this many seconds', ranged(1, 86_400, 'seconds'), 600)
      .option('--sink-port <port>', 'port of the loopback receiver (default 19080, env QUAKECTL_DRILL_SINK_PORT)', port)
      .option('--direct', 'produce straight to Kafka instead of invoking the producer Lambda'),
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
    const { findScenario } = await import('../../shared/drill/scenarios.ts');
    const scenario = findScenario(flags.scenario);

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
      const deployed = await deploy({ profile, clients }, { settings });
      say(
        deployed.applied.length === 0
          ? 'deploy: every resource unchanged'
          : `deploy: ${deployed.applied.length} resource(s) created or updated`,
      );

      // 3. the receiver, on a fixed port: seeded subscribers keep its URL as their target
      const { sinkPort, sinkUrl } = await import('../../shared/drill/receiver.ts');
      const port = flags.sinkPort ?? sinkPort();
      const { startWebhookSink } = await import('../../local/webhook-sink.ts');
      const { DEFAULT_DRILL_SECRET } = await import('../../shared/drill/seed.ts');
      const sink = await startWebhookSink({ port, secrets: { '*': DEFAULT_DRILL_SECRET } }).catch((err: Error) => {
        throw new PrerequisiteError(
          `cannot start the drill receiver on 127.0.0.1:${port} (${err.message}): is another drill running? ` +
            'Pick another port with --sink-port (seeded subscribers then need re-seeding to that URL)',
          { cause: err },
        );
      });
      try {
        // 4. subscribers
        const { SubscriberStore } = await import('../../shared/segments/index.ts');
        const store = new SubscriberStore(clients.ddb, serviceConfig.names, {
          maxSegmentSize: serviceConfig.fanout.maxSegmentSize,
        });
        const existing = (await store.stats()).subscribers;
        if (existing === 0) {
          const { seedStore } = await import('../../shared/drill/subscribers.ts');
          say(`seeding ${flags.subscribers} subscribers within ${flags.radiusKm} km of ${scenario.title}…`);
          const t0 = Date.now();
          await seedStore(store, {
            count: flags.subscribers,
            center: { lat: scenario.lat, lon: scenario.lon },
            radiusKm: flags.radiusKm,
            seed: flags.seed,
            webhook: sinkUrl(port),
            secret: DEFAULT_DRILL_SECRET,
            assumeNew: true,
          });
          say(`seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        } else {
          say(`${existing} subscribers already there: not seeding`);
        }

        // 5. the scenario
        const { scenarioQuake } = await import('../../shared/drill/scenarios.ts');
        const quake = scenarioQuake(scenario, { now: Date.now(), detectionDelayS: flags.detectionDelay });
        say(`running ${scenario.name}: M${scenario.magnitude} ${scenario.place}, ${scenario.depthKm} km deep`);
        const { simulateAndReport } = await import('./simulate.ts');
        const result = await simulateAndReport(
          { clients, config: serviceConfig },
          { quakes: [quake], drill: true },
          { direct: flags.direct, wait: true, timeout: flags.timeout },
          format,
          sink,
        );
        const { drillPassed } = await import('../../shared/drill/report.ts');
        if (sink.badSignatures() > 0) say(color().yellow(`${sink.badSignatures()} request(s) with a bad signature`));
        if (!result.reports.every(drillPassed)) process.exitCode = 1;
      } finally {
        await sink.close();
      }
    } finally {
      clients.destroy();
    }
  });
}
