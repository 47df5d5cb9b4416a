/**
 * Test support for the pipeline's integration tests: clients for the running local stack (the same factory production
 * uses), with a random resource prefix per test file so parallel engineers never share a table.
 */
import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { type Clients, createClients, serviceConfigFromProfile } from '../../shared/infra/clients.ts';
import { loadProfile } from '../../shared/infra/config.ts';
import { type ResourceNames, resourceNames, type TableRole } from '../../shared/infra/names.ts';
import { tableDefinition } from '../../shared/infra/tables.ts';

export interface TestStack {
  clients: Clients;
  names: ResourceNames;
  cleanup(): Promise<void>;
}

export function uniquePrefix(tag: string): string {
  return `t${tag}${randomBytes(4).toString('hex')}`;
}

export async function testStack(tag: string, tables: TableRole[]): Promise<TestStack> {
  const profile = loadProfile({ profile: 'local', env: { ...process.env, QUAKECTL_CONFIG: undefined } });
  const names = resourceNames(uniquePrefix(tag));
  const base = serviceConfigFromProfile({ ...profile, prefix: names.prefix });
  const clients = createClients({ ...base, names });
  for (const role of tables) {
    await clients.dynamodb.send(new CreateTableCommand(tableDefinition(names, role)));
    await waitUntilTableExists(
      { client: clients.dynamodb, maxWaitTime: 30, minDelay: 0.1, maxDelay: 0.5 },
      { TableName: names.table(role) },
    );
  }
  return {
    clients,
    names,
    async cleanup() {
      for (const role of tables) {
        await clients.dynamodb.send(new DeleteTableCommand({ TableName: names.table(role) })).catch(() => {});
      }
      clients.destroy();
    },
  };
}
