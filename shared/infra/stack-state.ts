/**
 * The contract between `quakectl local up` (which writes it) and everything that talks to the local stack (which reads
 * it): `<stateDir>/stack.json`. Its shape is also what `quakectl local up -o json` prints, plus pids.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './errors.ts';

export interface ServiceState {
  pid?: number;
  port: number;
  healthy?: boolean;
  log?: string;
}

export interface StackState {
  kafka: ServiceState & { brokers: string[]; controllerPort?: number; version?: string };
  sqs: ServiceState & { endpoint: string };
  dynamodb: ServiceState & { endpoint: string };
  lambda?: ServiceState & { endpoint: string };
  /** moto server: SNS, SES v2 and Secrets Manager for the sms/email channels and channel secrets. */
  moto?: ServiceState & { endpoint: string };
  /** The CAP feed (local/cap-server.ts): `<endpoint>/cap/index.atom` serves `dir`. */
  cap?: ServiceState & { endpoint: string; dir: string };
  startedAt?: string;
}

export function stackStatePath(dir: string): string {
  return join(dir, 'stack.json');
}

export function readStackState(dir: string): StackState | undefined {
  const p = stackStatePath(dir);
  if (!existsSync(p)) return undefined;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as StackState;
  } catch (err) {
    throw new ConfigError(`corrupt local stack state ${p}: ${(err as Error).message}`, { cause: err });
  }
}

export function requireStackState(dir: string): StackState {
  const s = readStackState(dir);
  if (!s)
    throw new ConfigError(
      `the local stack is not running (no ${stackStatePath(dir)}); start it with: quakectl local up`,
    );
  return s;
}
