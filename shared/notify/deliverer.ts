/**
 * Delivers notifications to their channels (system.md section 8) and parks what cannot be delivered in the delivery
 * DLQ: nothing is dropped silently. `deliver` resolves only when every notification is either acknowledged by its
 * channel or inside a DLQ message; if even the DLQ refuses, it throws DeliveryError and the caller must not
 * checkpoint past the batch.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { GetQueueUrlCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Kafka, Producer } from 'kafkajs';
import type { Clients } from '../infra/clients.ts';
import { type ChannelPolicies, DEFAULT_FANOUT } from '../infra/config.ts';
import type { ResourceNames } from '../infra/names.ts';
import { RETRY_POLICIES } from '../infra/retry.ts';
import { chunk, mapLimit } from '../segments/concurrency.ts';
import { type Lookup, TargetGuard } from './address.ts';
import { rebuildForNow } from './build.ts';
import type { ChannelSender, ChannelSenders, PerNotificationChannel } from './channel.ts';
import { DeliveryError } from './errors.ts';
import { DynamoSendJournal, MemorySendJournal, type SendJournal } from './journal.ts';
import { DynamoRateStore, MemoryRateStore, RateGate } from './rate.ts';
import { type ChannelSecrets, channelSendersFromEnv } from './senders.ts';
import { redactTarget } from './targets.ts';
import type { TelegramSender } from './telegram.ts';
import { createTelemetry, redactUrl } from './telemetry.ts';
import type { DeliveryDlqMessage, DeliveryItem, DeliveryResult, Notification } from './types.ts';
import { type PostOptions, postBatch } from './webhook.ts';

export interface DelivererOptions {
  sqs: SQSClient;
  names: ResourceNames;
  /** Needed only for kafka channels; a producer is connected on first use. */
  kafka?: Kafka;
  /**
   * Senders of the per-notification channels (channel.ts: telegram, push, sms, email); a channel without one is
   * parked with the reason. `telegram` is the same as `senders.telegram`.
   */
  senders?: ChannelSenders;
  telegram?: TelegramSender;
  /**
   * Paces the per-notification channels' sends to their providers' rates, shared by every process that uses the same
   * store (rate.ts). Default: paced in this process only, at `channels`' rates.
   */
  rateGate?: RateGate;
  /**
   * What the per-person channels already sent (journal.ts), so a batch sent again after a crash, a lost lease or a
   * redrive does not reach a phone twice. Default: in this process only.
   */
  journal?: SendJournal;
  /** Per-notification channels' rates and late policies (default: the profile defaults, config.ts channelsSchema). */
  channels?: ChannelPolicies;
  /** Clock (epoch ms) for the late check; tests move it. */
  now?: () => number;
  allowPrivateTargets: boolean;
  /** Notifications per webhook POST (fanout.batchSize). */
  batchSize?: number;
  /** Per attempt. */
  timeoutMs?: number;
  maxAttempts?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /**
   * Webhook POSTs in flight at once at least; a batch with more distinct targets gets one slot per target (up to
   * 256), so hanging targets cannot starve healthy ones of slots.
   */
  concurrency?: number;
  /** One target's whole time for one batch, attempts and backoff included (default 5,000 ms). */
  targetBudgetMs?: number;
  lookup?: Lookup;
  /** Hosts whose URL paths may be logged (redactUrl); every other URL is logged as scheme://host/…. */
  logUrlPathsFor?: readonly string[];
  logger?: Logger;
  metrics?: Metrics;
}

export interface DeliverOptions {
  /**
   * false: do not park failures in the delivery DLQ, report them (`DeliveryResult.failures`) — a redrive, whose
   * message stays in the DLQ with the new reason, must not park a second copy. Default true.
   */
  park?: boolean;
  /**
   * Aborts the delivery (the worker lost its lease): in-flight posts are cancelled, nothing is parked (the unit's new
   * holder delivers from the last checkpoint), and `deliver` rejects with the signal's reason.
   */
  signal?: AbortSignal;
}

/** What a per-notification channel needs before it can send (the reason when its notifications are parked). */
const SENDER_SETUP: Record<PerNotificationChannel, string> = {
  telegram: 'set QUAKECTL_TELEGRAM_BOT_TOKEN or QUAKECTL_TELEGRAM_SECRET_ARN',
  push: 'set the VAPID keys',
  sms: 'set QUAKECTL_SMS_ENABLED=true (deploy.notify.sms)',
  email: 'set the SES sender address, QUAKECTL_SES_FROM (deploy.notify.email.from)',
};

