/**
 * Parking an urgent unit whose pass 1 has paced channels (shared/fanout/worker.ts `park`): a segment worker in-process
 * on the local stack (real DynamoDB tables, locks, send journal and rate through the Deliverer), 10 % of the
 * subscribers on Telegram (a local Bot API server, paced here at 4 messages/s), the rest on a signed webhook sink.
 * Origin 4 s ago: the S wave is crossing the nearest units, so some urgent units straddle the blind zone and are
 * parked after their pass 1. A parked unit's Telegram part of pass 1 must not hold the chain: the next urgent unit's
 * webhooks go out while it is still sending, as they do after a unit read in key order (`closeInBackground`).
 * Fails when `park` waits for the unit's paced sends before returning to the chain.
 *
 * The second test fails a parked unit's pass-1 Telegram part (not a lost lease): the invocation must end in that error
 * and Lambda's retry of it reach everyone. Nothing is lost even when pass 2 is begun after the failure (checked by
 * hand, 2026-12-01, with `resumeParked`'s guard removed: pass 1's failure still stops the unit before its checkpoint);
 * the guard only saves sending pass 2 twice.
 */
import { randomBytes } from 'node:crypto';
import { paginateScan } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotApiServer, startBotApi } from '../../local/telegram-bot-api.ts';
import { startWebhookSink, type WebhookSink } from '../../local/webhook-sink.ts';
import { type EventStore, getEvent, savePlan } from '../../shared/events/index.ts';
import { planFanout, runSegmentWorker, unitKey } from '../../shared/fanout/index.ts';
import { DEFAULT_FANOUT } from '../../shared/infra/config.ts';
import { list } from '../../shared/locks/index.ts';
import { Deliverer } from '../../shared/notify/index.ts';
import { DynamoSendJournal } from '../../shared/notify/journal.ts';
import { TelegramSender } from '../../shared/notify/telegram.ts';
import { coveringCells, SubscriberStore } from '../../shared/segments/index.ts';
import type { SubscriberInput } from '../../shared/segments/types.ts';
import { drillQuake, expectedIds, population } from './pipeline-fixtures.ts';
import { type TestStack, testStack } from './pipeline-support.ts';

const SECRET = 'park-paced-secret';
const TOKEN = '4343:park-paced-token';
let stack: TestStack;
let sink: WebhookSink;
let bot: BotApiServer;
let subs: SubscriberInput[];
let store: SubscriberStore;
const segmentOf = new Map<string, string>();

beforeAll(async () => {
  stack = await testStack('parkp', ['subscribers', 'segments', 'events', 'locks'], ['delivery']);
  sink = await startWebhookSink({ secrets: SECRET });
  bot = await startBotApi({ token: TOKEN });
  subs = population({ count: 2500, maxKm: 140, dense: 400, target: `${sink.url}/hooks/k`, secret: SECRET }).map(
    (s, i) => (i % 10 === 0 ? { ...s, channel: { type: 'telegram', target: String(800_000 + i) } } : s),
  );
  store = new SubscriberStore(stack.clients.ddb, stack.names, { maxSegmentSize: 150 });
  expect((await store.upsert(subs)).rejected).toEqual([]);
  for await (const page of paginateScan(
    { client: stack.clients.ddb },
    { TableName: stack.names.table('subscribers') },
  )) {
    for (const item of page.Items ?? []) segmentOf.set(item.subscriberId as string, item.segment as string);
  }
});
afterAll(async () => {
  await bot?.close();
  await sink?.close();
  await stack?.cleanup();
});

/**
 * A drill quake with origin 4 s ago, planned on one chain and saved; which unit each shard is in; and a Deliverer
 * whose Telegram pace is `telegramPerS` messages/s.
 */
