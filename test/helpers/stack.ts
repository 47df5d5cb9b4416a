/**
 * For integration tests: clients for the running local stack (the one test/integration/global-setup.ts found or
 * started), built the way every command builds them, from the `local` profile. Use `uniqueName` for topics, queues
 * and tables: several test files and people share one stack.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { PROJECT_ROOT } from '../../shared/bundle/index.ts';
import {
  type Clients,
  createClients,
  type ServiceConfig,
  serviceConfigFromProfile,
} from '../../shared/infra/clients.ts';
import { loadProfile } from '../../shared/infra/config.ts';
import { type ResourceNames, TABLES, type TableRole } from '../../shared/infra/names.ts';
import { tableDefinition } from '../../shared/infra/tables.ts';

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

/** Creates `roles`' tables under `names` (shared/infra/tables.ts definitions) and waits until each is ACTIVE. */
export async function createTablesActive(
  clients: Clients,
  names: ResourceNames,
  roles: readonly TableRole[] = TABLES,
): Promise<void> {
  for (const role of roles) await clients.dynamodb.send(new CreateTableCommand(tableDefinition(names, role)));
  for (const role of roles) {
    for (let i = 0; i < 100; i++) {
      const t = await clients.dynamodb.send(new DescribeTableCommand({ TableName: names.table(role) }));
      if (t.Table?.TableStatus === 'ACTIVE') break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * Runs the real `bin/quakectl` in `cwd` against the test's local stack with `configFile` (a test's own prefix), as a
 * user would: exit code and both streams, NO_COLOR.
 */
export function cliWithConfig(cwd: string, configFile: string) {
  return (...args: string[]) => {
    const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin', 'quakectl'), ...args], {
      cwd,
      env: { ...process.env, QUAKECTL_CONFIG: configFile, QUAKECTL_STATE_DIR: localStack().stateDir, NO_COLOR: '1' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
}