/** At most this many POSTs in flight for one `deliver` call, however many distinct targets its batch has. */
const MAX_TARGET_SLOTS = 256;

interface BatchOutcome {
  delivered: string[];
  failed: string[];
  dlq: number;
  reason?: string;
  gone?: string[];
  dropped?: { id: string; reason: string }[];
  throttled?: number;
}

/** Sends per second of each provider, from the channels' policies (a sender's provider takes its channel's rate). */
export function providerRates(senders: ChannelSenders, channels: ChannelPolicies): Record<string, number> {
  const rates: Record<string, number> = {};
  for (const [type, sender] of Object.entries(senders) as [PerNotificationChannel, ChannelSender][]) {
    rates[sender.provider] = channels[type].ratePerSecond;
  }
  return rates;
}

export class Deliverer {
  readonly opts: Required<Pick<DelivererOptions, 'batchSize' | 'concurrency'>> & DelivererOptions;
  readonly post: PostOptions;
  readonly guard: TargetGuard;
  readonly senders: ChannelSenders;
  readonly channels: ChannelPolicies;
  readonly rateGate: RateGate;
  readonly journal: SendJournal;
  private readonly now: () => number;
  private dlqUrl?: Promise<string>;
  private producer?: Promise<Producer>;

  constructor(opts: DelivererOptions) {
    this.opts = { batchSize: 100, concurrency: 32, ...opts };
    this.senders = { ...(opts.telegram ? { telegram: opts.telegram } : {}), ...opts.senders };
    this.channels = opts.channels ?? DEFAULT_FANOUT.channels;
    this.rateGate =
      opts.rateGate ?? new RateGate(new MemoryRateStore(), { rates: providerRates(this.senders, this.channels) });
    this.journal = opts.journal ?? new MemorySendJournal();
    this.now = opts.now ?? Date.now;
    this.guard = new TargetGuard({ allowPrivate: opts.allowPrivateTargets, lookup: opts.lookup });
    this.post = {
      guard: this.guard,
      timeoutMs: opts.timeoutMs ?? DEFAULT_FANOUT.webhookTimeoutMs,
      maxAttempts: opts.maxAttempts ?? RETRY_POLICIES.webhook.attempts,
      backoffBaseMs: opts.backoffBaseMs ?? RETRY_POLICIES.webhook.baseMs,
      backoffMaxMs: opts.backoffMaxMs ?? RETRY_POLICIES.webhook.maxMs,
      budgetMs: opts.targetBudgetMs ?? DEFAULT_FANOUT.targetBudgetMs,
    };
  }

  /**
   * A deliverer wired from the one client factory and the profile's fan-out settings: channel senders from the
   * environment (senders.ts), their rates shared through the locks table (rate.ts).
   */
  static fromClients(
    clients: Clients,
    extra: Partial<DelivererOptions> & { channelSecrets?: ChannelSecrets } = {},
  ): Deliverer {
    const { channelSecrets, ...rest } = extra;
    const senders = { ...channelSendersFromEnv(process.env, { clients, secrets: channelSecrets }), ...extra.senders };
    const channels = clients.config.fanout.channels ?? DEFAULT_FANOUT.channels;
    return new Deliverer({
      sqs: clients.sqs,
      names: clients.config.names,
      kafka: clients.kafka,
      allowPrivateTargets: clients.config.allowPrivateTargets,
      batchSize: clients.config.fanout.batchSize,
      timeoutMs: clients.config.fanout.webhookTimeoutMs,
      targetBudgetMs: clients.config.fanout.targetBudgetMs,
      channels,
      rateGate: new RateGate(new DynamoRateStore(clients.ddb, clients.config.names.table('locks')), {
        rates: providerRates(senders, channels),
      }),
      journal: new DynamoSendJournal(clients.ddb, clients.config.names.table('locks')),
      ...rest,
      senders,
    });
  }

