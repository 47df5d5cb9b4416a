/**
 * A loopback webhook receiver for tests and `quakectl drill`: verifies the Standard Webhooks signature
 * (`webhook-id`, `webhook-timestamp`, `webhook-signature`; shared/notify/signature.ts) on the raw body, refuses
 * replays, de-duplicates notifications by id (as a real receiver must, see system.md section 8), and records when each
 * one arrived so drills can compute latencies and the share delivered before the S wave. It sits on the hot path of
 * the fan-out benchmark: one Buffer concat, one HMAC, one JSON.parse per batch, nothing else.
 *
 * Replays: a timestamp more than ±5 minutes from the sink's clock is refused with 401 (no sender of ours signs one:
 * each post is signed when it starts). A `webhook-id` seen before is never processed again; it is answered 200 with
 * `replay: true`, because the spec keeps the id across a legitimate resend (an answer lost to a timeout) and a 4xx
 * there would park a delivered batch in the DLQ. Its notifications count as duplicates, as before.
 *
 * GET /_stats answers the counters (for a sink in another process).
 *
 * Secrets: a string is the secret for every path; a record maps a target (a path like `/hooks/a`, or a full URL whose
 * path is used) to its secret, with `*` as the default. A path with no secret accepts unsigned bodies.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyStandard } from '../shared/notify/signature.ts';
import type { Notification } from '../shared/notify/types.ts';

export interface FailMode {
  /** Status to answer (default 500). */
  status?: number;
  /** Fail only this many requests from now, then succeed again (default: until told otherwise). */
  times?: number;
  /** Hold each failing request this long before answering (to exercise client timeouts). */
  delayMs?: number;
}

export interface WebhookSinkOptions {
  port?: number;
  secrets?: Record<string, string> | string;
  failMode?: boolean | FailMode;
  /** Answer every accepted POST only after this many ms: a slow receiver (it records on arrival). */
  slowMs?: number;
  /**
   * A receiver of bounded throughput: at most this many notifications per second, one batch after another. A batch
   * waits for its turn, is recorded when its share of the capacity is used (`receivedAt`), then answered. Lets a
   * benchmark hold the system to a stated rate (issue 16's back-of-envelope assumes 25,000/s) on any machine.
   */
  capacityPerSecond?: number;
}

export interface Receipt {
  notification: Notification;
  /** Epoch ms when the batch holding it was accepted. */
  receivedAt: number;
  path: string;
  idempotencyKey?: string;
}

export interface WebhookSink {
  url: string;
  port: number;
  /** First delivery of each notification id, in arrival order. */
  received(): Notification[];
  receipts(): Receipt[];
  /** Notifications received again with an id already seen. */
  duplicates(): number;
  badSignatures(): number;
  /** Signed requests refused or not processed as replays: a stale/future timestamp, or a `webhook-id` seen before. */
  replays(): number;
  /** Every POST, failed ones included. */
  requests(): number;
  /** POSTs answered with a failure status on purpose. */
  failedRequests(): number;
  setFailing(mode: boolean | FailMode): void;
  /** See `WebhookSinkOptions.slowMs`; 0 answers at once. */
  setSlow(ms: number): void;
  /** Resolves once `count` distinct notifications have arrived (rejects after timeoutMs). */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  reset(): void;
  close(): Promise<void>;
}

function secretResolver(secrets: WebhookSinkOptions['secrets']): (path: string) => string | undefined {
  if (secrets === undefined) return () => undefined;
  if (typeof secrets === 'string') return () => secrets;
  const byPath = new Map<string, string>();
  for (const [target, secret] of Object.entries(secrets)) {
    if (target === '*') continue;
    const path = /^https?:\/\//i.test(target) ? new URL(target).pathname : target;
    byPath.set(path, secret);
  }
  const fallback = secrets['*'];
  return (path) => byPath.get(path) ?? fallback;
}

