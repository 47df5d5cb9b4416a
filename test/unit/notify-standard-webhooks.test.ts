/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com), checked with the spec's own reference library
 * (`standardwebhooks` on npm), not only with ours, and the loopback sink's replay refusal.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookSink, type WebhookSink } from '../../local/webhook-sink.ts';
import {
  encodeBatch,
  postBatch,
  secretProblem,
  signStandard,
  standardHeaders,
  TargetGuard,
  verifySignature,
  verifyStandard,
} from '../../shared/notify/index.ts';

const ns = [{ id: 'ev1:a:be-aware' }, { id: 'ev1:b:be-aware' }] as never[];
const whsec = () => `whsec_${randomBytes(32).toString('base64')}`;
const guard = new TargetGuard({ allowPrivate: true });
const post = { timeoutMs: 2000, maxAttempts: 1, backoffBaseMs: 10, backoffMaxMs: 10, guard };

describe('Standard Webhooks signature', () => {
  it('matches the test vector of the reference libraries', () => {
    const sig = signStandard(
      'msg_p5jXN8AQM9LWM0D4loKWxJek',
      1614265330,
      '{"test": 2432232314}',
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    );
    expect(sig).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('encodeBatch headers verify with the standardwebhooks library (whsec_ secret)', () => {
    const secret = whsec();
    const { body, headers } = encodeBatch(ns, secret);
    expect(headers['webhook-id']).toBe(headers['idempotency-key']);
    expect(headers['webhook-timestamp']).toMatch(/^\d{10}$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual({ notifications: ns });
    expect(() => new Webhook(whsec()).verify(body, headers)).toThrow(/No matching signature/);
    expect(() => new Webhook(secret).verify(`${body} `, headers)).toThrow(/No matching signature/);
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'other' })).toThrow();
  });

  it('a plain (pre-spec) secret keys the HMAC with its UTF-8 bytes; the legacy header stays for one minor version', () => {
    const plain = 'drill-secret-ă';
    const { body, headers } = encodeBatch(ns, plain);
    const asWhsec = `whsec_${Buffer.from(plain, 'utf8').toString('base64')}`;
    expect(new Webhook(asWhsec).verify(body, headers)).toEqual({ notifications: ns });
    expect(verifySignature(body, headers['x-quake-signature'], plain)).toBe(true);
    expect(encodeBatch(ns, undefined).headers).not.toHaveProperty('webhook-signature');
  });

  it('the library refuses a timestamp outside ±5 minutes, and so do we', () => {
    const secret = whsec();
    const body = JSON.stringify({ notifications: ns });
    const now = Date.now();
    for (const skewS of [-301, 301]) {
      const headers = standardHeaders('msg_1', body, secret, now + skewS * 1000);
      expect(() => new Webhook(secret).verify(body, headers)).toThrow(/timestamp too (old|new)/);
      expect(verifyStandard(body, headers, secret, now)).toEqual({ ok: false, reason: 'timestamp outside tolerance' });
    }
    const fresh = standardHeaders('msg_1', body, secret, now - 299_000);
    expect(verifyStandard(body, fresh, secret, now)).toMatchObject({ ok: true, id: 'msg_1' });
    expect(() => new Webhook(secret).verify(body, fresh)).not.toThrow();
  });

  it('our verifier accepts the library-signed headers and a rotation list holding one good entry', () => {
    const secret = whsec();
    const body = '{"notifications":[]}';
    const wh = new Webhook(secret);
    const at = new Date();
    const sig = wh.sign('msg_x', at, body);
    const ts = String(Math.floor(at.getTime() / 1000));
    const headers = { 'webhook-id': 'msg_x', 'webhook-timestamp': ts, 'webhook-signature': `v1,AAAA ${sig}` };
    expect(verifyStandard(body, headers, secret)).toMatchObject({ ok: true });
    expect(verifyStandard(body, { ...headers, 'webhook-signature': 'v1,AAAA' }, secret)).toMatchObject({ ok: false });
    expect(verifyStandard(body, { ...headers, 'webhook-timestamp': '12e3' }, secret)).toMatchObject({
      ok: false,
      reason: 'bad timestamp',
    });
  });

  it('whsec_ secrets must be base64 of 24 to 64 bytes; plain secrets pass', () => {
    expect(secretProblem(whsec())).toBeUndefined();
    expect(secretProblem('plain')).toBeUndefined();
    expect(secretProblem(`whsec_${randomBytes(16).toString('base64')}`)).toMatch(/24 to 64 bytes/);
    expect(secretProblem('whsec_not base64!')).toMatch(/base64/);
  });
});

describe('a receiver built on the standardwebhooks library', () => {
  const secret = whsec();
  let url: string;
  const verdicts: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        new Webhook(secret).verify(Buffer.concat(chunks), req.headers as IncomingHttpHeaders as Record<string, string>);
        verdicts.push('ok');
        res.writeHead(204).end();
      } catch (err) {
        verdicts.push((err as Error).message);
        res.writeHead(401).end();
      }
    });
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('accepts what postBatch sends and refuses it under another key', async () => {
    expect(await postBatch(url, ns, secret, post)).toMatchObject({ ok: true });
    expect(await postBatch(url, ns, whsec(), post)).toMatchObject({ ok: false, reason: 'HTTP 401' });
    expect(verdicts).toEqual(['ok', 'No matching signature found']);
  });
});

describe('the loopback sink refuses replays', () => {
  const secret = 'sink-secret';
  let sink: WebhookSink;
  beforeAll(async () => {
    sink = await startWebhookSink({ secrets: secret });
  });
  afterAll(() => sink.close());

  const send = (headers: Record<string, string>, body: string) =>
    fetch(`${sink.url}/h`, { method: 'POST', headers, body }).then(async (r) => ({
      status: r.status,
      body: (await r.json()) as Record<string, unknown>,
    }));

  it('processes a message once, answers its replay 200 without processing it, refuses stale and bad ones', async () => {
    const captured = encodeBatch(ns, secret);
    expect(await send(captured.headers, captured.body)).toMatchObject({ status: 200, body: { accepted: 2 } });
    expect(await send(captured.headers, captured.body)).toMatchObject({ status: 200, body: { replay: true } });
    // The same message re-signed now still carries its id: a replay with a fresh timestamp is caught by the id.
    const resigned = encodeBatch(ns, secret);
    expect(await send(resigned.headers, resigned.body)).toMatchObject({ body: { replay: true } });
    expect(sink.received()).toHaveLength(2);
    expect(sink.replays()).toBe(2);
    expect(sink.duplicates()).toBe(4);

    const other = [{ id: 'ev1:c:be-aware' }] as never[];
    const stale = encodeBatch(other, secret, Date.now() - 6 * 60_000);
    expect(await send(stale.headers, stale.body)).toMatchObject({ status: 401 });
    expect(sink.replays()).toBe(3);
    const legacyOnly = encodeBatch(other, secret);
    const { 'webhook-signature': _dropped, ...noStandard } = legacyOnly.headers;
    expect(await send(noStandard, legacyOnly.body)).toMatchObject({ status: 401 });
    const forged = { ...legacyOnly.headers, 'webhook-id': 'another-id' };
    expect(await send(forged, legacyOnly.body)).toMatchObject({ status: 401 });
    expect(sink.badSignatures()).toBe(2);
    expect(sink.received()).toHaveLength(2);
  });
});