  /**
   * Delivers each item on its channel: webhooks grouped by (target, secret, event) in signed batches, Kafka in chunks,
   * log lines. Resolves when every notification was acknowledged or parked in the delivery DLQ (or, with
   * `park: false`, reported in `failures`); throws DeliveryError when even the DLQ refuses.
   */
  async deliver(items: readonly DeliveryItem[], opts: DeliverOptions = {}): Promise<DeliveryResult> {
    const park = opts.park !== false;
    const result: DeliveryResult = { delivered: [], failed: [], dlq: 0 };
    const webhooks = new Map<string, { target: string; secret?: string; notifications: Notification[] }>();
    const kafka: DeliveryItem[] = [];
    const each: DeliveryItem[] = [];
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
      } else if (channel.type === 'log') {
        this.logChannelLogger().info('notification', { channel: 'log', target: channel.target, notification });
        result.delivered.push(notification.id);
      } else {
        each.push(item);
      }
    }

    const batches = [...webhooks.values()].flatMap((g) =>
      chunk(g.notifications, this.opts.batchSize).map((notifications) => ({ ...g, notifications })),
    );
    const targets = new Set(batches.map((b) => b.target)).size;
    const slots = Math.min(MAX_TARGET_SLOTS, Math.max(this.opts.concurrency, targets));
    const outcomes = await Promise.all([
      mapLimit(batches, slots, (b) => this.deliverWebhookBatch(b.target, b.secret, b.notifications, park, opts.signal)),
      kafka.length ? this.deliverKafka(kafka, park) : Promise.resolve([]),
      each.length ? this.deliverEach(each, park, opts.signal) : Promise.resolve([]),
    ]);
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('delivery aborted');
    for (const o of outcomes.flat()) {
      result.delivered.push(...o.delivered);
      result.failed.push(...o.failed);
      result.dlq += o.dlq;
      if (o.gone) {
        result.gone ??= [];
        result.gone.push(...o.gone);
      }
      if (o.dropped) {
        result.dropped ??= [];
        result.dropped.push(...o.dropped);
      }
      if (o.throttled) result.throttled = (result.throttled ?? 0) + o.throttled;
      if (o.reason && o.failed.length) {
        result.failures ??= [];
        result.failures.push({ reason: o.reason, ids: o.failed });
      }
    }
    const m = this.opts.metrics;
    if (m) {
      if (result.delivered.length) m.addMetric('NotificationsDelivered', MetricUnit.Count, result.delivered.length);
      if (result.failed.length) m.addMetric('NotificationsFailed', MetricUnit.Count, result.failed.length);
      if (result.dlq) m.addMetric('DeliveryDlqSends', MetricUnit.Count, result.dlq);
      if (result.dropped?.length) m.addMetric('NotificationsDroppedLate', MetricUnit.Count, result.dropped.length);
      if (result.throttled) m.addMetric('ThrottledSends', MetricUnit.Count, result.throttled);
    }
    return result;
  }

  private async deliverWebhookBatch(
    target: string,
    secret: string | undefined,
    notifications: Notification[],
    park: boolean,
    signal?: AbortSignal,
  ): Promise<BatchOutcome> {
    const ids = notifications.map((n) => n.id);
    if (signal?.aborted) return { delivered: [], failed: ids, dlq: 0, reason: 'aborted' };
    const check = await this.guard.check(target);
    if (!check.ok) {
      const dlq = park
        ? await this.toDlq({ reason: check.reason, target, attempts: 0, firstFailureAt: Date.now() }, notifications)
        : 0;
      return { delivered: [], failed: ids, dlq, reason: check.reason };
    }
    const started = performance.now();
    const r = await postBatch(target, notifications, secret, signal ? { ...this.post, signal } : this.post);
    if (!r.ok && r.aborted) return { delivered: [], failed: ids, dlq: 0, reason: r.reason };
    const latencyMs = performance.now() - started;
    this.opts.metrics?.addMetric('WebhookBatchLatency', MetricUnit.Milliseconds, latencyMs);
    if (r.ok) {
      const now = Date.now();
      this.opts.metrics?.addMetric('DeliveredAfterOrigin', MetricUnit.Milliseconds, now - notifications[0].originTime);
      if (r.attempts > 1)
        this.opts.logger?.info('webhook delivered after retries', {
          target: redactUrl(target, this.opts.logUrlPathsFor),
          attempts: r.attempts,
          count: ids.length,
        });
      return { delivered: ids, failed: [], dlq: 0 };
    }
    this.opts.logger?.warn('webhook batch failed', {
      target: redactUrl(target, this.opts.logUrlPathsFor),
      reason: r.reason,
      attempts: r.attempts,
      count: ids.length,
    });
    const dlq = park
      ? await this.toDlq(
          { reason: r.reason, target, attempts: r.attempts, firstFailureAt: r.firstFailureAt },
          notifications,
        )
      : 0;
    return { delivered: [], failed: ids, dlq, reason: `${r.reason} after ${r.attempts} attempt(s)` };
  }

  private async deliverKafka(items: DeliveryItem[], park: boolean): Promise<BatchOutcome[]> {
    const topic = this.opts.names.notificationsTopic;
    const out: BatchOutcome[] = [];
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
        for (const group of park ? byEvent.values() : []) {
          dlq += await this.toDlq(
            { reason, target: `kafka:${topic}`, attempts: 1, firstFailureAt: Date.now() },
            group.map((i) => i.notification),
          );
        }
        out.push({ delivered: [], failed: ids, dlq, reason });
      }
    }
    return out;
  }

  /**
   * The per-notification channels (channel.ts): for each notification, a token from its provider's shared rate
   * (rate.ts), the late check (`late`), then one `send`. Throttling answers are waited out and sent again while the
   * channel's time budget (`targetBudgetMs`) lasts — never parked for that alone; `gone` answers are reported, not
   * parked (a redrive would be refused the same way); other failures are parked one DLQ message per notification with
   * the target redacted.
   */
  private async deliverEach(items: DeliveryItem[], park: boolean, signal?: AbortSignal): Promise<BatchOutcome[]> {
    // Nearest first within each channel: the batch comes in S-arrival order; a slow channel must not hold up a fast one.
    const byType = Map.groupBy(items, (i) => i.channel.type as PerNotificationChannel);
    const out = await Promise.all(
      [...byType].map(([type, list]) =>
        mapLimit(list, 32, (item) => this.deliverOne(type, this.senders[type], item, park, signal)),
      ),
    );
    return out.flat();
  }

  private async deliverOne(
    type: PerNotificationChannel,
    sender: ChannelSender | undefined,
    item: DeliveryItem,
    park: boolean,
    signal?: AbortSignal,
  ): Promise<BatchOutcome> {
    const { notification: n, channel } = item;
    const target = redactTarget(type, channel.target);
    const firstFailureAt = this.now();
    if (!sender) {
      const reason = `${type}: no sender configured (${SENDER_SETUP[type]})`;
      const dlq = park ? await this.toDlq({ reason, target, attempts: 0, firstFailureAt }, [n]) : 0;
      return { delivered: [], failed: [n.id], dlq, reason };
    }
    // Already reached the person (a batch sent again after a crash or a lost lease): delivered, not sent twice.
    let begun: 'sent' | 'send' = 'send';
    try {
      begun = await this.journal.begin(n.id);
    } catch (err) {
      // Without the journal a re-sent batch may duplicate; not sending would lose the alert. Send.
      this.opts.logger?.warn('send journal unavailable', { channel: type, id: n.id, error: (err as Error).message });
    }
    if (begun === 'sent') return { delivered: [n.id], failed: [], dlq: 0 };
    const policy = this.channels[type];
    const budgetMs = this.post.budgetMs ?? DEFAULT_FANOUT.targetBudgetMs;
    const deadline = firstFailureAt + budgetMs;
    let attempts = 0;
    let throttled = 0;
    let backoffMs = 250;
    for (;;) {
      try {
        await this.rateGate.take(sender.provider, signal);
      } catch {
        return { delivered: [], failed: [n.id], dlq: 0, reason: 'aborted' };
      }
      const late = this.late(n, policy);
      if (late.drop) {
        this.opts.logger?.info('late notification dropped', { channel: type, target, id: n.id, reason: late.drop });
        return { delivered: [], failed: [], dlq: 0, dropped: [{ id: n.id, reason: late.drop }], throttled };
      }
      const r = await sender.send({ channel, notification: late.notification }, signal);
      attempts += r.attempts;
      throttled += r.throttled;
      if (r.ok) {
        await this.journal.done(n.id, r.providerId).catch((err: Error) => {
          this.opts.logger?.warn('send journal not updated', { channel: type, id: n.id, error: err.message });
        });
        return { delivered: [n.id], failed: [], dlq: 0, throttled };
      }
      if (r.reason === 'aborted' || signal?.aborted)
        return { delivered: [], failed: [n.id], dlq: 0, reason: 'aborted' };
      if (r.gone) {
        this.opts.logger?.warn(`${type} subscriber gone`, { target, subscriberId: n.subscriberId, reason: r.reason });
        return { delivered: [], failed: [n.id], dlq: 0, reason: r.reason, gone: [n.id], throttled };
      }
      if (r.throttle) {
        throttled++;
        const waitMs = Math.max(r.throttle.retryAfterMs ?? backoffMs, 1);
        backoffMs = Math.min(backoffMs * 2, 4000);
        if (this.now() + waitMs < deadline) {
          try {
            await sleep(waitMs, undefined, signal ? { signal } : undefined);
          } catch {
            return { delivered: [], failed: [n.id], dlq: 0, reason: 'aborted' };
          }
          continue;
        }
      }
      const reason = r.throttle ? `${r.reason}; throttled past the ${budgetMs} ms budget` : r.reason;
      this.opts.logger?.warn(`${type} notification failed`, { target, id: n.id, reason, attempts });
      const dlq = park ? await this.toDlq({ reason, target, attempts, firstFailureAt }, [n]) : 0;
      return { delivered: [], failed: [n.id], dlq, reason, throttled };
    }
  }

  /**
   * The late check before a send: an alert whose S wave passed more than `lateGraceS` ago is dropped (`late: drop`)
   * or its text rebuilt for now (`late: rebuild`, shared/notify/build.ts `rebuildForNow`: "shaking under way" or what
   * happened); an alert built more than a second ago gets its seconds-until-shaking moved on, so a rate wait never
   * sends a stale countdown. Cancellations are sent as they are.
   */
  private late(
    n: Notification,
    policy: ChannelPolicies[PerNotificationChannel],
  ): { notification: Notification; drop?: string } {
    if (n.kind === 'cancel') return { notification: n };
    const now = this.now();
    const sArrival = n.builtAt + n.secondsUntilShaking * 1000;
    if (policy.late === 'drop' && now > sArrival + policy.lateGraceS * 1000) {
      const after = Math.round((now - sArrival) / 1000);
      return { notification: n, drop: `late: the S wave passed ${after} s ago (channel policy: drop)` };
    }
    return { notification: now - n.builtAt > 1000 ? rebuildForNow(n, now) : n };
  }

  /**
   * Parks notifications in the delivery DLQ, one message per notification (sent ten to a SendMessageBatch call), so
   * a redrive is idempotent per notification: a message redriven, or parked twice by two holders, is one id that the
   * receiver de-duplicates, never a batch of mixed fates. Returns messages sent. Throws DeliveryError when SQS refuses.
   */
  private async toDlq(
    meta: Pick<DeliveryDlqMessage, 'reason' | 'target' | 'attempts' | 'firstFailureAt'>,
    notifications: Notification[],
  ): Promise<number> {
    const target = /^(kafka|telegram|push|sms|email):/.test(meta.target)
      ? meta.target
      : redactUrl(meta.target, this.opts.logUrlPathsFor);
    const entries = notifications.map((n, i) => {
      const message: DeliveryDlqMessage = {
        kind: 'delivery',
        reason: meta.reason,
        target,
        eventId: n.eventId,
        attempts: meta.attempts,
        firstFailureAt: meta.firstFailureAt,
        notifications: [n],
      };
      return {
        Id: String(i),
        MessageBody: JSON.stringify(message),
        MessageAttributes: {
          kind: { DataType: 'String', StringValue: 'delivery' },
          eventId: { DataType: 'String', StringValue: n.eventId || '-' },
        },
      };
    });
    try {
      this.dlqUrl ??= this.opts.sqs
        .send(new GetQueueUrlCommand({ QueueName: this.opts.names.dlq('delivery') }))
        .then((r) => r.QueueUrl!);
      const QueueUrl = await this.dlqUrl;
      await mapLimit(chunk(entries, 10), 8, async (part) => {
        const out = await this.opts.sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: part }));
        if (out.Failed?.length) {
          throw new Error(
            `SQS refused ${out.Failed.length} message(s): ${out.Failed[0].Message ?? out.Failed[0].Code}`,
          );
        }
      });
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
      target,
      eventId: notifications[0]?.eventId,
      count: notifications.length,
    });
    return entries.length;
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
