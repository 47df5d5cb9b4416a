/**
 * Delivers notifications to their channels (system.md section 8) and parks what cannot be delivered in the delivery
 * DLQ: nothing is dropped silently. `deliver` resolves only when every notification is either acknowledged by its
 * channel or inside a DLQ message; if even the DLQ refuses, it throws DeliveryError and the caller must not
 * checkpoint past the batch.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { GetQueueUrlCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Kafka, Producer } from 'kafkajs';
import type { Clients } from '../infra/clients.ts';
import type { ResourceNames } from '../infra/names.ts';
import { RETRY_POLICIES } from '../infra/retry.ts';
import { chunk, mapLimit } from '../segments/concurrency.ts';
import { type Lookup, TargetGuard } from './address.ts';
import { DeliveryError } from './errors.ts';
import { createTelemetry, redactUrl } from './telemetry.ts';
import type { DeliveryDlqMessage, DeliveryItem, DeliveryResult, Notification } from './types.ts';
import { type PostOptions, postBatch } from './webhook.ts';

export interface DelivererOptions {
  sqs: SQSClient;
  names: ResourceNames;
  /** Needed only for kafka channels; a producer is connected on first use. */
  kafka?: Kafka;
  allowPrivateTargets: boolean;
  /** Notifications per webhook POST (fanout.batchSize). */
  batchSize?: number;
  /** Per attempt. */
  timeoutMs?: number;
  maxAttempts?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Webhook POSTs in flight at once (= keep-alive connections per busy target). */
  concurrency?: number;
  lookup?: Lookup;
  logger?: Logger;
  metrics?: Metrics;
}

/** DLQ bodies stay well under SQS's 256 KiB message limit (ElasticMQ keeps the same limit). */
const MAX_DLQ_BODY = 200 * 1024;

export class Deliverer {
  readonly opts: Required<Pick<DelivererOptions, 'batchSize' | 'concurrency'>> & DelivererOptions;
  readonly post: PostOptions;
  readonly guard: TargetGuard;
  private dlqUrl?: Promise<string>;
  private producer?: Promise<Producer>;

  constructor(opts: DelivererOptions) {
    this.opts = { batchSize: 100, concurrency: 32, ...opts };
    this.guard = new TargetGuard({ allowPrivate: opts.allowPrivateTargets, lookup: opts.lookup });
    this.post = {
      guard: this.guard,
      timeoutMs: opts.timeoutMs ?? 2000,
      maxAttempts: opts.maxAttempts ?? RETRY_POLICIES.webhook.attempts,
      backoffBaseMs: opts.backoffBaseMs ?? RETRY_POLICIES.webhook.baseMs,
      backoffMaxMs: opts.backoffMaxMs ?? RETRY_POLICIES.webhook.maxMs,
    };
  }

  /** A deliverer wired from the one client factory and the profile's fan-out settings. */
  static fromClients(clients: Clients, extra: Partial<DelivererOptions> = {}): Deliverer {
    return new Deliverer({
      sqs: clients.sqs,
      names: clients.config.names,
      kafka: clients.kafka,
      allowPrivateTargets: clients.config.allowPrivateTargets,
      batchSize: clients.config.fanout.batchSize,
      ...extra,
    });
  }

  async deliver(items: readonly DeliveryItem[]): Promise<DeliveryResult> {
    const result: DeliveryResult = { delivered: [], failed: [], dlq: 0 };
    const webhooks = new Map<string, { target: string; secret?: string; notifications: Notification[] }>();
    const kafka: DeliveryItem[] = [];
    for (const item of items) {
      const { channel, notification } = item;
      if (channel.type === 'webhook') {
        // Subscribers of one batch share a target and a secret (the signature covers the whole body) and an event
        // (so a DLQ message names one event).
        const key = `${channel.target}\u0000${channel.secret ?? ''}\u0000${notification.eventId}`;
        const group = webhooks.get(key) ?? { target: channel.target, secret: channel.secret, notifications: [] };
        group.notifications.push(notification);
        webhooks.set(key, group);
      } else if (channel.type === 'kafka') {
        kafka.push(item);
      } else {
        this.logChannelLogger().info('notification', { channel: 'log', target: channel.target, notification });
        result.delivered.push(notification.id);
      }
    }

    const batches = [...webhooks.values()].flatMap((g) =>
      chunk(g.notifications, this.opts.batchSize).map((notifications) => ({ ...g, notifications })),
    );
    const outcomes = await Promise.all([
      mapLimit(batches, this.opts.concurrency, (b) => this.deliverWebhookBatch(b.target, b.secret, b.notifications)),
      kafka.length ? this.deliverKafka(kafka) : Promise.resolve([]),
    ]);
    for (const o of outcomes.flat()) {
      result.delivered.push(...o.delivered);
      result.failed.push(...o.failed);
      result.dlq += o.dlq;
    }
    const m = this.opts.metrics;
    if (m) {
      if (result.delivered.length) m.addMetric('NotificationsDelivered', MetricUnit.Count, result.delivered.length);
      if (result.failed.length) m.addMetric('NotificationsFailed', MetricUnit.Count, result.failed.length);
      if (result.dlq) m.addMetric('DeliveryDlqSends', MetricUnit.Count, result.dlq);
    }
    return result;
  }

