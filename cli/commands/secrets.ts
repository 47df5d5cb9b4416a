/**
 * `quakectl secrets set <kind> --from-stdin`: stores a channel secret (the Telegram bot token) in the profile's
 * Secrets Manager — moto on the local profile — and prints its ARN for `deploy.notify.telegram.secretArn`. The value is
 * read from standard input only (never an argument: argv is visible to every user of the machine) and never printed.
 */
import type { Command } from 'commander';
import { commandContext, outputFormat, withOutput } from '../context.ts';
import { output } from '../output.ts';

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

export function register(program: Command): void {
  const secrets = program.command('secrets').description('channel secrets in Secrets Manager (never printed)');
  withOutput(
    secrets
      .command('set')
      .description('store a channel secret read from stdin and print its ARN (kinds: telegram-bot-token)')
      .argument('<kind>', 'telegram-bot-token')
      .option('--from-stdin', 'read the value from standard input (required)'),
  ).action(async (kind: string, flags: { fromStdin?: boolean }, cmd: Command) => {
    const { UsageError } = await import('../../shared/infra/errors.ts');
    if (!flags.fromStdin) throw new UsageError('pass --from-stdin and pipe the value in (it is never an argument)');
    const { CHANNEL_SECRETS, putChannelSecret } = await import('../../shared/deploy/secrets.ts');
    if (!Object.hasOwn(CHANNEL_SECRETS, kind)) {
      throw new UsageError(`unknown secret "${kind}": expected one of ${Object.keys(CHANNEL_SECRETS).join(', ')}`);
    }
    const value = await readStdin(process.stdin);
    if (!value.trim()) throw new UsageError('nothing on standard input');
    const format = outputFormat(cmd);
    const { clients } = await commandContext(cmd);
    try {
      const r = await putChannelSecret(await clients.secretsmanager(), clients.config.names, kind, value);
      output(
        format,
        r,
        (x) =>
          `${x.created ? 'created' : 'updated'} secret ${x.name}\n${x.arn}\n` +
          `set it in the profile: deploy.notify.telegram.secretArn: ${x.arn} (then quakectl deploy)`,
      );
    } finally {
      clients.destroy();
    }
  });
}
