/**
 * `quakectl local up | down | status | fetch`: the local stack (Kafka, ElasticMQ, dynalite, the Lambda emulator) on
 * loopback. Only flag parsing and printing live here; the work is in local/stack/stack.ts, imported inside actions so
 * that `quakectl --help` stays fast.
 */
import { relative } from 'node:path';
import type { Command } from 'commander';
import type { LocalStackState, StackView } from '../../local/stack/stack.ts';
import { UsageError } from '../../shared/infra/errors.ts';
import { loadCommandProfile, outputFormat, withOutput } from '../context.ts';
import { color, output, renderTable } from '../output.ts';

async function resolveStateDir(cmd: Command): Promise<string> {
  const { stateDir } = await import('../../shared/infra/config.ts');
  const profile = await loadCommandProfile(cmd);
  return stateDir(profile.type === 'local' ? profile : undefined);
}

function progress(message: string): void {
  process.stderr.write(`${color().dim(message)}\n`);
}

function rel(p: string | undefined): string {
  if (!p) return '';
  const r = relative(process.cwd(), p);
  return r.startsWith('..') ? p : r || '.';
}

function table(state: LocalStackState, view: StackView): string {
  const c = color();
  const rows = [
    { service: 'kafka', where: `${view.kafka.brokers.join(',')} (Kafka ${state.kafka.version})`, ...view.kafka },
    { service: 'sqs', where: view.sqs.endpoint, ...view.sqs },
    { service: 'dynamodb', where: view.dynamodb.endpoint, ...view.dynamodb },
    ...(view.lambda ? [{ service: 'lambda', where: view.lambda.endpoint, ...view.lambda }] : []),
    ...(view.moto
      ? [{ service: 'moto', where: `${view.moto.endpoint} (SNS, SES v2, Secrets Manager)`, ...view.moto }]
      : []),
    ...(view.cap ? [{ service: 'cap', where: `${view.cap.feed} (${rel(view.cap.dir)})`, ...view.cap }] : []),
  ].map((r) => ({ ...r, pid: state[r.service as 'kafka']?.pid, log: rel(state[r.service as 'kafka']?.log) }));
  return renderTable(rows, [
    { header: 'service', value: (r) => r.service },
    { header: 'endpoint', value: (r) => r.where },
    { header: 'pid', value: (r) => r.pid, align: 'right' },
    { header: 'healthy', value: (r) => (r.healthy ? c.green('yes') : c.red('no')) },
    { header: 'log', value: (r) => r.log },
  ]);
}

interface UpFlags {
  kafkaVersion?: string;
  kafkaPort?: string;
  kafkaControllerPort?: string;
  sqsPort?: string;
  dynamodbPort?: string;
  lambdaPort?: string;
  motoPort?: string;
  capPort?: string;
  persist?: boolean;
  lambda?: boolean;
  lambdaTimeScale?: string;
  timeout?: string;
  restart?: string;
  output?: string;
}

const SERVICE_NAMES = ['kafka', 'sqs', 'dynamodb', 'lambda', 'moto', 'cap'] as const;
type Service = (typeof SERVICE_NAMES)[number];

function parseServices(value: string | undefined): Service[] | undefined {
  if (!value) return undefined;
  const list = value.split(',').map((s) => s.trim());
  const bad = list.filter((s) => !(SERVICE_NAMES as readonly string[]).includes(s));
  if (bad.length > 0) throw new UsageError(`unknown service ${bad.join(', ')}: expected ${SERVICE_NAMES.join(', ')}`);
  return list as Service[];
}

