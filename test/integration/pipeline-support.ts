/**
 * Test support for the pipeline's integration tests: clients for the running local stack (the same factory production
 * uses), with a random resource prefix per test file so parallel engineers never share a table.
 */
import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { type Clients, createClients } from '../../shared/infra/clients.ts';
import type { DlqKind } from '../../shared/infra/names.ts';
import { type ResourceNames, resourceNames, type TableRole } from '../../shared/infra/names.ts';
import { tableDefinition } from '../../shared/infra/tables.ts';
import { localServiceConfig } from '../helpers/stack.ts';

export interface TestStack {
  clients: Clients;
  names: ResourceNames;
  cleanup(): Promise<void>;
}

export function uniquePrefix(tag: string): string {
  return `t${tag}${randomBytes(4).toString('hex')}`;
}

export async function testStack(tag: string, tables: TableRole[], queues: DlqKind[] = []): Promise<TestStack> {
  const names = resourceNames(uniquePrefix(tag));
  const clients = createClients({ ...localServiceConfig(), names });
  for (const role of tables) {
    await clients.dynamodb.send(new CreateTableCommand(tableDefinition(names, role)));
    await waitUntilTableExists(
      { client: clients.dynamodb, maxWaitTime: 30, minDelay: 0.1, maxDelay: 0.5 },
      { TableName: names.table(role) },
    );
  }
  const queueUrls: string[] = [];
  for (const kind of queues) {
    const out = await clients.sqs.send(new CreateQueueCommand({ QueueName: names.dlq(kind) }));
    queueUrls.push(out.QueueUrl!);
  }
  return {
    clients,
    names,
    async cleanup() {
      for (const QueueUrl of queueUrls) await clients.sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => {});
      for (const role of tables) {
        await clients.dynamodb.send(new DeleteTableCommand({ TableName: names.table(role) })).catch(() => {});
      }
      clients.destroy();
    },
  };
}
