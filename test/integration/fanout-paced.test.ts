/**
 * Paced channels alongside fast ones in one unit (shared/fanout/worker.ts `processUnit`): a segment worker in-process
 * on the local stack (real DynamoDB tables, locks, send journal and rate through the Deliverer), 10 % of the
 * subscribers on Telegram (a local Bot API server, paced here at 8 messages/s) and the rest on a signed webhook sink.
 * The webhooks of later batches must not wait for Telegram's part of earlier ones: they all arrive while Telegram is
 * still sending. Everyone eligible gets exactly one notification, and the unit's lock counts them all.
 * Fails when the worker delivers each mixed batch as one step (the webhooks then trickle out at Telegram's pace).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotApiServer, startBotApi } from '../../local/telegram-bot-api.ts';
import { startWebhookSink, type WebhookSink } from '../../local/webhook-sink.ts';
import { type EventStore, getEvent, savePlan } from '../../shared/events/index.ts';
import { planFanout, runSegmentWorker } from '../../shared/fanout/index.ts';
import { DEFAULT_FANOUT } from '../../shared/infra/config.ts';
import { list } from '../../shared/locks/index.ts';
import { Deliverer } from '../../shared/notify/index.ts';
import { DynamoSendJournal } from '../../shared/notify/journal.ts';
import { TelegramSender } from '../../shared/notify/telegram.ts';
import { coveringCells, SubscriberStore } from '../../shared/segments/index.ts';
import type { SubscriberInput } from '../../shared/segments/types.ts';
import { drillQuake, expectedIds, population } from './pipeline-fixtures.ts';
import { type TestStack, testStack } from './pipeline-support.ts';

const SECRET = 'paced-secret';
const TOKEN = '4242:paced-test-token';
let stack: TestStack;
let sink: WebhookSink;
let bot: BotApiServer;
let subs: SubscriberInput[];
let store: SubscriberStore;

beforeAll(async () => {
  stack = await testStack('pace', ['subscribers', 'segments', 'events', 'locks'], ['delivery']);
  sink = await startWebhookSink({ secrets: SECRET });
  bot = await startBotApi({ token: TOKEN });
  subs = population({ count: 1500, maxKm: 60, dense: 200, target: `${sink.url}/hooks/p`, secret: SECRET, seed: 9 }).map(
    (s, i) => (i % 10 === 0 ? { ...s, channel: { type: 'telegram', target: String(700_000 + i) } } : s),
  );
  store = new SubscriberStore(stack.clients.ddb, stack.names, { maxSegmentSize: 2000 });
  expect((await store.upsert(subs)).rejected).toEqual([]);
});
afterAll(async () => {
  await bot?.close();
  await sink?.close();
  await stack?.cleanup();
});

describe('paced channels in a mixed unit', () => {
  it('webhooks of later batches do not wait for Telegram; everyone is reached once and counted', async () => {
    const quake = drillQuake(`pace-${randomBytes(3).toString('hex')}`, { magnitude: 5.4 });
    const { ddb } = stack.clients;
    const events: EventStore = { ddb, table: stack.names.table('events') };
    const plan = await planFanout(quake, {
      minSubscriberMmi: 3,
      coveringCells,
      segmentsForCells: (cells) => store.segmentsForCells(cells),
    });
    await savePlan(events, quake, { ...plan, chains: 1 });
    const channels = {
      ...DEFAULT_FANOUT.channels,
      telegram: { ...DEFAULT_FANOUT.channels.telegram, ratePerSecond: 8 },
    };
    const deliverer = new Deliverer({
      sqs: stack.clients.sqs,
      names: stack.names,
      allowPrivateTargets: true,
      telegram: new TelegramSender({ token: TOKEN, apiBase: bot.url, paceBot: false }),
      channels,
      journal: new DynamoSendJournal(ddb, stack.names.table('locks')),
    });
    const result = await runSegmentWorker(
      {
        events,
        locks: { ddb, table: stack.names.table('locks') },
        subscribers: store,
        deliver: (items, opts) => deliverer.deliver(items, opts),
        invokeSuccessor: async () => {},
        remainingMs: () => 120_000,
        owner: `w-${randomBytes(3).toString('hex')}`,
        leaseMs: 5000,
        pageSize: 100,
        reserveMs: 1000,
      },
      { eventId: quake.id, chain: 0, hop: 0 },
    );
    expect(result.completedEvent).toBe(true);

    const want = expectedIds(quake, subs);
    const telegramIds = new Set(subs.filter((s) => s.channel.type === 'telegram').map((s) => s.id));
    const chats = new Map(subs.map((s) => [s.channel.target, s.id]));
    const hooks = sink.receipts().filter((r) => r.notification.eventId === quake.id);
    const texts = bot.messages();
    const reached = [...hooks.map((r) => r.notification.subscriberId), ...texts.map((m) => chats.get(m.chatId)!)];
    expect(reached.sort()).toEqual([...want].sort());
    const telegramWanted = [...want].filter((id) => telegramIds.has(id)).length;
    expect(telegramWanted).toBeGreaterThan(40); // 5+ s at 8/s

    const webhookLast = Math.max(...hooks.map((r) => r.receivedAt));
    const telegramLast = Math.max(...texts.map((m) => m.receivedAt));
    // Every webhook is in before Telegram is half done (a batch at a time, they would trail its last message).
    const telegramFirst = Math.min(...texts.map((m) => m.receivedAt));
    expect(webhookLast).toBeLessThan(telegramFirst + (telegramLast - telegramFirst) / 2);

    const locks = await list({ ddb, table: stack.names.table('locks') }, { eventId: quake.id });
    expect(locks.reduce((n, l) => n + (l.delivered ?? 0), 0)).toBe(want.size);
    expect((await getEvent(events, quake.id))?.state).toBe('complete');
  });
});
