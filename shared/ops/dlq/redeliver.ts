/**
 * Re-delivery of delivery-DLQ batches: only what is still missing, with a text true at the time it is sent.
 *
 * For each notification of the batch:
 *   - its subscriber is looked up again (DLQ messages carry no secrets and a redacted target); gone → reported;
 *   - the event is read: an alert of a retracted event is dropped (its cancellation run already covered the
 *     subscriber); an alert below the highest level the notification ledger (shared/fanout/ledger.ts) says was sent
 *     since is dropped (a later, higher alert superseded it);
 *   - the rest are built again for now with the same id (receivers de-duplicate on it): an alert with the version
 *     alerted last and the seconds until the S wave from now — hours later, "what happened" instead of "shaking in
 *     12 s"; a cancellation with its own text.
 * Delivery goes through shared/notify's Deliverer (its grouping, signing, retry policy and private-target guard) with
 * `park: false`: a redrive that fails leaves the original message in the DLQ with the new reason (redrive.ts), it
 * must not park a second copy.
 */
import { type EventRecord, type EventStore, getEvent, getPlan } from '../../events/index.ts';
import { Ledger } from '../../fanout/ledger.ts';
import type { Clients } from '../../infra/clients.ts';
import {
  buildCancellation,
  buildNotification,
  type DeliveryItem,
  type Notification,
  rebuildForNow,
} from '../../notify/index.ts';
import type { Subscriber } from '../../segments/types.ts';
import { levelRises } from '../../seismo/alert.ts';
import { intensityModelFor } from '../../seismo/intensity.ts';
import { epicentralKm, secondsUntilShaking } from '../../seismo/travel.ts';
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
  /** Notifications no longer owed, each with why (retracted event, superseded by a higher alert). */
  dropped: { id: string; reason: string }[];
}

type Located = Subscriber & { segment: string };

/**
 * What to send now instead of a parked notification, or why nothing is owed. Pure apart from the ledger read.
 * `event` undefined (an event record since deleted): its own figures, moved on to now (`rebuildForNow`).
 */
export async function refreshNotification(
  n: Notification,
  sub: Located,
  event: EventRecord | undefined,
  ledger: Ledger | undefined,
  now: number,
  fallbackBuiltAt = now,
): Promise<{ notification: Notification } | { drop: string }> {
  const quake = event?.plannedQuake;
  if (!quake) return { notification: rebuildForNow(n, now, fallbackBuiltAt) };
  const kind = n.kind ?? 'alert';
  const facts = (level: Notification['level']) => ({
    mmi: intensityModelFor(quake).predict(sub.lat, sub.lon),
    level,
    distanceKm: epicentralKm(quake, sub),
    secondsUntilShaking: secondsUntilShaking(quake, sub, now),
    builtAt: now,
  });
  if (kind === 'cancel') return { notification: buildCancellation(quake, sub, facts(n.level)) };
  if (event?.retractedAt !== undefined || event?.mode === 'cancel') {
    return { drop: 'the event was retracted: the alert is withdrawn, not sent late' };
  }
  if (ledger) {
    const sent = (await ledger.coverage([sub.segment])).sent(sub.segment, sub);
    if (levelRises(n.level, sent)) return { drop: `superseded: a later alert at level ${sent} was sent` };
  }
  const f = facts(n.level);
  // The level (and so the id) stays the one owed; the figures are the latest version's.
  return { notification: { ...buildNotification(quake, sub, f), mmi: Math.round(f.mmi * 10) / 10 } };
}

/**
 * The environment the per-person channels' senders are built from for a redrive: the deployed segment worker's
 * (Lambda GetFunctionConfiguration of `<prefix>segment-worker`), with the secrets it names read as the worker reads
 * them (shared/notify/channel-secrets.ts), so a redrive sends as the fan-out did — the same SMS/SES settings, Telegram
 * token, VAPID keys and private-target rule — whatever the operator's shell holds. Without a deployed worker (or
 * without the right to read it): the shell's environment, as before.
 */