  private async deliverWebhookBatch(target: string, secret: string | undefined, notifications: Notification[]) {
    const ids = notifications.map((n) => n.id);
    const check = await this.guard.check(target);
    if (!check.ok) {
      const dlq = await this.toDlq(
        { reason: check.reason, target, attempts: 0, firstFailureAt: Date.now() },
        notifications,
      );
      return { delivered: [], failed: ids, dlq };
    }
    const started = performance.now();
    const r = await postBatch(target, notifications, secret, this.post);
    const latencyMs = performance.now() - started;
    this.opts.metrics?.addMetric('WebhookBatchLatency', MetricUnit.Milliseconds, latencyMs);
    if (r.ok) {
      const now = Date.now();
      this.opts.metrics?.addMetric('DeliveredAfterOrigin', MetricUnit.Milliseconds, now - notifications[0].originTime);
      if (r.attempts > 1)
        this.opts.logger?.info('webhook delivered after retries', {
          target: redactUrl(target),
          attempts: r.attempts,
          count: ids.length,
        });
      return { delivered: ids, failed: [], dlq: 0 };
    }
    this.opts.logger?.warn('webhook batch failed', {
      target: redactUrl(target),
      reason: r.reason,
      attempts: r.attempts,
      count: ids.length,
    });
    const dlq = await this.toDlq(
      { reason: r.reason, target, attempts: r.attempts, firstFailureAt: r.firstFailureAt },
      notifications,
    );
    return { delivered: [], failed: ids, dlq };
  }

  private async deliverKafka(items: DeliveryItem[]) {
    const topic = this.opts.names.notificationsTopic;
    const out = [];
    for (const part of chunk(items, 500)) {
      const ids = part.map((i) => i.notification.id);
      try {
        if (!this.opts.kafka) throw new Error('no Kafka client configured for kafka channels');
        this.producer ??= (async () => {
          const p = this.opts.kafka!.producer({ allowAutoTopicCreation: false });
          await p.connect();
          return p;
        })();
        const producer = await this.producer;
        await producer.send({
          topic,
          acks: -1,
          messages: part.map(({ notification, channel }) => ({
            key: notification.subscriberId,
            value: JSON.stringify({ ...notification, target: channel.target }),
            headers: { drill: String(notification.drill), eventId: notification.eventId },
          })),
        });
        out.push({ delivered: ids, failed: [], dlq: 0 });
      } catch (err) {
        this.producer = undefined;
        const reason = `kafka produce failed: ${(err as Error).message}`;
        this.opts.logger?.warn('kafka notifications failed', { topic, reason, count: ids.length });
        const byEvent = Map.groupBy(part, (i) => i.notification.eventId);
        let dlq = 0;
        for (const group of byEvent.values()) {
          dlq += await this.toDlq(
            { reason, target: `kafka:${topic}`, attempts: 1, firstFailureAt: Date.now() },
            group.map((i) => i.notification),
          );
        }
        out.push({ delivered: [], failed: ids, dlq });
      }
    }
    return out;
  }

  /** Sends notifications to the delivery DLQ (split to stay under the size limit); returns messages sent. */
  private async toDlq(
    meta: Pick<DeliveryDlqMessage, 'reason' | 'target' | 'attempts' | 'firstFailureAt'>,
    notifications: Notification[],
  ): Promise<number> {
    const message: DeliveryDlqMessage = {
      kind: 'delivery',
      reason: meta.reason,
      target: meta.target.startsWith('kafka:') ? meta.target : redactUrl(meta.target),
      eventId: notifications[0]?.eventId ?? '',
      attempts: meta.attempts,
      firstFailureAt: meta.firstFailureAt,
      notifications,
    };
    const body = JSON.stringify(message);
    if (body.length > MAX_DLQ_BODY && notifications.length > 1) {
      const half = Math.ceil(notifications.length / 2);
      return (
        (await this.toDlq(meta, notifications.slice(0, half))) + (await this.toDlq(meta, notifications.slice(half)))
      );
    }
    try {
      this.dlqUrl ??= this.opts.sqs
        .send(new GetQueueUrlCommand({ QueueName: this.opts.names.dlq('delivery') }))
        .then((r) => r.QueueUrl!);
      const QueueUrl = await this.dlqUrl;
      await this.opts.sqs.send(
        new SendMessageCommand({
          QueueUrl,
          MessageBody: body,
          MessageAttributes: {
            kind: { DataType: 'String', StringValue: 'delivery' },
            eventId: { DataType: 'String', StringValue: message.eventId || '-' },
          },
        }),
      );
    } catch (err) {
      this.dlqUrl = undefined;
      const ids = notifications.map((n) => n.id);
      this.opts.logger?.error('delivery DLQ send failed', {
        reason: meta.reason,
        count: ids.length,
        error: (err as Error).message,
      });
      throw new DeliveryError(`could not deliver ${ids.length} notifications nor park them in the delivery DLQ`, ids, {
        cause: err,
      });
    }
    this.opts.logger?.warn('notifications sent to delivery DLQ', {
      reason: meta.reason,
      target: message.target,
      eventId: message.eventId,
      count: notifications.length,
    });
    return 1;
  }

  /** The log channel always writes a structured line: to the caller's logger, else to one of its own. */
  private logChannelLogger(): Logger {
    this.opts.logger ??= createTelemetry('quakectl-notify').logger;
    return this.opts.logger;
  }

  async close(): Promise<void> {
    const p = this.producer;
    this.producer = undefined;
    if (p) await (await p.catch(() => undefined))?.disconnect();
  }
}
