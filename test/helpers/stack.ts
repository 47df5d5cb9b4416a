/**
 * For integration tests: clients for the running local stack (the one test/integration/global-setup.ts found or
 * started), built the way every command builds them, from the `local` profile. Use `uniqueName` for topics, queues
 * and tables: several test files and people share one stack.
 */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import {
  type Clients,
  createClients,
  type ServiceConfig,
  serviceConfigFromProfile,
} from '../../shared/infra/clients.ts';
import { loadProfile } from '../../shared/infra/config.ts';

export function localStack() {
  return inject('localStack');
}

export function localServiceConfig(): ServiceConfig {
  // global-setup sets QUAKECTL_STATE_DIR, so the local profile reads the stack that setup checked.
  return serviceConfigFromProfile(loadProfile({ profile: 'local' }));
}

export function localClients(): Clients {
  return createClients(localServiceConfig());
}

/** `prefix-<random>`: a name no other test run uses (valid for Kafka topics, SQS queues and DynamoDB tables). */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}
