/**
 * The telegram channel through the deployed functions (issue 14, "Done when"): producer → Kafka → consumer → four
 * segment-worker chains → the local Bot API server (local/telegram-bot-api.ts: its header lists the documented
 * behaviours it implements, including the per-bot limit of 30 messages/s as a token bucket that answers 429).
 *
 * Asserted at the server: every eligible chat gets its alert once; the chains together stay under the bot's rate
 * (the shared RateGate, shared/notify/rate.ts — each chain pacing on its own would send about four times as fast and
 * draw 429s); a blocked chat (403) is `gone`: nothing parked, never retried; an unknown chat (400) is parked in the
 * delivery DLQ with the server's reason and a redacted chat id; the bot token appears in no DLQ message.
 */
import { GetQueueUrlCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotApiServer, startBotApi } from '../../local/telegram-bot-api.ts';
import type { DeliveryDlqMessage } from '../../shared/notify/types.ts';
import { SubscriberStore } from '../../shared/segments/index.ts';
import type { SubscriberInput } from '../../shared/segments/types.ts';
import { uniqueName } from '../helpers/stack.ts';
import { type DeployedPipeline, deployPipeline } from './pipeline-deploy.ts';
import { drillQuake, expectedIds, population } from './pipeline-fixtures.ts';
import { type TestStack, testStack } from './pipeline-support.ts';

const TOKEN = '7654321:channel-telegram-test-token';
let stack: TestStack;
let bot: BotApiServer;
let pipeline: DeployedPipeline;
let subs: SubscriberInput[];
const chatOf = (i: number) => String(500_000 + i);

beforeAll(async () => {
  stack = await testStack('tg', ['subscribers', 'segments', 'events', 'locks'], ['consumer', 'delivery', 'worker']);
  subs = population({ count: 260, maxKm: 40, dense: 60, target: 'x', secret: 'unused', seed: 5 }).map((s, i) => ({
    ...s,
    minMmi: 3,
    channel: { type: 'telegram', target: chatOf(i) },
  }));
  bot = await startBotApi({ token: TOKEN, blocked: [chatOf(1), chatOf(2)], unknown: [chatOf(3)] });
  const store = new SubscriberStore(stack.clients.ddb, stack.names, { maxSegmentSize: 40 });
  expect((await store.upsert(subs)).inserted).toBe(subs.length);
  pipeline = await deployPipeline(stack, {
    tag: 'tg',
    fanout: { maxSegmentSize: 40, parallelism: 4 },
    env: { QUAKECTL_TELEGRAM_BOT_TOKEN: TOKEN, QUAKECTL_TELEGRAM_API_URL: bot.url },
  });
});

afterAll(async () => {
  await pipeline?.teardown();
  await bot?.close();
  await stack?.cleanup();
});

async function deliveryDlq(): Promise<{ body: string; message: DeliveryDlqMessage }[]> {
  const { QueueUrl } = await stack.clients.sqs.send(new GetQueueUrlCommand({ QueueName: stack.names.dlq('delivery') }));
  const out: { body: string; message: DeliveryDlqMessage }[] = [];
  for (let empty = 0; empty < 2; ) {
    const r = await stack.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    if (!r.Messages?.length) empty++;
    for (const m of r.Messages ?? []) out.push({ body: m.Body!, message: JSON.parse(m.Body!) });
  }
  return out;
}

describe('telegram through the deployed functions', () => {
  it('alerts every eligible chat once, under the bot rate across chains; 403 gone, 400 parked', async () => {
    const quake = drillQuake(uniqueName('tg'), { magnitude: 5.6 });
    const expected = expectedIds(quake, subs);
    const index = new Map(subs.map((s, i) => [s.id, i]));
    const expectedChats = new Set([...expected].map((id) => chatOf(index.get(id)!)));
    for (const c of [chatOf(1), chatOf(2), chatOf(3)]) expect(expectedChats.has(c)).toBe(true);
    expect(expectedChats.size).toBeGreaterThan(150);

    expect((await pipeline.invokeProducer({ quakes: [quake] })).accepted).toEqual([quake.id]);
    await pipeline.settled(quake.id, undefined, 180_000);

    const got = bot.messages();
    const byChat = Map.groupBy(got, (m) => m.chatId);
    const reachable = [...expectedChats].filter((c) => ![chatOf(1), chatOf(2), chatOf(3)].includes(c));
    console.log(
      'DEBUG',
      JSON.stringify(
        reachable
          .filter((c) => byChat.get(c)?.length !== 1)
          .map((c) => [c, byChat.get(c)?.map((m) => [m.receivedAt, m.text.slice(0, 60)])]),
      ),
    );
    expect(reachable.filter((c) => byChat.get(c)?.length !== 1)).toEqual([]);
    expect([...byChat.keys()].filter((c) => !expectedChats.has(c))).toEqual([]);
    expect(got[0].text).toMatch(/^(DRILL|EXERCIȚIU)/);
    // Four chains, one bot: the shared rate keeps the server's bucket from running dry.
    expect(bot.throttled()).toBe(0);
    // And over the whole run: the chains together sent at most the bot's rate. Slack: one message for the protocol's
    // edges (a token may be used up to one spacing after its moment: rate.ts) and one for receipt jitter, since the
    // times are the receiver's (a first message received 10 ms late made n exceed the bound by 0.3 under load).
    const times = got.map((m) => m.receivedAt).sort((a, b) => a - b);
    expect(times.length - 1).toBeLessThanOrEqual((30 * (times.at(-1)! - times[0])) / 1000 + 2);

    const parked = await deliveryDlq();
    expect(parked.map((p) => p.message.target)).toEqual([`telegram:…${chatOf(3).slice(-3)}`]);
    expect(parked[0].message.reason).toMatch(/telegram 400 Bad Request: chat not found/);
    for (const p of parked) expect(p.body).not.toContain(TOKEN.split(':')[1]);
    // 403: tried once per chat, never retried, never parked.
    expect(bot.requests()).toBe(got.length + 3);
  });
});
