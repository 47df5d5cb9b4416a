/**
 * The telegram channel through the one Deliverer against a local Bot API server (local/telegram-bot-api.ts, which
 * lists the documented behaviours it implements): delivery, pacing under the bot's and the chat's limits, 429 with
 * retry_after honoured, 403 = subscriber gone (not retried, not parked), other refusals parked or reported, and the
 * bot token in no reason. The deliverer's SQS client points at a closed port: a test that parked by mistake fails.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local/stack/ports.ts';
import { type BotApiServer, startBotApi } from '../../local/telegram-bot-api.ts';
import { resourceNames } from '../../shared/infra/names.ts';
import { buildNotification, Deliverer, type DeliveryItem } from '../../shared/notify/index.ts';
import { TelegramSender } from '../../shared/notify/telegram.ts';
import { subscriberSchema } from '../../shared/segments/index.ts';

const TOKEN = '123456:local-test-token-AAAA';
const quake = { id: 'ev-tg', drill: true, magnitude: 6, place: 'Vrancea', originTime: Date.now() };
const unusedSqs = new SQSClient({
  region: 'us-east-1',
  endpoint: 'http://127.0.0.1:9',
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  maxAttempts: 1,
});

/** Subscriber ids unique across the file: the Deliverer's send journal skips an id it has already delivered. */
let nextSubscriber = 0;
function items(chats: string[]): DeliveryItem[] {
  return chats.map((chat) => ({
    notification: buildNotification(
      quake,
      { id: `s${nextSubscriber++}`, locale: 'ro' },
      { mmi: 6, distanceKm: 40, level: 'take-action', secondsUntilShaking: 12 },
    ),
    channel: { type: 'telegram', target: chat },
  }));
}

let bot: BotApiServer;
let deliverer: Deliverer;
beforeAll(async () => {
  bot = await startBotApi({ token: TOKEN, blocked: ['666'], unknown: ['404404'] });
  deliverer = new Deliverer({
    sqs: unusedSqs,
    names: resourceNames('tg'),
    allowPrivateTargets: true,
    telegram: new TelegramSender({ token: TOKEN, apiBase: bot.url, budgetMs: 5000 }),
  });
});
afterAll(() => bot.close());

describe('telegram channel', () => {
  it('delivers 45 chats paced under 30 messages/s: every text once, none throttled', async () => {
    const chats = Array.from({ length: 45 }, (_, i) => String(1000 + i));
    const before = bot.messages().length;
    const r = await deliverer.deliver(items(chats));
    expect(r).toMatchObject({ failed: [], dlq: 0 });
    expect(r.delivered).toHaveLength(45);
    const got = bot.messages().slice(before);
    expect(got.map((m) => m.chatId).sort()).toEqual([...chats].sort());
    expect(got[0].text).toMatch(/^EXERCIȚIU|^DRILL|^EXERCI/);
    expect(bot.throttled()).toBe(0);
  });

  it('two alerts to one chat wait for its one-per-second limit instead of being refused', async () => {
    const t0 = bot.throttled();
    const r = await deliverer.deliver(items(['777', '777']));
    expect(r.delivered).toHaveLength(2);
    expect(bot.throttled()).toBe(t0);
    expect(bot.messages().filter((m) => m.chatId === '777')).toHaveLength(2);
  });

  it('a 429 is waited out for retry_after and sent once', async () => {
    bot.throttleNext(1, 1);
    const t0 = bot.throttled();
    const sender = new TelegramSender({ token: TOKEN, apiBase: bot.url });
    const r = await sender.sendText('888', 'alert');
    expect(r).toMatchObject({ ok: true, attempts: 2, throttled: 1 });
    expect(r.ok && r.providerId).toMatch(/^\d+$/);
    expect(bot.throttled()).toBe(t0 + 1);
    expect(bot.messages().filter((m) => m.chatId === '888')).toHaveLength(1);
  });

  it('a retry_after beyond the budget fails retriably, naming the wait', async () => {
    bot.throttleNext(1, 30);
    const r = await new TelegramSender({ token: TOKEN, apiBase: bot.url, budgetMs: 2000 }).sendText('889', 'x');
    expect(r).toMatchObject({ ok: false, gone: false, retriable: true, throttled: 1 });
    expect(r.ok ? '' : r.reason).toMatch(/429 Too Many Requests: retry after 30; retry_after exceeds the budget/);
  });

  it('403 (bot blocked) is a gone subscriber: one attempt, not parked; 400 chat not found is reported', async () => {
    const batch = items(['666', '404404', '1234']);
    const r = await deliverer.deliver(batch, { park: false });
    const [blocked, unknown, ok] = batch.map((i) => i.notification.id);
    expect(r.delivered).toEqual([ok]);
    expect(r.gone).toEqual([blocked]);
    expect(r.failed.sort()).toEqual([blocked, unknown].sort());
    expect(r.failures?.map((f) => f.reason).sort()).toEqual([
      'telegram 400 Bad Request: chat not found',
      'telegram 403 Forbidden: bot was blocked by the user: subscriber gone',
    ]);
    // Parking is on by default: the blocked chat alone must not reach the (unreachable) DLQ.
    const again = items(['666']);
    expect(await deliverer.deliver(again)).toMatchObject({ dlq: 0, gone: [again[0].notification.id] });
  });

  it('attempts used up: the reason says what the last one met (here nothing listening)', async () => {
    const port = await freePort();
    const dead = new TelegramSender({
      token: TOKEN,
      apiBase: `http://127.0.0.1:${port}`,
      maxAttempts: 2,
      budgetMs: 10_000,
    });
    const r = await dead.sendText('1001', 'x');
    expect(r).toMatchObject({ ok: false, retriable: true, attempts: 2 });
    expect(!r.ok && r.reason).toBe('telegram: no success after 2 attempt(s); last: connection error: ECONNREFUSED');
  });

  it('a wrong token is refused (401) and the token appears in no reason', async () => {
    const wrong = '999:wrong-token-SECRET';
    const r = await new TelegramSender({ token: wrong, apiBase: bot.url }).sendText('1', 'x');
    expect(r).toMatchObject({ ok: false, retriable: false, reason: 'telegram 401 Unauthorized', attempts: 1 });
    expect(JSON.stringify(r)).not.toContain('SECRET');
    expect(() => new TelegramSender({ token: 'not a token' })).toThrow(/not <id>:<secret>/);
  });

  it('import accepts chat ids and @channels only', () => {
    const row = (target: string) =>
      subscriberSchema.safeParse({ id: 'a', lat: 45, lon: 26, channel: { type: 'telegram', target } }).success;
    expect([row('123456789'), row('-1001234567890'), row('@quake_alerts')]).toEqual([true, true, true]);
    expect([row('https://t.me/x'), row('@ab'), row('12 34')]).toEqual([false, false, false]);
  });
});
