/**
 * The sms, email and telegram-secret paths through the deployed functions (producer → Kafka → consumer → segment
 * workers) on the local stack, asserted at moto, the real implementation the functions' SNS, SES v2 and Secrets
 * Manager clients talk to (local/channels.ts reads back what it recorded):
 * - every sms subscriber gets one SMS: the DRILL marker first, one segment (GSM-7; Romanian transliterated);
 * - every email subscriber gets one email: the DRILL banner first in the subject, the List-Unsubscribe header (RFC 8058
 *   one-click), the notification id;
 * - the Telegram bot token is read from Secrets Manager at cold start (QUAKECTL_TELEGRAM_SECRET_ARN), never from the
 *   plain environment: the local Bot API server, which accepts only that token, receives the telegram alerts;
 * - a sender that is not a verified identity: SES (moto) refuses every email, each lands in the delivery DLQ with
 *   SES's reason and the address redacted, while SMS still go out.
 * Throttling cannot be provoked in moto: the Deliverer's throttle handling against a local SNS-compatible answer is in
 * test/unit/notify-sms-email.test.ts.
 */
import { randomInt } from 'node:crypto';
import { DeleteEmailIdentityCommand } from '@aws-sdk/client-sesv2';
import { DeleteMessageCommand, GetQueueUrlCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordedEmails, recordedSms, verifyLocalSender } from '../../local/channels.ts';
import { type BotApiServer, startBotApi } from '../../local/telegram-bot-api.ts';
import { putChannelSecret } from '../../shared/deploy/secrets.ts';
import { DEFAULT_FANOUT } from '../../shared/infra/config.ts';
import { smsSegments } from '../../shared/notify/sms.ts';
import type { DeliveryDlqMessage } from '../../shared/notify/types.ts';
import type { DeliveryBatch } from '../../shared/ops/dlq/decode.ts';
import { deliveryRedeliverer } from '../../shared/ops/dlq/redeliver.ts';
import { SubscriberStore } from '../../shared/segments/index.ts';
import type { SubscriberInput } from '../../shared/segments/types.ts';
import { destination } from '../../shared/seismo/geodesy.ts';
import { uniqueName } from '../helpers/stack.ts';
import { type DeployedPipeline, deployPipeline } from './pipeline-deploy.ts';
import { drillQuake, EPICENTRE } from './pipeline-fixtures.ts';
import { type TestStack, testStack } from './pipeline-support.ts';

const TOKEN = `${randomInt(100_000, 999_999)}:secret-manager-token-${randomInt(1e9)}`;
let stack: TestStack;
let pipeline: DeployedPipeline;
let bot: BotApiServer;
let moto: string;
let from: string;
const phones: string[] = [];
const emails: string[] = [];
const chats = ['7001', '7002'];
const subs: SubscriberInput[] = [];

beforeAll(async () => {
  stack = await testStack('ch', ['subscribers', 'segments', 'events', 'locks'], ['consumer', 'delivery', 'worker']);
  moto = stack.clients.config.endpoints.sesv2!;
  expect(moto, 'the local stack runs moto (quakectl local up)').toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const tag = stack.names.prefix.replace(/-$/, '');
  from = `alerts-${tag}@quake.test`;
  await verifyLocalSender(await stack.clients.sesv2(), from);
  bot = await startBotApi({ token: TOKEN });
  const secret = await putChannelSecret(await stack.clients.secretsmanager(), stack.names, 'telegram-bot-token', TOKEN);
  // Within 10–40 km of a M6.0 at 10 km depth: everyone's predicted intensity is far above MMI 3.
  const at = (i: number, n: number) => destination(EPICENTRE.lat, EPICENTRE.lon, (360 * i) / n, 10 + 5 * i);
  for (let i = 0; i < 6; i++) {
    // Romanian mobile numbers (+40 7xx xxx xxx), unique per run: moto's record is shared by every test.
    const phone = `+40721${String(randomInt(1_000_000)).padStart(6, '0')}`;
    phones.push(phone);
    const [lat, lon] = at(i, 6);
    subs.push({
      id: `sms${i}`,
      lat,
      lon,
      minMmi: 3,
      channel: { type: 'sms', target: phone },
      locale: i % 2 ? 'ro' : 'en',
    });
    const email = `s${i}-${tag}@example.org`;
    emails.push(email);
    subs.push({
      id: `mail${i}`,
      lat,
      lon,
      minMmi: 3,
      channel: { type: 'email', target: email },
      locale: i % 2 ? 'ro' : 'en',
    });
  }
  chats.forEach((chat, i) => {
    const [lat, lon] = at(i, 2);
    subs.push({ id: `tg${i}`, lat, lon, minMmi: 3, channel: { type: 'telegram', target: chat } });
  });
  const store = new SubscriberStore(stack.clients.ddb, stack.names, { maxSegmentSize: 300 });
  expect((await store.upsert(subs)).inserted).toBe(subs.length);
  // SMS and email drop an alert whose S wave passed over 10 s ago: on a loaded CI machine the first cold starts can
  // take that long, so the grace is widened here (the drop itself is the Deliverer's, tested at unit level).
  const channels = structuredClone(DEFAULT_FANOUT.channels);
  channels.sms.lateGraceS = 600;
  channels.email.lateGraceS = 600;
  pipeline = await deployPipeline(stack, {
    tag: 'ch',
    fanout: { channels },
    env: {
      QUAKECTL_SMS_ENABLED: 'true',
      QUAKECTL_SMS_SENDER_ID: 'QuakeAlert',
      QUAKECTL_SES_FROM: `Quake alerts <${from}>`,
      QUAKECTL_EMAIL_UNSUBSCRIBE_URL: 'https://alerts.quake.test/unsubscribe/{subscriber}',
      QUAKECTL_TELEGRAM_SECRET_ARN: secret.arn,
      QUAKECTL_TELEGRAM_API_URL: bot.url,
      QUAKECTL_SNS_ENDPOINT: moto,
      QUAKECTL_SESV2_ENDPOINT: moto,
      QUAKECTL_SECRETS_ENDPOINT: moto,
    },
  });
});

