/**
 * DynamoDB table definitions (system.md section 5): the one place their keys are declared. `quakectl deploy` converges
 * tables to these; tests create them from here too. On-demand billing: no capacity to scale by hand.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import type { ResourceNames, TableRole } from './names.ts';

export interface TableKeys {
  /** subscribers: segment = `<h3 cell>#<shard>`, subscriberId. GSI `bySubscriber` finds a subscriber's current segment. */
  subscribers: { segment: string; subscriberId: string };
  /** segments: cell (H3 index), shard (0..n-1). */
  segments: { cell: string; shard: number };
  /** events: eventId (canonical quake id). */
  events: { eventId: string };
  /** locks: pk = `<eventId>#<segment>`. */
  locks: { pk: string };
}

export const SUBSCRIBER_INDEX = 'bySubscriber';

export function tableDefinition(names: ResourceNames, role: TableRole): CreateTableCommandInput {
  const TableName = names.table(role);
  const BillingMode = 'PAY_PER_REQUEST' as const;
  switch (role) {
    case 'subscribers':
      return {
        TableName,
        BillingMode,
        AttributeDefinitions: [
          { AttributeName: 'segment', AttributeType: 'S' },
          { AttributeName: 'subscriberId', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'segment', KeyType: 'HASH' },
          { AttributeName: 'subscriberId', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: SUBSCRIBER_INDEX,
            KeySchema: [{ AttributeName: 'subscriberId', KeyType: 'HASH' }],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          },
        ],
      };
    case 'segments':
      return {
        TableName,
        BillingMode,
        AttributeDefinitions: [
          { AttributeName: 'cell', AttributeType: 'S' },
          { AttributeName: 'shard', AttributeType: 'N' },
        ],
        KeySchema: [
          { AttributeName: 'cell', KeyType: 'HASH' },
          { AttributeName: 'shard', KeyType: 'RANGE' },
        ],
      };
    case 'events':
      return {
        TableName,
        BillingMode,
        AttributeDefinitions: [{ AttributeName: 'eventId', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'eventId', KeyType: 'HASH' }],
      };
    case 'locks':
      return {
        TableName,
        BillingMode,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      };
  }
}