export async function startWebhookSink(opts: WebhookSinkOptions = {}): Promise<WebhookSink> {
  const secretFor = secretResolver(opts.secrets);
  const seen = new Map<string, Receipt>();
  let dupes = 0;
  let bad = 0;
  let replays = 0;
  const seenIds = new Set<string>();
  let requests = 0;
  let failedRequests = 0;
  let failing: FailMode | undefined;
  let slowMs = opts.slowMs ?? 0;
  const capacity = opts.capacityPerSecond;
  if (capacity !== undefined && !(capacity > 0)) throw new RangeError(`capacityPerSecond ${capacity}: expected > 0`);
  /** With `capacity`: when the receiver is next free (epoch ms). */
  let nextFree = 0;
  const setFailing = (mode: boolean | FailMode) => {
    failing = mode === true ? {} : mode === false ? undefined : { ...mode };
  };
  setFailing(opts.failMode ?? false);
  const waiters = new Set<{ count: number; resolve: () => void }>();

  const answer = (res: ServerResponse, status: number, body: object) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: Buffer) => {
    if (req.method === 'GET' && req.url === '/_stats') {
      return answer(res, 200, {
        received: seen.size,
        duplicates: dupes,
        badSignatures: bad,
        replays,
        requests,
        failedRequests,
      });
    }
    requests++;
    if (req.method !== 'POST') return answer(res, 405, { error: 'POST only' });
    if (failing) {
      const mode = failing;
      if (mode.times !== undefined && --mode.times <= 0) failing = undefined;
      failedRequests++;
      const status = mode.status ?? 500;
      if (mode.delayMs) setTimeout(() => answer(res, status, { error: 'failing on purpose' }), mode.delayMs);
      else answer(res, status, { error: 'failing on purpose' });
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    const secret = secretFor(path);
    let messageId: string | undefined;
    if (secret !== undefined) {
      const verdict = verifyStandard(raw, req.headers, secret);
      if (!verdict.ok && verdict.reason === 'timestamp outside tolerance') {
        replays++;
        return answer(res, 401, { error: verdict.reason });
      }
      if (!verdict.ok) {
        bad++;
        return answer(res, 401, { error: `bad signature: ${verdict.reason}` });
      }
      messageId = verdict.id;
    }
    let notifications: Notification[];
    try {
      notifications = (JSON.parse(raw.toString('utf8')) as { notifications: Notification[] }).notifications;
      if (!Array.isArray(notifications)) throw new Error('notifications is not an array');
    } catch (err) {
      return answer(res, 400, { error: `bad body: ${(err as Error).message}` });
    }
    if (messageId !== undefined) {
      if (seenIds.has(messageId)) {
        replays++;
        dupes += notifications.length;
        return answer(res, 200, { accepted: 0, replay: true });
      }
      seenIds.add(messageId);
    }
    const idempotencyKey = req.headers['idempotency-key'] as string | undefined;
    if (capacity === undefined) return accept(res, notifications, path, idempotencyKey);
    nextFree = Math.max(Date.now(), nextFree) + (notifications.length * 1000) / capacity;
    setTimeout(() => accept(res, notifications, path, idempotencyKey), Math.max(0, nextFree - Date.now()));
  };

  /** Records a verified batch (first delivery of each id; the rest counted as duplicates) and answers it. */
  const accept = (res: ServerResponse, notifications: Notification[], path: string, idempotencyKey?: string) => {
    const receivedAt = Date.now();
    let fresh = 0;
    for (const n of notifications) {
      if (seen.has(n.id)) {
        dupes++;
      } else {
        seen.set(n.id, { notification: n, receivedAt, path, idempotencyKey });
        fresh++;
      }
    }
    if (fresh > 0) {
      for (const w of waiters) {
        if (seen.size >= w.count) {
          waiters.delete(w);
          w.resolve();
        }
      }
    }
    if (slowMs > 0) setTimeout(() => answer(res, 200, { accepted: notifications.length }), slowMs);
    else answer(res, 200, { accepted: notifications.length });
  };

  const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received: () => [...seen.values()].map((r) => r.notification),
    receipts: () => [...seen.values()],
    duplicates: () => dupes,
    badSignatures: () => bad,
    replays: () => replays,
    requests: () => requests,
    failedRequests: () => failedRequests,
    setFailing,
    setSlow(ms) {
      slowMs = ms;
    },
    waitFor(count, timeoutMs = 30_000) {
      if (seen.size >= count) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const w = {
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`webhook sink: ${seen.size} of ${count} notifications after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(w);
      });
    },
    reset() {
      seen.clear();
      dupes = 0;
      bad = 0;
      replays = 0;
      seenIds.clear();
      requests = 0;
      failedRequests = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Standalone, for benchmarks that want the receiver on its own core:
 * `node local/webhook-sink.ts [--port 18080] [--secret s]`; prints its URL, serves counters at GET /_stats.
 */
if (import.meta.main) {
  const { values } = (await import('node:util')).parseArgs({
    options: { port: { type: 'string' }, secret: { type: 'string' } },
  });
  const sink = await startWebhookSink({ port: values.port ? Number(values.port) : undefined, secrets: values.secret });
  process.stdout.write(`${JSON.stringify({ url: sink.url, stats: `${sink.url}/_stats` })}\n`);
  const stop = () => void sink.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
