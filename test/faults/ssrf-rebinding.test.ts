/**
 * SSRF by DNS rebinding, against a real HTTP server on loopback (the webhook sink) and a resolver the test controls:
 * the name answers a public address to the first question (what a check-then-fetch guard would have judged) and
 * loopback to the next ones (what the connection would then have used). The verdict must be taken on the answer the
 * connection uses: nothing may reach the server. The public answer is never connected to (the test machine may only
 * reach 127.0.0.0/8): each case is arranged so that the connection asks after the flip.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookSink, type WebhookSink } from '../../local/webhook-sink.ts';
import { resourceNames } from '../../shared/infra/names.ts';
import { buildNotification, Deliverer, type Lookup, postBatch, TargetGuard } from '../../shared/notify/index.ts';
import { localClients } from '../helpers/stack.ts';

const PUBLIC = '93.184.216.34';
const post = { timeoutMs: 2000, maxAttempts: 3, backoffBaseMs: 1, backoffMaxMs: 5 };
const notification = buildNotification(
  { id: 'ev-rebind', drill: true, magnitude: 6, place: 'Vrancea', originTime: Date.now() },
  { id: 's1', locale: 'en' },
  { mmi: 5, distanceKm: 40, level: 'take-action', secondsUntilShaking: 9 },
);

/** A rebinding DNS server in one function: `answers[i]` for the i-th question, the last one from then on. */
function rebinding(...answers: string[][]): Lookup & { questions: string[] } {
  const questions: string[] = [];
  const f = async (host: string) => {
    questions.push(host);
    return answers[Math.min(questions.length - 1, answers.length - 1)];
  };
  return Object.assign(f, { questions });
}

let sink: WebhookSink;
let target: (path: string) => string;
beforeAll(async () => {
  sink = await startWebhookSink();
  target = (path) => `http://rebind.test:${sink.port}${path}`;
});
afterEach(() => sink.reset());
afterAll(() => sink.close());

describe('DNS rebinding', () => {
  it('a name judged public earlier is refused when it answers loopback to the connection itself', async () => {
    const dns = rebinding([PUBLIC], ['127.0.0.1']);
    // What the old guard did: resolve once for the verdict (public: allowed)…
    expect(await dns('rebind.test')).toEqual([PUBLIC]);
    // …then the connection resolves again and must judge that answer, not reuse the first.
    const guard = new TargetGuard({ allowPrivate: false, lookup: dns });
    expect(await guard.check(target('/a'))).toEqual({ ok: true });
    const r = await postBatch(target('/a'), [notification], undefined, { ...post, guard });
    await guard.close();
    expect(r).toMatchObject({ ok: false, attempts: 1 });
    expect(r.ok === false && r.reason).toBe('target refused: rebind.test → 127.0.0.1 is loopback');
    expect(dns.questions).toEqual(['rebind.test', 'rebind.test']);
    expect(sink.requests()).toBe(0);
  });

  it.each([
    ['IPv4-mapped', '::ffff:127.0.0.1'],
    ['IPv4-translated', '::ffff:0:7f00:1'],
    ['NAT64', '64:ff9b::7f00:1'],
    ['6to4', '2002:7f00:1::1'],
    ['an answer mixing public and loopback', PUBLIC, '127.0.0.1'],
  ])('a name answering %s is refused before any connection', async (_form, ...answer) => {
    const guard = new TargetGuard({ allowPrivate: false, lookup: rebinding(answer) });
    const r = await postBatch(target('/b'), [notification], undefined, { ...post, guard });
    await guard.close();
    expect(r.ok).toBe(false);
    expect(r.ok === false && r.reason).toMatch(/^target refused: rebind\.test → /);
    expect(r.attempts).toBe(1);
    expect(sink.requests()).toBe(0);
  });

  it('every new connection asks again: no verdict outlives the connection it was taken for', async () => {
    const dns = rebinding(['127.0.0.1']);
    const guard = new TargetGuard({ allowPrivate: false, lookup: dns });
    for (let i = 0; i < 3; i++) {
      const r = await postBatch(target(`/c${i}`), [notification], undefined, { ...post, guard });
      expect(r.ok).toBe(false);
    }
    await guard.close();
    expect(dns.questions).toHaveLength(3);
    expect(sink.requests()).toBe(0);
  });

  it('an IP-literal target that skips the pre-check is caught on the connected socket', async () => {
    // Node calls no lookup for an IP literal; the connector checks the socket's remote address before sending.
    const guard = new TargetGuard({ allowPrivate: false });
    const r = await postBatch(`${sink.url}/d`, [notification], undefined, { ...post, guard });
    await guard.close();
    expect(r.ok === false && r.reason).toBe('target refused: 127.0.0.1 → 127.0.0.1 is loopback');
    expect(sink.requests()).toBe(0);
  });

  it('the Deliverer parks a rebinding target in the delivery DLQ with the reason, sending nothing', async () => {
    const clients = localClients();
    const names = resourceNames(`rb${Date.now().toString(36)}`);
    const { CreateQueueCommand, DeleteQueueCommand, ReceiveMessageCommand } = await import('@aws-sdk/client-sqs');
    const q = await clients.sqs.send(new CreateQueueCommand({ QueueName: names.dlq('delivery') }));
    try {
      const dns = rebinding([PUBLIC], ['127.0.0.1']);
      await dns('rebind.test');
      const d = new Deliverer({ sqs: clients.sqs, names, allowPrivateTargets: false, lookup: dns, ...post });
      const r = await d.deliver([{ notification, channel: { type: 'webhook', target: target('/e') } }]);
      await d.guard.close();
      expect(r).toMatchObject({ delivered: [], failed: [notification.id], dlq: 1 });
      const m = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: q.QueueUrl, WaitTimeSeconds: 2 }));
      expect(JSON.parse(m.Messages?.[0]?.Body ?? '{}')).toMatchObject({
        kind: 'delivery',
        reason: 'target refused: rebind.test → 127.0.0.1 is loopback',
        attempts: 1,
      });
      expect(sink.requests()).toBe(0);
    } finally {
      await clients.sqs.send(new DeleteQueueCommand({ QueueUrl: q.QueueUrl }));
      clients.destroy();
    }
  });
});