afterAll(async () => {
  await pipeline?.teardown();
  await bot?.close();
  await stack?.cleanup();
});

async function deliveryDlq(count: number, timeoutMs = 60_000): Promise<DeliveryDlqMessage[]> {
  const { QueueUrl } = await stack.clients.sqs.send(new GetQueueUrlCommand({ QueueName: stack.names.dlq('delivery') }));
  const out: DeliveryDlqMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count && Date.now() < deadline) {
    const r = await stack.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    for (const m of r.Messages ?? []) {
      out.push(JSON.parse(m.Body!) as DeliveryDlqMessage);
      await stack.clients.sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  }
  return out;
}

describe('sms and email through the deployed functions, recorded by moto', () => {
  it('one SMS per number (DRILL first, one segment), one email per address (List-Unsubscribe), telegram via the secret', async () => {
    const quake = drillQuake(uniqueName('ch-ok'), { magnitude: 6.0, place: 'Timiș, Romania' });
    expect((await pipeline.invokeProducer({ quakes: [quake] })).accepted).toEqual([quake.id]);
    await pipeline.settled(quake.id);

    const sms = (await recordedSms(moto)).filter((m) => phones.includes(m.phoneNumber));
    expect(sms.map((m) => m.phoneNumber).sort()).toEqual([...phones].sort());
    for (const m of sms) {
      expect(m.message).toMatch(/^(DRILL|EXERCITIU) \(TEST\): /);
      expect(smsSegments(m.message)).toEqual({ encoding: 'GSM-7', segments: 1 });
      expect(m.message).toContain('M6');
    }
    // Romanian subscribers (odd indexes) read Romanian, transliterated.
    expect(sms.find((m) => m.phoneNumber === phones[1])!.message).toMatch(/^EXERCITIU \(TEST\): Cutremur M6,0 Timis/);

    const mail = (await recordedEmails(moto)).filter((m) => emails.includes(m.to[0]));
    expect(mail.map((m) => m.to[0]).sort()).toEqual([...emails].sort());
    for (const m of mail) {
      const i = emails.indexOf(m.to[0]);
      expect(m.source).toContain(from);
      expect(m.subject).toMatch(/^(DRILL — THIS IS A TEST|EXERCIȚIU — ACESTA ESTE UN TEST): (Earthquake|Cutremur) M6/);
      expect(m.headers['list-unsubscribe']).toBe(`<https://alerts.quake.test/unsubscribe/mail${i}>`);
      expect(m.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
      expect(m.notificationId).toMatch(new RegExp(`^${quake.id}:mail${i}:(take-action|be-aware)$`));
    }

    const tg = bot.messages().filter((m) => chats.includes(m.chatId));
    expect(tg.map((m) => m.chatId).sort()).toEqual(chats);
  });

  it('an unverified sender: every email parked in the delivery DLQ with SES’s reason, the address redacted', async () => {
    await (await stack.clients.sesv2()).send(new DeleteEmailIdentityCommand({ EmailIdentity: from }));
    try {
      // Minutes from the first test's origin: not associated with it (a new event, new alerts).
      const quake = drillQuake(uniqueName('ch-rej'), { magnitude: 6.0, originTime: Date.now() - 180_000 });
      const smsBefore = (await recordedSms(moto)).length;
      expect((await pipeline.invokeProducer({ quakes: [quake] })).accepted).toEqual([quake.id]);
      await pipeline.settled(quake.id);
      const parked = (await deliveryDlq(emails.length)).filter((m) => m.eventId === quake.id);
      expect(parked).toHaveLength(emails.length);
      for (const m of parked) {
        expect(m.reason).toMatch(/^ses MessageRejected: .*alerts-/);
        expect(m.target).toMatch(/^email:s…@example\.org$/);
        expect(m.notifications).toHaveLength(1);
        expect(emails.some((e) => m.target.includes(e.split('@')[0]))).toBe(false);
      }
      expect(new Set(parked.map((m) => m.notifications[0].subscriberId))).toEqual(
        new Set(emails.map((_, i) => `mail${i}`)),
      );
      // SMS are not held up by the email provider's refusal.
      const sms = (await recordedSms(moto)).slice(smsBefore).filter((m) => phones.includes(m.phoneNumber));
      expect(sms).toHaveLength(phones.length);

      // The redrive sends with the deployed worker's senders (this shell has no SES settings). The quake is three
      // minutes old: the alerts are rebuilt to say what happened (the late policy's default), not "shaking in N s".
      await verifyLocalSender(await stack.clients.sesv2(), from);
      expect(process.env.QUAKECTL_SES_FROM).toBeUndefined();
      const redeliver = await deliveryRedeliverer(stack.clients);
      const emailsBefore = (await recordedEmails(moto)).length;
      const batch = { ...parked[0], notifications: parked.flatMap((m) => m.notifications) } as unknown as DeliveryBatch;
      const report = await redeliver(batch);
      expect(report.delivered.sort()).toEqual(parked.map((m) => m.notifications[0].id).sort());
      const resent = (await recordedEmails(moto)).slice(emailsBefore);
      expect(resent.map((m) => m.to[0]).sort()).toEqual([...emails].sort());
      for (const m of resent) expect(m.text).not.toMatch(/(^|\s)(in|în) \d+ s\b/);
    } finally {
      await verifyLocalSender(await stack.clients.sesv2(), from);
    }
  });
});
