/**
 * Where the push channel's VAPID keys (RFC 8292) come from.
 *
 * - Local profile: `<stateDir>/vapid.json` (`{"publicKey","privateKey","subject"}`, mode 0600), created on first use
 *   so a drill works on a fresh clone; deploy puts the keys in the segment worker's environment (the local stack has
 *   no Secrets Manager, and nothing local is secret from its own operator). Kept across `local down`: subscriptions
 *   made for the public key stay valid.
 * - AWS: generate a pair once (`quakectl push vapid-keys`), keep the private key in Secrets Manager and the public key
 *   in the web application that subscribes browsers (`applicationServerKey`). A new key pair invalidates every
 *   subscription made for the old one (push services answer 403), so keys are rotated only with a re-subscription.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../infra/errors.ts';
import { generateVapidKeys, type VapidKeys } from './push.ts';

/** The subject (JWT `sub`) of local keys: a contact is required, and nothing local reads it. */
export const LOCAL_VAPID_SUBJECT = 'mailto:drill@quakectl.invalid';

const keysSchema = z.object({ publicKey: z.string().min(80), privateKey: z.string().min(40), subject: z.string() });

/** The local profile's keys, created in `stateDir` if absent. Throws ConfigError for an unreadable file. */
export function localVapidKeys(stateDir: string): VapidKeys {
  const file = join(stateDir, 'vapid.json');
  if (existsSync(file)) {
    const r = keysSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!r.success) throw new ConfigError(`${file} is not {"publicKey","privateKey","subject"}: delete it to renew`);
    return r.data;
  }
  mkdirSync(stateDir, { recursive: true });
  const keys = { ...generateVapidKeys(), subject: LOCAL_VAPID_SUBJECT };
  writeFileSync(file, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return keys;
}

/** The segment worker's environment for `keys` (read by push.ts `pushSenderFromEnv`). */
export function vapidEnv(keys: VapidKeys): Record<string, string> {
  return {
    QUAKECTL_VAPID_PUBLIC_KEY: keys.publicKey,
    QUAKECTL_VAPID_PRIVATE_KEY: keys.privateKey,
    QUAKECTL_VAPID_SUBJECT: keys.subject,
  };
}
