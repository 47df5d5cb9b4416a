/**
 * The sms and email channels' pure parts — SMS encoding and segments (3GPP TS 23.038 as sms-segments-calculator
 * counts them), the compact SMS text, the email subject, MIME message and List-Unsubscribe header, the providers'
 * error mapping — and throttling through the one Deliverer against a local server that answers SNS Publish in the AWS
 * Query protocol (moto cannot throttle; the SDK client and the Deliverer are the production ones). Sends against moto
 * itself are in test/integration/channels-sms-email.test.ts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import PostalMime from 'postal-mime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resourceNames } from '../../shared/infra/names.ts';
import { providerRetryStrategy, RETRY_POLICIES } from '../../shared/infra/retry.ts';
import { emailMime, emailSubject, sesFailure, unsubscribeHeaders } from '../../shared/notify/email.ts';
import { buildCancellation, buildNotification, Deliverer, type DeliveryItem } from '../../shared/notify/index.ts';
import { SmsSender, smsSegments, smsText, snsFailure, toGsm7 } from '../../shared/notify/sms.ts';
import type { Notification } from '../../shared/notify/types.ts';

const ORIGIN = Date.parse('2026-11-30T08:14:00Z');

function alert(
  o: {
    drill?: boolean;
    locale?: string;
    place?: string;
    seconds?: number;
    level?: 'take-action' | 'be-aware';
    subscriber?: string;
  } = {},
): Notification {
  return buildNotification(
    { id: 'ev-1', drill: o.drill ?? true, magnitude: 6.1, place: o.place ?? 'Vrancea, Romania', originTime: ORIGIN },
    { id: o.subscriber ?? 'sub-1', locale: o.locale ?? 'en' },
    { mmi: 6.4, distanceKm: 123.4, level: o.level ?? 'take-action', secondsUntilShaking: o.seconds ?? 23 },
  );
}

describe('SMS segments (3GPP TS 23.038)', () => {
  it('GSM-7: 160 characters are one segment, 161 two; an extension character (€) counts twice', () => {
    expect(smsSegments('a'.repeat(160))).toEqual({ encoding: 'GSM-7', segments: 1 });
    expect(smsSegments('a'.repeat(161))).toEqual({ encoding: 'GSM-7', segments: 2 });
    expect(smsSegments('€'.repeat(80)).segments).toBe(1);
    expect(smsSegments('€'.repeat(81)).segments).toBe(2);
  });

  it('one Romanian diacritic switches the whole text to UCS-2: 70 characters a segment', () => {
    expect(smsSegments(`ș${'a'.repeat(69)}`)).toEqual({ encoding: 'UCS-2', segments: 1 });
    expect(smsSegments(`ș${'a'.repeat(70)}`)).toEqual({ encoding: 'UCS-2', segments: 2 });
  });

  it('transliterates Romanian letters (comma-below and cedilla forms) and typographic marks, keeps GSM-7 letters', () => {
    expect(toGsm7('Mișcări puternice în Țara Bârsei — Ş ţ …')).toBe('Miscari puternice in Tara Barsei - S t ...');
    expect(toGsm7('Zürich, Málaga, Ñuñoa')).toBe('Zürich, Malaga, Ñuñoa'); // á is not in GSM-7, à is
    expect(smsSegments(toGsm7('Mișcări ăâîșț ĂÂÎȘȚ')).encoding).toBe('GSM-7');
  });
});

describe('SMS text', () => {
  it('English drill alert: the DRILL marker first, every fact, GSM-7 in one segment as written', () => {
    const s = smsText(alert());
    expect(s.text.startsWith('DRILL (TEST): ')).toBe(true);
    expect(s.text).toContain('M6.1 Vrancea, Romania');
    expect(s.text).toContain('123 km');
    expect(s.text).toContain('in 23 s');
    expect(s).toMatchObject({ encoding: 'GSM-7', segments: 1, fit: 'as-written' });
  });

  it('Romanian: diacritics would take two UCS-2 segments, so the text is transliterated into one GSM-7 segment', () => {
    const n = alert({ locale: 'ro' });
    const s = smsText(n);
    expect(s).toMatchObject({ encoding: 'GSM-7', segments: 1, fit: 'transliterated' });
    expect(s.text.startsWith('EXERCITIU (TEST): ')).toBe(true);
    expect(s.text).toContain('Miscari puternice in 23 s');
    expect(s.text).toContain('M6,1');
  });

  it('a real event never carries the marker', () => {
    expect(smsText(alert({ drill: false })).text.startsWith('Earthquake M6.1')).toBe(true);
    expect(smsText(alert({ drill: false, locale: 'ro' })).text.startsWith('Cutremur M6,1')).toBe(true);
  });

  it('a long place is shortened from its end so the alert stays one segment, the marker and the action kept', () => {
    const place = 'Some Extremely Long Place Name Near The Border Of Two Countries Far Away, Romania';
    const s = smsText(alert({ place }));
    expect(s).toMatchObject({ segments: 1, fit: 'place-shortened' });
    expect(s.text).toMatch(/^DRILL \(TEST\): Earthquake M6\.1 Some Extremely.*\.\., 123 km away/);
    expect(s.text.endsWith('Drop, cover, hold on.')).toBe(true);
  });

  it('every kind, phase, level and locale with a 60-character place fits one segment', () => {
    const place = 'x'.repeat(50) + ', Romania';
    for (const locale of ['en', 'ro']) {
      for (const drill of [true, false]) {
        for (const level of ['take-action', 'be-aware'] as const) {
          for (const seconds of [35, -5, -600]) {
            const n = alert({ locale, drill, level, seconds, place });
            expect(smsText(n).segments, `${locale} ${drill} ${level} ${seconds}`).toBe(1);
          }
        }
        const cancel = buildCancellation(
          { id: 'ev-1', drill, magnitude: 6.1, place, originTime: ORIGIN },
          { id: 'sub-1', locale },
          { mmi: 6.4, distanceKm: 123.4, level: 'take-action', secondsUntilShaking: 20 },
        );
        const s = smsText(cancel);
        expect(s.segments).toBe(1);
        expect(s.text).toMatch(drill ? /^(DRILL|EXERCITIU) \(TEST\): (CANCELLED|ANULAT)/ : /^(CANCELLED|ANULAT)/);
      }
    }
  });
});

describe('SNS Publish errors', () => {
  const err = (name: string, message: string, status: number) =>
    Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status, attempts: 1 } });

  it('throttling → throttle; an invalid or opted-out number → gone; 5xx → retriable; the number never in the reason', () => {
    expect(snsFailure(err('Throttling', 'Rate exceeded', 400), 1)).toMatchObject({ throttle: {}, retriable: true });
    expect(snsFailure(err('ThrottledException', 'slow down', 429), 1).throttle).toBeDefined();
    const invalid = snsFailure(err('InvalidParameterException', 'Invalid parameter: PhoneNumber +40721234567', 400), 1);
    expect(invalid).toMatchObject({ gone: true, retriable: false });
    expect(invalid.reason).not.toContain('40721234567');
    expect(snsFailure(err('OptedOutException', 'opted out', 400), 1)).toMatchObject({ gone: true });
    expect(snsFailure(err('InternalErrorException', 'oops', 500), 1)).toMatchObject({ gone: false, retriable: true });
    expect(snsFailure(err('InvalidParameterException', 'Invalid parameter: Message too long', 400), 1)).toMatchObject({
      gone: false,
    });
  });
});

describe('SES v2 SendEmail errors', () => {
  const err = (name: string, message: string, status: number) =>
    Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

  it('throttle, rejection (not retriable, with the reason), suppression → gone, paused account → retriable', () => {
    expect(sesFailure(err('TooManyRequestsException', 'Too many requests', 429))).toMatchObject({ throttle: {} });
    expect(sesFailure(err('LimitExceededException', 'Maximum sending rate exceeded', 400)).throttle).toBeDefined();
    const rejected = sesFailure(err('MessageRejected', 'Email address not verified alerts@quake.test', 400));
    expect(rejected).toMatchObject({ gone: false, retriable: false });
    expect(rejected.reason).toContain('not verified');
    expect(sesFailure(err('MailFromDomainNotVerifiedException', 'x', 400)).retriable).toBe(false);
    const suppressed = sesFailure(err('BadRequestException', 'a@b.org is on the suppression list', 400), 'a@b.org');
    expect(suppressed).toMatchObject({ gone: true });
    expect(suppressed.reason).not.toContain('a@b.org');
    expect(sesFailure(err('SendingPausedException', 'paused', 400))).toMatchObject({ retriable: true, gone: false });
    expect(sesFailure(err('AccountSuspendedException', 'suspended', 400))).toMatchObject({ retriable: true });
  });
});

describe('email message', () => {
  it('subject: the DRILL banner first, magnitude, place and level; Romanian kept with its diacritics', () => {
    expect(emailSubject(alert())).toBe('DRILL — THIS IS A TEST: Earthquake M6.1 Vrancea, Romania: take action');
    expect(emailSubject(alert({ locale: 'ro', level: 'be-aware', drill: false }))).toBe(
      'Cutremur M6,1 Vrancea, Romania: fiți atenți',
    );
    // Built after the S wave (a rate wait, a redrive): the subject no longer urges action.
    expect(emailSubject(alert({ seconds: -20 }))).toBe(
      'DRILL — THIS IS A TEST: Earthquake M6.1 Vrancea, Romania: shaking under way',
    );
    expect(emailSubject(alert({ seconds: -300, locale: 'ro', drill: false }))).toBe(
      'Cutremur M6,1 Vrancea, Romania: ce s-a întâmplat',
    );
  });

  it('List-Unsubscribe: one-click https (RFC 8058) when configured, else mailto to the sender', () => {
    expect(unsubscribeHeaders({ from: 'x@y.z', unsubscribeUrl: 'https://q.example/u/{subscriber}' }, 'a b')).toEqual({
      'List-Unsubscribe': '<https://q.example/u/a%20b>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
    expect(unsubscribeHeaders({ from: 'Quake alerts <alerts@q.example>' }, 's1')).toEqual({
      'List-Unsubscribe': '<mailto:alerts@q.example?subject=unsubscribe%20s1>',
    });
  });

  it('the MIME message parses back (postal-mime) to the same subject, text and headers', async () => {
    const n = alert({ locale: 'ro' });
    const raw = await emailMime(n, 'ana@example.org', {
      from: 'Alerte <alerts@quake.test>',
      unsubscribeUrl: 'https://q.example/u/{subscriber}',
    });
    const mail = await PostalMime.parse(raw);
    expect(mail.subject).toBe(emailSubject(n));
    expect(mail.subject?.startsWith('EXERCIȚIU — ACESTA ESTE UN TEST')).toBe(true);
    expect(mail.text).toContain(n.text);
    const header = (k: string) => mail.headers.find((h) => h.key === k)?.value;
    expect(header('list-unsubscribe')).toBe('<https://q.example/u/sub-1>');
    expect(header('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(header('x-quake-notification-id')).toBe(n.id);
  });
});

/**
 * Answers SNS Publish as the AWS Query protocol does: the first `throttles` requests with 400 Throttling, then the
 * PublishResponse; numbers in `invalid` with InvalidParameter.
 */
