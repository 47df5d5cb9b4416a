/**
 * The send journal of the per-person channels (telegram, push, sms, email): what has already reached a person, by
 * notification id. Webhook receivers de-duplicate on the id, so the fan-out may re-send a batch after a crash or a
 * lost lease (shared/locks/segment-lock.ts); a phone does not — the same SMS twice is a second alarm. Re-sends come from
 * a worker killed mid-batch (a rate-limited batch can outlast the invocation), a lease lost mid-batch, and a redrive.
 *
 * Protocol (DynamoDB, the locks table, `pk = sent#<notificationId>`), two writes per notification:
 *   begin: UpdateItem SET state = sending (unless already sent), ADD tries 1, returning the old item — old state `sent`:
 *          skip (it was delivered); otherwise send.
 *   done:  UpdateItem SET state = sent, sentAt, providerId — after the provider accepted it.
 * A crash between the provider's acceptance and `done` leaves `sending`: the next holder sends again, so a duplicate
 * remains possible only inside that window (one request's duration), instead of for every notification of a batch in
 * flight. The writes cost a fraction of the provider's own rate (tens per second), never on the webhook path.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';

export interface SendJournal {
  /** 'sent' when the notification already reached its channel (do not send again), else 'send'. */
  begin(notificationId: string): Promise<'sent' | 'send'>;
  /** Records the provider's acceptance. */
  done(notificationId: string, providerId?: string): Promise<void>;
}

/** In one process (unit tests, tools without DynamoDB). */
export class MemorySendJournal implements SendJournal {
  private readonly state = new Map<string, 'sending' | 'sent'>();
  async begin(id: string): Promise<'sent' | 'send'> {
    if (this.state.get(id) === 'sent') return 'sent';
    this.state.set(id, 'sending');
    return 'send';
  }
  async done(id: string): Promise<void> {
    this.state.set(id, 'sent');
  }
}

export class DynamoSendJournal implements SendJournal {
  private readonly ddb: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly now: () => number;
  constructor(ddb: DynamoDBDocumentClient, table: string, now: () => number = Date.now) {
    this.ddb = ddb;
    this.table = table;
    this.now = now;
  }

  async begin(id: string): Promise<'sent' | 'send'> {
    try {
      await this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `sent#${id}` },
          UpdateExpression: 'SET #s = :sending, beganAt = :now ADD tries :one',
          ConditionExpression: 'attribute_not_exists(#s) OR #s <> :sent',
          ExpressionAttributeNames: { '#s': 'state' },
          ExpressionAttributeValues: { ':sending': 'sending', ':sent': 'sent', ':now': this.now(), ':one': 1 },
        }),
      );
      return 'send';
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return 'sent';
      throw err;
    }
  }

  async done(id: string, providerId?: string): Promise<void> {
    await this.ddb.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: `sent#${id}` },
        UpdateExpression: providerId
          ? 'SET #s = :sent, sentAt = :now, providerId = :p'
          : 'SET #s = :sent, sentAt = :now',
        ExpressionAttributeNames: { '#s': 'state' },
        ExpressionAttributeValues: { ':sent': 'sent', ':now': this.now(), ...(providerId ? { ':p': providerId } : {}) },
      }),
    );
  }
}
