/**
 * Commander wiring. Each command group lives in cli/commands/<group>.ts and exports `register(program)`; registering
 * must stay cheap (implementations are imported inside actions). Errors end here and become exit codes:
 * 0 ok, 1 failure, 2 usage error.
 */
import { Command, CommanderError } from 'commander';
import { QuakectlError } from '../shared/infra/errors.ts';
import { color } from './output.ts';

type Register = (program: Command) => void;

/** Command groups, in the order `--help` lists them. */
const groups: Array<() => Promise<{ register: Register }>> = [
  () => import('./commands/local.ts'),
  () => import('./commands/predict.ts'),
  () => import('./commands/replay.ts'),
  () => import('./commands/kafka.ts'),
  () => import('./commands/dlq.ts'),
  () => import('./commands/scale.ts'),
  () => import('./commands/logs.ts'),
  () => import('./commands/locks.ts'),
  () => import('./commands/status.ts'),
  () => import('./commands/deploy.ts'),
  () => import('./commands/iam.ts'),
  () => import('./commands/subscribers.ts'),
  () => import('./commands/simulate.ts'),
  () => import('./commands/ingest.ts'),
  () => import('./commands/drill.ts'),
  () => import('./commands/report.ts'),
  () => import('./commands/console.ts'),
  () => import('./commands/cap.ts'),
  () => import('./commands/secrets.ts'),
  () => import('./commands/push.ts'),
];

export async function buildProgram(): Promise<Command> {
  const program = new Command('quakectl')
    .description('Real-time earthquake alerts: deploy, drill, inspect and scale the quakectl system')
    .version('0.1.0')
    .option('--profile <name>', 'profile to use (default: $QUAKECTL_PROFILE, the config default, else local)')
    .option('--config <file>', 'config file (default: ./quakectl.config.yaml, then ~/.config/quakectl/config.yaml)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const load of groups) (await load()).register(program);
  for (const cmd of allCommands(program)) cmd.exitOverride();
  return program;
}

function allCommands(cmd: Command): Command[] {
  return cmd.commands.flatMap((c) => [c, ...allCommands(c)]);
}

export async function main(argv: string[]): Promise<void> {
  // `quakectl … | head`: the reader went away; stop quietly instead of an unhandled EPIPE stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
  const program = await buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = exitCodeFor(err);
    if (!(err instanceof CommanderError)) {
      process.stderr.write(`${color().red('error:')} ${describe(err)}\n`);
      if (process.env.QUAKECTL_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    }
  }
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
      return 0;
    }
    return 2;
  }
  if (err instanceof QuakectlError) return err.exitCode;
  return 1;
}

/** Network errors a service client throws when nothing answers at its endpoint. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'ETIMEDOUT']);

/**
 * Errors the AWS SDK throws for a resource that does not exist (DynamoDB and Lambda `ResourceNotFoundException`, SQS
 * `QueueDoesNotExist`): on a profile that was never deployed, every command that reads the tables meets one, and its
 * own message ("Requested resource not found") does not say which step is missing.
 */
const MISSING_RESOURCE = new Set(['ResourceNotFoundException', 'QueueDoesNotExist']);

export function describe(err: unknown): string {
  if (err instanceof Error) {
    // The cause is appended only when it adds something: wrappers often already quote it in their message.
    const causeMessage = err.cause instanceof Error ? err.cause.message : '';
    const cause = causeMessage && !err.message.includes(causeMessage) ? ` (${causeMessage})` : '';
    const code = (err as NodeJS.ErrnoException).code;
    const hint =
      code && UNREACHABLE.has(code) && !(err instanceof QuakectlError)
        ? ': a service is not answering at its endpoint; check `quakectl status` (local: `quakectl local status`)'
        : MISSING_RESOURCE.has(err.name)
          ? ": this profile's table, function or queue does not exist: deploy first (`quakectl deploy`), or check --profile"
          : '';
    return `${err.message}${cause}${hint}`;
  }
  return String(err);
}