export async function deployedChannelEnv(clients: Clients): Promise<NodeJS.ProcessEnv> {
  const { GetFunctionConfigurationCommand } = await import('@aws-sdk/client-lambda');
  let vars: Record<string, string> | undefined;
  try {
    const fn = await clients.lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: clients.config.names.function('segment-worker') }),
    );
    vars = fn.Environment?.Variables;
  } catch {
    return process.env;
  }
  if (!vars) return process.env;
  // The worker's channel settings only: a QUAKECTL_* variable in the operator's shell must not add a sender the
  // deployed worker does not have (AWS credentials and region still come from the shell).
  const shell = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('QUAKECTL_')));
  const env: NodeJS.ProcessEnv = { ...shell, ...vars };
  const { channelSecretEnv, namesChannelSecrets } = await import('../../notify/channel-secrets.ts');
  if (!namesChannelSecrets(env)) return env;
  return { ...env, ...(await channelSecretEnv(env, await clients.secretsmanager())) };
}

export async function deliveryRedeliverer(
  clients: Clients,
  opts: { now?: () => number } = {},
): Promise<(b: DeliveryBatch) => Promise<RedeliveryReport>> {
  const { Deliverer } = await import('../../notify/index.ts');
  const { SubscriberStore } = await import('../../segments/index.ts');
  const deliverer = Deliverer.fromClients(clients, { channelEnv: await deployedChannelEnv(clients) });
  const store = new SubscriberStore(clients.ddb, clients.config.names);
  const events: EventStore = { ddb: clients.ddb, table: clients.config.names.table('events') };
  const locks = { ddb: clients.ddb, table: clients.config.names.table('locks') };
  const now = opts.now ?? Date.now;

  return async (batch) => {
    const report: RedeliveryReport = { delivered: [], gone: [], dropped: [] };
    const eventCache = new Map<string, Promise<{ event?: EventRecord; ledger?: Ledger }>>();
    const eventOf = (id: string) => {
      let p = eventCache.get(id);
      if (!p) {
        p = (async () => {
          const event = await getEvent(events, id);
          if (!event?.revision) return { event };
          const ledger = await Ledger.load({
            eventId: id,
            // Every run so far counts as earlier: the ledger answers "the highest level sent to date".
            revision: event.revision + 1,
            runs: event.runs,
            locks,
            planOf: (key) => getPlan(events, { planKey: key } as EventRecord),
          });
          return { event, ledger };
        })();
        eventCache.set(id, p);
      }
      return p;
    };
    const items: DeliveryItem[] = [];
    const original = new Map<string, DeliveryNotification>();
    for (const parked of batch.notifications) {
      const n = parked as unknown as Notification;
      const sub = (await store.get(n.subscriberId)) as Located | undefined;
      if (!sub) {
        report.gone.push(n.id);
        continue;
      }
      const { event, ledger } = await eventOf(n.eventId);
      const failedAt =
        typeof batch.firstFailureAt === 'number' ? batch.firstFailureAt : Date.parse(batch.firstFailureAt);
      const r = await refreshNotification(n, sub, event, ledger, now(), Number.isFinite(failedAt) ? failedAt : now());
      if ('drop' in r) {
        report.dropped.push({ id: n.id, reason: r.drop });
        continue;
      }
      items.push({ notification: r.notification, channel: sub.channel });
      original.set(r.notification.id, parked);
    }
    const result = items.length ? await deliverer.deliver(items, { park: false }) : undefined;
    report.delivered.push(...(result?.delivered ?? []));
    // Alerts the channel's late policy would not send now (an SMS after the S wave): reported, not redriven again.
    report.dropped.push(...(result?.dropped ?? []));
    if (result?.failed.length) {
      throw new RedeliveryError(
        [...new Set((result.failures ?? []).map((f) => f.reason))].join('; ') || 'delivery failed',
        result.failed.map((id) => original.get(id)!).filter(Boolean),
      );
    }
    return report;
  };
}