function snsAnswerer(state: { throttles: number; invalid: string[]; publishes: string[] }): Server {
  return createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const p = new URLSearchParams(body);
      const phone = p.get('PhoneNumber') ?? '';
      const error = (code: string, message: string) => {
        res.writeHead(400, { 'content-type': 'text/xml' });
        res.end(
          `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>${code}</Code>` +
            `<Message>${message}</Message></Error><RequestId>r</RequestId></ErrorResponse>`,
        );
      };
      if (p.get('Action') !== 'Publish') return error('InvalidAction', 'only Publish');
      if (state.throttles > 0) {
        state.throttles--;
        return error('Throttling', 'Rate exceeded');
      }
      if (state.invalid.includes(phone)) return error('InvalidParameter', 'Invalid parameter: PhoneNumber');
      state.publishes.push(`${phone}|${p.get('MessageAttributes.entry.1.Value.StringValue')}|${p.get('Message')}`);
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(
        '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-1</MessageId>' +
          '</PublishResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishResponse>',
      );
    });
  });
}

describe('sms through the Deliverer: throttling waited out, never parked for that alone', () => {
  const state = { throttles: 0, invalid: ['+40721000666'], publishes: [] as string[] };
  const server = snsAnswerer(state);
  let deliverer: Deliverer;
  // The deliverer's SQS client points at a closed port: a test that parked by mistake fails.
  const unusedSqs = new SQSClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const sns = new SNSClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      // As the client factory builds it: transient errors retried by the SDK, throttles handed to the Deliverer,
      // which must wait them out under the shared rate.
      retryStrategy: providerRetryStrategy(RETRY_POLICIES.sdk),
    });
    deliverer = new Deliverer({
      sqs: unusedSqs,
      names: resourceNames('sms'),
      allowPrivateTargets: true,
      senders: { sms: new SmsSender({ sns: () => sns }) },
      targetBudgetMs: 5000,
    });
  });
  afterAll(() => server.close());

  // One subscriber per item: the Deliverer's send journal skips a notification id it has already delivered.
  let next = 0;
  const item = (phone: string): DeliveryItem => ({
    notification: alert({ seconds: 40, subscriber: `sub-${++next}` }),
    channel: { type: 'sms', target: phone },
  });

  it('two Throttling answers, then delivered: counted as throttled, not failed', async () => {
    state.throttles = 2;
    const r = await deliverer.deliver([item('+40721000001')]);
    expect(r).toMatchObject({ failed: [], dlq: 0, throttled: 2 });
    expect(r.delivered).toHaveLength(1);
    const [phone, type, text] = state.publishes.at(-1)!.split('|');
    expect(phone).toBe('+40721000001');
    expect(type).toBe('Transactional');
    expect(text.startsWith('DRILL (TEST): ')).toBe(true);
  });

  it('throttled past the budget: reported failed with the reason (here not parked: park false)', async () => {
    state.throttles = 1000;
    const r = await deliverer.deliver([item('+40721000002')], { park: false });
    state.throttles = 0;
    expect(r.delivered).toEqual([]);
    expect(r.failures?.[0].reason).toMatch(/Throttling.*throttled past the 5000 ms budget/);
    expect(r.throttled).toBeGreaterThan(1);
  });

  it('a refused number is gone: not parked, not retried', async () => {
    const before = state.publishes.length;
    const r = await deliverer.deliver([item('+40721000666')]);
    expect(r).toMatchObject({ delivered: [], dlq: 0 });
    expect(r.gone).toHaveLength(1);
    expect(state.publishes.length).toBe(before);
  });
});
