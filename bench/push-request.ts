/**
 * Cost of building one Web Push request (RFC 8291 aes128gcm encryption + RFC 8292 VAPID Authorization) with the
 * project's PushSender, against the baseline of web-push's own default: a new VAPID JWT signed for every message
 * (`generateRequestDetails` with `vapidDetails`). Rounds alternate between the two so a busy machine slows both alike.
 * Only CPU: no request is sent.
 *
 *   node bench/push-request.ts [messages per round, default 2000] [rounds, default 3]
 */
import { createECDH, randomBytes } from 'node:crypto';
import webpush from 'web-push';
import { buildNotification } from '../shared/notify/index.ts';
import { PushSender, pushPayload, pushTopic } from '../shared/notify/push.ts';

const n = Number(process.argv[2] ?? 2000);
const rounds = Number(process.argv[3] ?? 3);
const keys = webpush.generateVAPIDKeys();
const vapid = { ...keys, subject: 'mailto:bench@quakectl.invalid' };
const ua = createECDH('prime256v1');
ua.generateKeys();
const sub = {
  endpoint: 'https://push.example/push/abc',
  keys: { p256dh: ua.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') },
};
const notification = buildNotification(
  { id: 'ev-bench', drill: true, magnitude: 6.9, place: 'Vrancea, Romania', originTime: Date.now() },
  { id: 'subscriber-1', locale: 'ro' },
  { mmi: 6.4, distanceKm: 120, level: 'take-action', secondsUntilShaking: 24 },
);
const sender = new PushSender({ vapid });

const baseline = () =>
  webpush.generateRequestDetails(sub, pushPayload(notification), {
    vapidDetails: vapid,
    TTL: 120,
    urgency: 'high',
    topic: pushTopic(notification.eventId, notification.subscriberId),
    contentEncoding: 'aes128gcm',
  });
const ours = () => sender.request(sub, notification);

function perMessageMs(fn: () => unknown): number {
  const t = performance.now();
  for (let i = 0; i < n; i++) fn();
  return (performance.now() - t) / n;
}

// Warm-up (JIT, key imports), not counted.
for (let i = 0; i < 200; i++) {
  baseline();
  ours();
}
const results: { round: number; baselineMs: number; cachedMs: number }[] = [];
for (let r = 1; r <= rounds; r++) {
  results.push({ round: r, baselineMs: perMessageMs(baseline), cachedMs: perMessageMs(ours) });
}
const med = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const b = med(results.map((x) => x.baselineMs));
const c = med(results.map((x) => x.cachedMs));
for (const x of results) {
  console.log(
    `round ${x.round}: baseline ${x.baselineMs.toFixed(3)} ms/msg, cached VAPID ${x.cachedMs.toFixed(3)} ms/msg`,
  );
}
console.log(
  `median of ${rounds} rounds × ${n} messages: baseline (JWT per message) ${b.toFixed(3)} ms = ${Math.round(1000 / b)} requests/s per core; ` +
    `cached VAPID token ${c.toFixed(3)} ms = ${Math.round(1000 / c)} requests/s per core (${(b / c).toFixed(2)}×)`,
);