export function register(program: Command): void {
  const local = program
    .command('local')
    .description('run the whole system on this machine: Kafka, SQS (ElasticMQ), DynamoDB (dynalite), Lambda emulator');

  withOutput(
    local
      .command('up')
      .description('start the local stack (or report the running one) and wait until every service answers')
      .option('--kafka-version <version>', 'Kafka version from Maven Central: 3.9.x, or 4.x', undefined)
      .option('--kafka-port <port>', 'Kafka broker port (default 19092, env QUAKECTL_KAFKA_PORT)')
      .option('--kafka-controller-port <port>', 'KRaft controller port (default 19093)')
      .option('--sqs-port <port>', 'ElasticMQ (SQS) port (default 19324, env QUAKECTL_SQS_PORT)')
      .option('--dynamodb-port <port>', 'dynalite (DynamoDB) port (default 18000, env QUAKECTL_DYNAMODB_PORT)')
      .option('--lambda-port <port>', 'Lambda emulator port (default 19001, env QUAKECTL_LAMBDA_PORT)')
      .option('--cap-port <port>', 'CAP feed (HTTP, <stateDir>/cap) port (default 19090, env QUAKECTL_CAP_PORT)')
      .option(
        '--moto-port <port>',
        'moto server port: SNS, SES v2, Secrets Manager (default 19500, env QUAKECTL_MOTO_PORT)',
      )
      .option(
        '--persist',
        'keep every part on disk under the state dir across down/up: DynamoDB tables, SQS queues and messages, Kafka ' +
          "topics, the Lambda emulator's functions (without it a fresh up starts all of them empty)",
      )
      .option('--no-lambda', 'do not start the Lambda emulator')
      .option('--lambda-time-scale <x>', 'Lambda emulator time scale (e.g. 0.01 shortens async retry delays)')
      .option('--restart <services>', 'comma list of running services to restart anyway (e.g. lambda)')
      .option('--timeout <seconds>', 'how long to wait for the services to answer', '180'),
  ).action(async (flags: UpFlags, cmd: Command) => {
    const format = outputFormat(cmd);
    const [{ up }, { cacheDir }] = await Promise.all([
      import('../../local/stack/stack.ts'),
      import('../../shared/infra/config.ts'),
    ]);
    // Checked before anything starts: --timeout abc used to reach the port check (exit 1) or wait NaN ms.
    const timeoutS = Number(flags.timeout ?? 180);
    if (!(Number.isFinite(timeoutS) && timeoutS > 0)) {
      throw new UsageError(`invalid --timeout "${flags.timeout}": expected a positive number of seconds`);
    }
    const timeScale = flags.lambdaTimeScale === undefined ? undefined : Number(flags.lambdaTimeScale);
    if (timeScale !== undefined && !(Number.isFinite(timeScale) && timeScale > 0)) {
      throw new UsageError(`invalid --lambda-time-scale "${flags.lambdaTimeScale}": expected a positive number`);
    }
    const dir = await resolveStateDir(cmd);
    const result = await up({
      stateDir: dir,
      cacheDir: cacheDir(),
      kafkaVersion: flags.kafkaVersion,
      ports: {
        kafka: flags.kafkaPort,
        kafkaController: flags.kafkaControllerPort,
        sqs: flags.sqsPort,
        dynamodb: flags.dynamodbPort,
        lambda: flags.lambdaPort,
        moto: flags.motoPort,
        cap: flags.capPort,
      },
      persist: flags.persist,
      lambda: flags.lambda,
      lambdaTimeScale: timeScale,
      restart: parseServices(flags.restart),
      timeoutMs: timeoutS * 1000,
      onProgress: format === 'table' ? progress : undefined,
    });
    for (const w of result.warnings) process.stderr.write(`${color().yellow('warning:')} ${w}\n`);
    output(format, result.view, (view) => {
      const head = result.alreadyRunning
        ? `local stack already running (since ${result.state.startedAt ?? '?'}; state in ${rel(dir)})`
        : `local stack up in ${(result.elapsedMs / 1000).toFixed(1)} s (started ${result.started.join(', ')}; ` +
          `state in ${rel(dir)})`;
      const noLambda = view.lambda
        ? ''
        : '\nlambda: emulator not started (local/lambda/main.ts not present, or --no-lambda)';
      return `${head}\n${table(result.state, view)}${noLambda}`;
    });
  });

  local
    .command('down')
    .description('stop the processes the local stack started (by pid) and check that their ports are free')
    .action(async (_flags: unknown, cmd: Command) => {
      const { down } = await import('../../local/stack/stack.ts');
      const dir = await resolveStateDir(cmd);
      const result = await down({ stateDir: dir, onProgress: progress });
      if (!result.wasRunning) process.stdout.write(`local stack not running (no state in ${rel(dir)})\n`);
      else {
        const what = result.stopped.map((s) => `${s.service} (pid ${s.pid})`).join(', ') || 'nothing left running';
        process.stdout.write(`local stack stopped: ${what}; ports free\n`);
      }
    });

  withOutput(
    local.command('status').description('report whether each service of the local stack answers (exit 1 if not all)'),
  ).action(async (_flags: unknown, cmd: Command) => {
    const format = outputFormat(cmd);
    const { status } = await import('../../local/stack/stack.ts');
    const dir = await resolveStateDir(cmd);
    const result = await status({ stateDir: dir });
    if (!result.running || !result.state || !result.view) {
      output(
        format,
        result.view,
        () => `local stack not running (no state in ${rel(dir)}); start it with: quakectl local up`,
      );
      process.exitCode = 1;
      return;
    }
    const { state, view } = result;
    output(format, view, (v) => `local stack ${result.allHealthy ? 'healthy' : 'NOT healthy'}\n${table(state, v)}`);
    if (!result.allHealthy) process.exitCode = 1;
  });

  local
    .command('fetch')
    .description(
      "download the Kafka and ElasticMQ jars and build moto's Python environment in the cache ($QUAKECTL_CACHE or ~/.cache/quakectl)",
    )
    .option('--kafka-version <version>', 'Kafka version (default 3.9.1)')
    .action(async (flags: { kafkaVersion?: string }) => {
      const [{ fetchArtifacts }, { cacheDir }] = await Promise.all([
        import('../../local/stack/stack.ts'),
        import('../../shared/infra/config.ts'),
      ]);
      const dirs = await fetchArtifacts({
        cacheDir: cacheDir(),
        kafkaVersion: flags.kafkaVersion,
        onProgress: progress,
      });
      process.stdout.write(`${dirs.join('\n')}\n`);
    });
}
