/**
 * The producer's payload cap: one invocation carries at most MAX_EVENTS_PER_PAYLOAD events (the quakes plus every
 * item of every feed document). Above it the producer answers at once with a refusal that says why, instead of
 * running out of its 30 s timeout part-way (the fault run of issue 11: 14,000 events, 1,950 never sent and no answer).
 *
 * Why 1,000: a payload's cost is one conditional write per distinct event (acceptVersion, 16 at a time) plus one
 * produce; the fault run pushed about 12,000 events through in the producer's 30 s (≈400 events/s on the local stack),
 * so 1,000 events take about 2.5 s, well inside the timeout even on a loaded machine. CLI callers send at most
 * FORWARD_BATCH (200) events per call and split anything larger (`sendInParts`), so they never meet the cap.
 */
import { parseFeed } from '../quake/detect.ts';
import type { Quake } from '../quake/types.ts';
import type { ProducerPayload, ProducerResult } from './types.ts';

export const MAX_EVENTS_PER_PAYLOAD = 1000;

/**
 * Events a payload carries: its quakes and retractions plus each document's items (accepted, rejected or retracted
 * by the parser). Each costs the producer at least one conditional write.
 */
export function payloadEventCount(payload: ProducerPayload): number {
  let n = (Array.isArray(payload.quakes) ? payload.quakes.length : 0) + inputs(payload.retractions);
  for (const doc of payload.documents ?? []) {
    const features = (doc as { features?: unknown })?.features;
    if (Array.isArray(features)) n += features.length;
    else {
      const r = parseFeed(doc);
      n += r.accepted.length + r.rejected.length + (r.retracted?.length ?? 0);
    }
  }
  return n;
}

const inputs = (list: unknown[] | undefined) => (Array.isArray(list) ? list.length : 0);

/** A ProducerResult that refuses the whole payload (every input rejected with `reason`), as the producer answers. */
export type RefusedResult = ProducerResult & { refused: string };

/**
 * The producer handler's first step on a direct invocation: undefined when the payload is within `cap`, else the
 * answer to return at once (nothing is written or produced). Pure.
 */
export function refuseOversizedPayload(
  payload: ProducerPayload,
  cap = MAX_EVENTS_PER_PAYLOAD,
): RefusedResult | undefined {
  const count = payloadEventCount(payload);
  if (count <= cap) return undefined;
  const refused =
    `payload refused: ${count} events, above the producer's cap of ${cap} per invocation; ` +
    'send them in parts (quakectl splits its own sends)';
  const given = inputs(payload.documents) + inputs(payload.quakes) + inputs(payload.retractions);
  return {
    accepted: [],
    rejected: Array.from({ length: given }, (_, index) => ({ index, reason: refused })),
    superseded: 0,
    associated: 0,
    refused,
  };
}

/**
 * Sends `payload` in one call when it is within `cap`, else parses its documents here and sends the events in parts
 * of at most `size`, in order, and sums the answers; retractions (the payload's and those parsed from documents) go
 * with the last part, after the versions, as `inBatches` sends them. Rejection indexes stay positions in the
 * original payload (documents, then quakes, then retractions), as the producer reports them. A failure part-way throws: the caller sends again and the
 * producer drops the parts already produced as superseded.
 */
export async function sendInParts(
  payload: ProducerPayload,
  send: (part: ProducerPayload) => Promise<ProducerResult>,
  opts: { size: number; cap?: number },
): Promise<ProducerResult> {
  if (payloadEventCount(payload) <= (opts.cap ?? MAX_EVENTS_PER_PAYLOAD)) return send(payload);
  const drill = payload.drill === true;
  const total: ProducerResult = { accepted: [], rejected: [], superseded: 0, associated: 0 };
  const events: { quake: Quake | unknown; index: number }[] = [];
  const retractions: { retraction: unknown; index: number }[] = [];
  const docs = payload.documents ?? [];
  docs.forEach((doc, index) => {
    const r = parseFeed(doc, { drill });
    for (const quake of r.accepted) events.push({ quake, index });
    for (const x of r.rejected) total.rejected.push({ index, reason: `item ${x.index}: ${x.reason}` });
    for (const retraction of r.retracted ?? []) retractions.push({ retraction, index });
  });
  (payload.quakes ?? []).forEach((quake, i) => {
    events.push({ quake, index: docs.length + i });
  });
  const base = docs.length + inputs(payload.quakes);
  (payload.retractions ?? []).forEach((retraction, i) => {
    retractions.push({ retraction, index: base + i });
  });
  for (let i = 0; i < Math.max(events.length, 1); i += opts.size) {
    const part = events.slice(i, i + opts.size);
    const last = i + opts.size >= events.length;
    const r = await send({
      quakes: part.map((e) => e.quake),
      ...(last && retractions.length ? { retractions: retractions.map((x) => x.retraction) } : {}),
      ...(drill ? { drill: true } : {}),
    });
    total.accepted.push(...r.accepted);
    // In a part, rejection indexes count its quakes, then its retractions.
    const origin = (k: number) => (k < part.length ? part[k]?.index : retractions[k - part.length]?.index) ?? k;
    total.rejected.push(...r.rejected.map((x) => ({ ...x, index: origin(x.index) })));
    total.superseded += r.superseded;
    total.associated += r.associated;
  }
  total.rejected.sort((a, b) => a.index - b.index);
  return total;
}
