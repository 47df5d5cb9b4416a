/**
 * The Deliverer's one path for per-notification channels (shared/notify/deliverer.ts `deliverEach`), driven through a
 * scripted ChannelSender (the interface of shared/notify/channel.ts, not a provider): the late policy (an alert whose
 * S wave passed is dropped or rebuilt, never sent with a stale countdown), throttling waited out and retried within
 * the budget, gone subscribers reported and not retried, and a channel without a sender refused with the reason. The
 * SQS client points at a closed port and every call uses `park: false`: a test that parked by mistake fails.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FANOUT } from '../../shared/infra/config.ts';
import { resourceNames } from '../../shared/infra/names.ts';
import type { ChannelSender, PerNotificationChannel, SendOutcome } from '../../shared/notify/channel.ts';
import { buildNotification, Deliverer, type DeliveryItem } from '../../shared/notify/index.ts';

const unusedSqs = new SQSClient({
  region: 'us-east-1',
  endpoint: 'http://127.0.0.1:9',
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  maxAttempts: 1,
});
const quake = { id: 'ev-each', drill: true, magnitude: 6.4, place: 'Vrancea', originTime: Date.now() - 20_000 };

/** A sender that answers from a script, one answer per call (the last one repeats), and records what it was sent. */
class ScriptedSender implements ChannelSender {
  readonly sent: DeliveryItem[] = [];
  readonly provider: string;
  readonly type: PerNotificationChannel;
  private readonly script: SendOutcome[];
  constructor(type: PerNotificationChannel, script: SendOutcome[]) {
    this.type = type;
    this.script = script;
    this.provider = `scripted-${type}`;
  }
  redact(target: string): string {
    return `${this.type}:…${target.slice(-2)}`;
  }
  async send(item: DeliveryItem): Promise<SendOutcome> {
    this.sent.push(item);
    return this.script[Math.min(this.sent.length - 1, this.script.length - 1)];
  }
}

const OK: SendOutcome = { ok: true, attempts: 1, throttled: 0 };
const fail = (o: Partial<Extract<SendOutcome, { ok: false }>>): SendOutcome => ({
  ok: false,
  gone: false,
  retriable: true,
  reason: 'provider said no',
  attempts: 1,
  throttled: 0,
  ...o,
});

function item(type: PerNotificationChannel, target: string, secondsUntilShaking: number, builtAgoMs = 0): DeliveryItem {
  return {
    notification: buildNotification(
      quake,
      { id: `sub-${target.slice(-4)}`, locale: 'en' },
      { mmi: 6.5, distanceKm: 30, level: 'take-action', secondsUntilShaking, builtAt: Date.now() - builtAgoMs },
    ),
    channel: { type, target },
  };
}

function deliverer(senders: ChannelSender[], extra: Partial<ConstructorParameters<typeof Deliverer>[0]> = {}) {
  return new Deliverer({
    sqs: unusedSqs,
    names: resourceNames('each'),
    allowPrivateTargets: true,
    senders: Object.fromEntries(senders.map((s) => [s.type, s])),
    ...extra,
  });
}

describe('per-notification channels', () => {
  it('drops an SMS whose S wave passed beyond the grace (policy drop) and sends the one still in time', async () => {
    const sms = new ScriptedSender('sms', [OK]);
    const channels = { ...DEFAULT_FANOUT.channels, sms: { ...DEFAULT_FANOUT.channels.sms, late: 'drop' as const } };
    const r = await deliverer([sms], { channels }).deliver(
      [item('sms', '+40721234501', -30), item('sms', '+40721234502', 8)],
      {
        park: false,
      },
    );
    expect(r.delivered).toHaveLength(1);
    expect(r.failed).toEqual([]);
    expect(r.dropped).toHaveLength(1);
    expect(r.dropped![0].reason).toMatch(/S wave passed 30 s ago/);
    expect(sms.sent.map((i) => i.channel.target)).toEqual(['+40721234502']);
  });

  it('rebuilds a late push alert (policy rebuild): the text says shaking is under way, not "in N s"', async () => {
    const push = new ScriptedSender('push', [OK]);
    // Built 6 s ago with 3 s to go: the S wave passed 3 s ago when it is sent.
    const r = await deliverer([push]).deliver([item('push', 'x-push-01', 3, 6000)], { park: false });
    expect(r.delivered).toHaveLength(1);
    const sent = push.sent[0].notification;
    expect(sent.phase).toBe('under-way');
    expect(sent.secondsUntilShaking).toBeLessThan(-2);
    expect(sent.text).not.toMatch(/in \d+ s/);
    expect(sent.id).toBe(`${quake.id}:sub-h-01:take-action`);
  });

  it('waits out throttling and sends again; past the budget the failure says it was throttled', async () => {
    const throttle = fail({ throttle: { retryAfterMs: 30 }, reason: 'Throttling' });
    const email = new ScriptedSender('email', [throttle, throttle, OK]);
    const r = await deliverer([email]).deliver([item('email', 'ana@example.ro', 20)], { park: false });
    expect(r.delivered).toHaveLength(1);
    expect(r.throttled).toBe(2);
    expect(email.sent).toHaveLength(3);

    const always = new ScriptedSender('email', [throttle]);
    const d = deliverer([always], { targetBudgetMs: 500 });
    const r2 = await d.deliver([item('email', 'ion@example.ro', 20)], { park: false });
    expect(r2.delivered).toEqual([]);
    expect(r2.failures?.[0].reason).toMatch(/Throttling; throttled past the 500 ms budget/);
    expect(always.sent.length).toBeGreaterThan(3);
  });

  it('reports a gone subscriber once, without retrying it', async () => {
    const push = new ScriptedSender('push', [fail({ gone: true, retriable: false, reason: 'push 410 Gone' })]);
    const r = await deliverer([push]).deliver([item('push', 'x-push-02', 20)], { park: false });
    expect(r.gone).toHaveLength(1);
    expect(r.failures?.[0].reason).toBe('push 410 Gone');
    expect(push.sent).toHaveLength(1);
  });

  it('sends a notification once when its batch is delivered again (a crash or a lost lease)', async () => {
    const sms = new ScriptedSender('sms', [OK]);
    const d = deliverer([sms]);
    const batch = [item('sms', '+40721234577', 30)];
    const first = await d.deliver(batch, { park: false });
    const again = await d.deliver(batch, { park: false });
    expect(first.delivered).toEqual(again.delivered);
    expect(sms.sent).toHaveLength(1);
  });

  it('refuses a channel without a sender with what to configure', async () => {
    const r = await deliverer([]).deliver([item('telegram', '424242', 20)], { park: false });
    expect(r.failed).toHaveLength(1);
    expect(r.failures?.[0].reason).toMatch(/telegram: no sender configured \(set QUAKECTL_TELEGRAM_BOT_TOKEN/);
  });

  it('paces one provider to its rate across the batch', async () => {
    const sms = new ScriptedSender('sms', [OK]);
    const channels = { ...DEFAULT_FANOUT.channels, sms: { ...DEFAULT_FANOUT.channels.sms, ratePerSecond: 5 } };
    const t0 = Date.now();
    const targets = Array.from({ length: 8 }, (_, i) => `+4072123450${i}`);
    const r = await deliverer([sms], { channels }).deliver(
      targets.map((t) => item('sms', t, 60)),
      { park: false },
    );
    expect(r.delivered).toHaveLength(8);
    // 8 sends at 5/s cannot all go within the first second.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
  });
});
