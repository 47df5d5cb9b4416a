/**
 * `quakectl push vapid-keys`: a new VAPID key pair (RFC 8292) for the push channel, as JSON
 * `{"publicKey","privateKey"}` (base64url): put the private key in Secrets Manager, the public key in the web
 * application that subscribes browsers (`applicationServerKey`). `--local`: the local profile's keys in the state dir
 * (created if absent; shared/notify/push-keys.ts), printed without the private key.
 */
import type { Command } from 'commander';
import { loadCommandProfile } from '../context.ts';
import { printJson } from '../output.ts';

export function register(program: Command): void {
  const push = program.command('push').description('the Web Push channel');
  push
    .command('vapid-keys')
    .description('generate a VAPID key pair (JSON), or show the local profile’s public key with --local')
    .option('--local', 'the local profile’s keys (state dir), public key and subject only')
    .action(async (flags: { local?: boolean }, cmd: Command) => {
      if (flags.local) {
        const profile = await loadCommandProfile(cmd);
        const { UsageError } = await import('../../shared/infra/errors.ts');
        if (profile.type !== 'local') throw new UsageError(`--local needs the local profile, not "${profile.name}"`);
        const [{ localVapidKeys }, { stateDir }] = await Promise.all([
          import('../../shared/notify/push-keys.ts'),
          import('../../shared/infra/config.ts'),
        ]);
        const { publicKey, subject } = localVapidKeys(stateDir(profile));
        printJson({ publicKey, subject });
        return;
      }
      const { generateVapidKeys } = await import('../../shared/notify/push.ts');
      printJson(generateVapidKeys());
    });
}
