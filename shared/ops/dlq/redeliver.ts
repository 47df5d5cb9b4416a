/**
 * Re-delivery of delivery-DLQ batches. DLQ messages never carry secrets, and their target is the URL with
 * credentials and query stripped, so each notification's channel (target and secret) is looked up again from the
 * subscribers table (SubscriberStore.get, through the bySubscriber index). Webhook batches are posted with
 * shared/notify's signing and retry policy (the Deliverer's own post options and private-target guard) but without
 * its DLQ step: a redrive that fails leaves the original message in the DLQ with the new reason (redrive.ts), it must
 * not park a second copy. Kafka channels are produced to the outbox topic as the Deliverer does.
 */
import type { Clients } from '../../infra/clients.ts';
import type { Notification } from '../../notify/index.ts';
import type { DeliveryBatch, DeliveryNotification } from './decode.ts';

/** Some notifications of a batch could not be delivered: only `remaining` go back to the DLQ. */
export class RedeliveryError extends Error {
  readonly remaining: DeliveryNotification[];
  constructor(message: string, remaining: DeliveryNotification[]) {
    super(message);
    this.name = 'RedeliveryError';
    this.remaining = remaining;
  }
}

export interface RedeliveryReport {
  delivered: string[];
  /** Subscribers that no longer exist: nothing to deliver to (reported, not retried). */
  gone: string[];
}

export async function deliveryRedeliverer(clients: Clients): Promise<(b: DeliveryBatch) => Promise<RedeliveryReport>> {
  const { Deliverer, postBatch } = await import('../../notify/index.ts');
  const { SubscriberStore } = await import('../../segments/index.ts');
  const deliverer = Deliverer.fromClients(clients);
  const store = new SubscriberStore(clients.ddb, clients.config.names);

  return async (batch) => {
    const report: RedeliveryReport = { delivered: [], gone: [] };
    const groups = new Map<string, { type: string; target: string; secret?: string; ns: Notification[] }>();
    for (const n of batch.notifications as unknown as Notification[]) {
      const sub = await store.get(n.subscriberId);
      if (!sub) {
        report.gone.push(n.id);
        continue;
      }
      const ch = sub.channel;
      const key = `${ch.type}\u0000${ch.target}\u0000${ch.secret ?? ''}`;
      const g = groups.get(key) ?? { type: ch.type, target: ch.target, secret: ch.secret, ns: [] };
      g.ns.push(n);
      groups.set(key, g);
    }
    const failed: { reason: string; ns: Notification[] }[] = [];
    for (const g of groups.values()) {
      try {
        if (g.type === 'webhook') {
          const check = await deliverer.guard.check(g.target);
          if (!check.ok) throw new Error(check.reason);
          const r = await postBatch(g.target, g.ns, g.secret, deliverer.post);
          if (!r.ok) throw new Error(`${r.reason} after ${r.attempts} attempt(s)`);
        } else if (g.type === 'kafka') {
          const producer = clients.kafka.producer({ allowAutoTopicCreation: false });
          await producer.connect();
          try {
            await producer.send({
              topic: clients.config.names.notificationsTopic,
              acks: -1,
              messages: g.ns.map((n) => ({
                key: n.subscriberId,
                value: JSON.stringify({ ...n, target: g.target }),
                headers: { drill: String(n.drill), eventId: n.eventId },
              })),
            });
          } finally {
            await producer.disconnect().catch(() => {});
          }
        }
        report.delivered.push(...g.ns.map((n) => n.id));
      } catch (err) {
        failed.push({ reason: (err as Error).message, ns: g.ns });
      }
    }
    if (failed.length > 0) {
      throw new RedeliveryError(
        failed.map((f) => f.reason).join('; '),
        failed.flatMap((f) => f.ns) as unknown as DeliveryNotification[],
      );
    }
    return report;
  };
}
