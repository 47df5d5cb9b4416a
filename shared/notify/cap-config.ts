/**
 * Where a system's CAP feed goes, from its profile (CLI, deploy) or from the function environment (the consumer):
 *
 * - `aws` profile: `cap.bucket` (+ `cap.prefix`) → S3; no bucket → no feed. `cap.sender` is required with a bucket
 *   (a public feed must name its real sender). Base URL default: the bucket's virtual-hosted URL
 *   `https://<bucket>.s3.<region>.amazonaws.com/<prefix>` (Amazon S3 User Guide, "Virtual hosting of buckets").
 * - `local` profile (unless `cap.enabled: false`): `cap.dir`, default `<stateDir>/cap` for the default prefix and
 *   `<stateDir>/cap/<prefix>` for any other (several systems on one stack, as the tests run them); served by the
 *   stack's CAP feed at `/cap/` and `/cap/<prefix>/` (local/cap-server.ts). Sender default `quakectl.local`.
 *
 * Deploy passes the result to the consumer as QUAKECTL_CAP_* (shared/infra/function-env.ts). Errors: ConfigError.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import { type Profile, stateDir } from '../infra/config.ts';
import { ConfigError } from '../infra/errors.ts';
import type { FunctionEnv } from '../infra/function-env.ts';
import { resourceNames } from '../infra/names.ts';
import type { StackState } from '../infra/stack-state.ts';
import { type CapStore, directoryCapStore, s3CapStore } from './cap-store.ts';

export const LOCAL_CAP_SENDER = 'quakectl.local';

export type CapTarget = { kind: 'dir'; dir: string } | { kind: 's3'; bucket: string; prefix: string };

export interface CapSettings {
  target: CapTarget;
  sender: string;
  /** Where the target is served, without a trailing `/`. */
  baseUrl: string;
}

/** The default system's prefix without the separator resourceNames adds (`quakectl`). */
const DEFAULT_PREFIX = resourceNames().prefix.replace(/-$/, '');

/** The sub-path of a system's feed on the local CAP server and in the state dir: '' for the default prefix. */
export function localCapSubdir(prefix: string): string {
  const p = prefix.replace(/-$/, '');
  return p === DEFAULT_PREFIX || p === '' ? '' : p;
}

export function s3BaseUrl(bucket: string, prefix: string, region: string | undefined): string {
  const host = region ? `${bucket}.s3.${region}.amazonaws.com` : `${bucket}.s3.amazonaws.com`;
  return `https://${host}/${prefix}`.replace(/\/$/, '');
}

/**
 * The profile's CAP settings, or undefined when it publishes none. `stack`: the local stack's state, for the served
 * URL (without it, or without its CAP feed, a `file:` URL of the directory).
 */
export function capSettingsOfProfile(profile: Profile, stack?: StackState): CapSettings | undefined {
  const cap = profile.cap;
  if (profile.type === 'aws') {
    if (!cap?.bucket) return undefined;
    if (!cap.sender) {
      throw new ConfigError(
        `profile "${profile.name}": cap.bucket needs cap.sender (a domain or e-mail form you control, CAP 1.2 3.2.1)`,
      );
    }
    return {
      target: { kind: 's3', bucket: cap.bucket, prefix: cap.prefix },
      sender: cap.sender,
      baseUrl: (cap.baseUrl ?? s3BaseUrl(cap.bucket, cap.prefix, profile.region)).replace(/\/$/, ''),
    };
  }
  if (cap?.enabled === false) return undefined;
  if (cap?.bucket) throw new ConfigError(`profile "${profile.name}": cap.bucket is for aws profiles; use cap.dir`);
  const sub = localCapSubdir(profile.prefix);
  const dir = cap?.dir ?? join(stack?.cap?.dir ?? join(stateDir(profile), 'cap'), sub);
  const served = stack?.cap && !cap?.dir ? `${stack.cap.endpoint}/cap${sub ? `/${sub}` : ''}` : undefined;
  return {
    target: { kind: 'dir', dir },
    sender: cap?.sender ?? LOCAL_CAP_SENDER,
    baseUrl: (cap?.baseUrl ?? served ?? pathToFileURL(`${dir}/`).href).replace(/\/$/, ''),
  };
}

/** QUAKECTL_CAP_* for the consumer (empty without a feed). */
export function capFunctionEnv(settings: CapSettings | undefined): Record<string, string> {
  if (!settings) return {};
  const t = settings.target;
  return {
    ...(t.kind === 'dir'
      ? { QUAKECTL_CAP_DIR: t.dir }
      : { QUAKECTL_CAP_BUCKET: t.bucket, ...(t.prefix ? { QUAKECTL_CAP_PREFIX: t.prefix } : {}) }),
    QUAKECTL_CAP_SENDER: settings.sender,
    QUAKECTL_CAP_BASE_URL: settings.baseUrl,
  };
}

/** The consumer's CAP settings from its parsed environment, or undefined (no feed). */
export function capSettingsFromEnv(fe: FunctionEnv, region?: string): CapSettings | undefined {
  const sender = fe.QUAKECTL_CAP_SENDER;
  if (fe.QUAKECTL_CAP_BUCKET) {
    const prefix = fe.QUAKECTL_CAP_PREFIX;
    return {
      target: { kind: 's3', bucket: fe.QUAKECTL_CAP_BUCKET, prefix },
      sender,
      baseUrl: (fe.QUAKECTL_CAP_BASE_URL ?? s3BaseUrl(fe.QUAKECTL_CAP_BUCKET, prefix, region)).replace(/\/$/, ''),
    };
  }
  if (fe.QUAKECTL_CAP_DIR) {
    const dir = fe.QUAKECTL_CAP_DIR;
    return {
      target: { kind: 'dir', dir },
      sender,
      baseUrl: (fe.QUAKECTL_CAP_BASE_URL ?? pathToFileURL(`${dir}/`).href).replace(/\/$/, ''),
    };
  }
  return undefined;
}

/** The store a target names; `s3` (the one factory's `clients.s3`) is called only for a bucket, on first use. */
export function capStoreFor(target: CapTarget, s3: () => Promise<S3Client>): CapStore {
  return target.kind === 'dir' ? directoryCapStore(target.dir) : s3CapStore(s3, target.bucket, target.prefix);
}