async function plannedQuake(label: string, telegramPerS: number) {
  const quake = drillQuake(`${label}-${randomBytes(3).toString('hex')}`, { originTime: Date.now() - 4000 });
  const { ddb } = stack.clients;
  const events: EventStore = { ddb, table: stack.names.table('events') };
  const plan = await planFanout(quake, {
    minSubscriberMmi: 3,
    coveringCells,
    segmentsForCells: (cells) => store.segmentsForCells(cells),
  });
  await savePlan(events, quake, { ...plan, chains: 1 });
  const unitKeyOf = new Map<string, string>();
  plan.units.forEach((start, u) => {
    const shards = plan.segments.slice(start, plan.units[u + 1] ?? plan.segments.length);
    for (const seg of shards) unitKeyOf.set(seg, unitKey(plan.segments, plan.units, u));
  });
  const telegram = { ...DEFAULT_FANOUT.channels.telegram, ratePerSecond: telegramPerS };
  const deliverer = new Deliverer({
    sqs: stack.clients.sqs,
    names: stack.names,
    allowPrivateTargets: true,
    telegram: new TelegramSender({ token: TOKEN, apiBase: bot.url, paceBot: false }),
    channels: { ...DEFAULT_FANOUT.channels, telegram },
    journal: new DynamoSendJournal(ddb, stack.names.table('locks')),
  });
  return { quake, ddb, events, unitKeyOf, deliverer };
}

describe('parking with paced channels', () => {
  it('a parked unit’s Telegram part does not hold the chain’s next urgent unit; everyone reached once', async () => {
    const { quake, ddb, events, unitKeyOf, deliverer } = await plannedQuake('parkp', 4);
    /** Every deliver call in the order made: its unit's shards, whether it is the paced part, and when it settled. */
    const calls: { unit: string; paced: boolean; done: boolean; doneAtCall?: number }[] = [];
    const parkedUnits: string[] = [];
    /** Calls made when each unit was parked: its later webhook calls are pass 2's. */
    const parkedAt = new Map<string, number>();
    const result = await runSegmentWorker(
      {
        events,
        locks: { ddb, table: stack.names.table('locks') },
        subscribers: store,
        deliver: async (items, opts) => {
          const unit = unitKeyOf.get(segmentOf.get(items[0].notification.subscriberId)!)!;
          const call = { unit, paced: items[0].channel.type === 'telegram', done: false } as (typeof calls)[number];
          calls.push(call);
          try {
            return await deliverer.deliver(items, opts);
          } finally {
            call.done = true;
            call.doneAtCall = calls.length;
          }
        },
        invokeSuccessor: async () => {},
        remainingMs: () => 120_000,
        owner: `w-${randomBytes(3).toString('hex')}`,
        leaseMs: 5000,
        pageSize: 100,
        reserveMs: 1000,
        log: {
          info: (msg: string, f?: Record<string, unknown>) => {
            if (msg.startsWith('unit parked')) {
              parkedUnits.push(String(f?.unit));
              parkedAt.set(String(f?.unit), calls.length);
            }
          },
          warn: () => {},
        },
      },
      { eventId: quake.id, chain: 0, hop: 0 },
    );
    expect(result.completedEvent).toBe(true);

    // Everyone eligible exactly once, over both channels.
    const want = expectedIds(quake, subs);
    const chats = new Map(subs.map((s) => [s.channel.target, s.id]));
    const hooks = sink.receipts().filter((r) => r.notification.eventId === quake.id);
    const reached = [
      ...hooks.map((r) => r.notification.subscriberId),
      ...bot.messages().map((m) => chats.get(m.chatId)!),
    ];
    expect(reached.sort()).toEqual([...want].sort());

    // A parked unit whose pass 1 had a Telegram part: while that part was still going, the chain was already sending
    // another unit's webhooks (calls made before the paced call settled).
    const parkedWithPaced = parkedUnits.filter((u) => calls.some((c) => c.unit === u && c.paced));
    expect(parkedWithPaced.length).toBeGreaterThan(0);
    let overlapped = 0;
    for (const u of parkedWithPaced) {
      const i = calls.findIndex((c) => c.unit === u && c.paced);
      const settledAt = calls[i].doneAtCall ?? calls.length;
      if (calls.slice(i + 1, settledAt).some((c) => c.unit !== u && !c.paced)) overlapped++;
    }
    // All but possibly the last (after it there may be nothing else to send). Before the fix none overlapped.
    expect(overlapped).toBeGreaterThan(0);
    expect(overlapped).toBeGreaterThanOrEqual(parkedWithPaced.length - 1);
    // Taking a parked unit back does not wait for its pass 1's paced part either: pass 2's first webhooks go out
    // before that part has settled (its checkpoints wait behind it). Fails when `resumeParked` awaits the settling.
    let early = 0;
    for (const u of parkedWithPaced) {
      const at = parkedAt.get(u)!;
      const pass1Paced = calls.slice(0, at).filter((c) => c.unit === u && c.paced);
      const pass2 = calls.findIndex((c, j) => j >= at && c.unit === u && !c.paced);
      if (pass2 < 0 || pass1Paced.length === 0) continue;
      const pass1SettledAt = Math.max(...pass1Paced.map((c) => c.doneAtCall ?? calls.length));
      if (pass2 < pass1SettledAt - 1) early++;
    }
    expect(early).toBeGreaterThan(0);

    const locks = await list({ ddb, table: stack.names.table('locks') }, { eventId: quake.id });
    expect(locks.reduce((n, l) => n + (l.delivered ?? 0), 0)).toBe(want.size);
    expect(locks.every((l) => l.attempts === 1)).toBe(true);
    expect((await getEvent(events, quake.id))?.state).toBe('complete');
  });

  it('a parked unit whose pass 1 fails ends the invocation with that error; the retry reaches everyone, nobody lost', async () => {
    const { quake, ddb, events, unitKeyOf, deliverer } = await plannedQuake('parkf', 50);
    const botBefore = bot.messages().length;
    const leaseMs = 1500;
    const parkedUnits = new Set<string>();
    let failedPaced = 0;
    const deps = (deliver: Parameters<typeof runSegmentWorker>[0]['deliver']) => ({
      events,
      locks: { ddb, table: stack.names.table('locks') },
      subscribers: store,
      deliver,
      invokeSuccessor: async () => {},
      remainingMs: () => 120_000,
      owner: `w-${randomBytes(3).toString('hex')}`,
      leaseMs,
      pageSize: 100,
      reserveMs: 1000,
      log: {
        info: (msg: string, f?: Record<string, unknown>) => {
          if (msg.startsWith('unit parked')) parkedUnits.add(String(f?.unit));
        },
        warn: () => {},
      },
    });
    // The first invocation: the Telegram part of a parked unit's pass 1 fails (a provider or journal error, not a
    // lost lease), shortly after the unit was parked; every other send goes through.
    const first = runSegmentWorker(
      deps(async (items, opts) => {
        if (items[0].channel.type !== 'telegram') return deliverer.deliver(items, opts);
        await new Promise((r) => setTimeout(r, 30));
        const unit = unitKeyOf.get(segmentOf.get(items[0].notification.subscriberId)!)!;
        if (!parkedUnits.has(unit)) return deliverer.deliver(items, opts);
        failedPaced++;
        throw new Error('telegram part of pass 1 failed');
      }),
      { eventId: quake.id, chain: 0, hop: 0 },
    );
    await expect(first).rejects.toThrow('telegram part of pass 1 failed');
    expect(failedPaced).toBeGreaterThan(0);
    expect((await getEvent(events, quake.id))?.state).not.toBe('complete');

    // Lambda retries the failed async invocation with the same payload; the failed unit's lease has run out by then.
    await new Promise((r) => setTimeout(r, leaseMs + 200));
    const retry = await runSegmentWorker(
      deps((items, opts) => deliverer.deliver(items, opts)),
      { eventId: quake.id, chain: 0, hop: 0 },
    );
    expect(retry.completedEvent).toBe(true);

    // Everyone eligible reached (the failed unit's pass 1 webhooks may come twice: the receiver de-duplicates by
    // idempotency key), nobody else; the Telegram messages that failed were sent by the retry, each once.
    const want = expectedIds(quake, subs);
    const chats = new Map(subs.map((s) => [s.channel.target, s.id]));
    const hooks = new Set(
      sink
        .receipts()
        .filter((r) => r.notification.eventId === quake.id)
        .map((r) => r.notification.subscriberId),
    );
    const telegram = bot
      .messages()
      .slice(botBefore)
      .map((m) => chats.get(m.chatId)!);
    expect(new Set(telegram).size).toBe(telegram.length);
    expect([...new Set([...hooks, ...telegram])].sort()).toEqual([...want].sort());
    expect((await getEvent(events, quake.id))?.state).toBe('complete');
  });
});
