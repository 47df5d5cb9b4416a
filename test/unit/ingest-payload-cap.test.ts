/**
 * The producer's payload cap (shared/ingest/payload-cap.ts): refused above the cap with a reason, answered per input;
 * the CLI's sends split a large feed document into calls that stay under it. Feed: the USGS week fixture
 * (test/fixtures/quake/README.md), repeated with fresh ids to make a document larger than the cap.
 */
import { describe, expect, it } from 'vitest';
import { FORWARD_BATCH } from '../../shared/ingest/forward.ts';
import {
  MAX_EVENTS_PER_PAYLOAD,
  payloadEventCount,
  refuseOversizedPayload,
  sendInParts,
} from '../../shared/ingest/payload-cap.ts';
import type { ProducerPayload, ProducerResult } from '../../shared/ingest/types.ts';
import { parseFeed } from '../../shared/quake/detect.ts';
import { quakeFixture } from '../fixtures/ingest/servers.ts';

const week = JSON.parse(quakeFixture('usgs-all_week-2023-04-07-cut.geojson')) as {
  features: { id: string; properties: Record<string, unknown> }[];
};

/** The week's features copied `times` times, each copy with its own ids (so nothing is a duplicate). */
function bigDocument(times: number) {
  const features = Array.from({ length: times }, (_, k) =>
    week.features.map((f) => ({ ...f, id: `${f.id}x${k}`, properties: { ...f.properties, ids: `,${f.id}x${k},` } })),
  ).flat();
  return { ...week, features };
}

describe('refuseOversizedPayload', () => {
  it('lets a payload up to the cap through', () => {
    const quakes = parseFeed(week).accepted;
    expect(refuseOversizedPayload({ quakes })).toBeUndefined();
    expect(refuseOversizedPayload({ quakes: Array(MAX_EVENTS_PER_PAYLOAD).fill({}) })).toBeUndefined();
  });

  it('refuses one event more, rejecting every input with the count and the cap in the reason', () => {
    const r = refuseOversizedPayload({ quakes: Array(MAX_EVENTS_PER_PAYLOAD + 1).fill({}) });
    expect(r?.refused).toBe(
      `payload refused: ${MAX_EVENTS_PER_PAYLOAD + 1} events, above the producer's cap of ${MAX_EVENTS_PER_PAYLOAD} per invocation; send them in parts (quakectl splits its own sends)`,
    );
    expect(r?.accepted).toEqual([]);
    expect(r?.rejected).toHaveLength(MAX_EVENTS_PER_PAYLOAD + 1);
    expect(r?.rejected.every((x) => x.reason === r.refused)).toBe(true);
  });

  it('counts the items of feed documents, JSON or text', () => {
    const doc = bigDocument(4);
    expect(payloadEventCount({ documents: [doc] })).toBe(4 * week.features.length);
    expect(payloadEventCount({ documents: [JSON.stringify(doc)], quakes: [{}, {}] })).toBe(
      4 * week.features.length + 2,
    );
    expect(refuseOversizedPayload({ documents: [doc] })?.rejected).toEqual([{ index: 0, reason: expect.any(String) }]);
  });

  it('the CLI batch size stays under the cap', () => {
    expect(FORWARD_BATCH).toBeLessThanOrEqual(MAX_EVENTS_PER_PAYLOAD);
  });
});

describe('sendInParts', () => {
  const producerLike =
    (calls: ProducerPayload[]) =>
    async (p: ProducerPayload): Promise<ProducerResult> => {
      calls.push(p);
      // The cap is enforced as the producer would; the second quake of each part is rejected.
      const refused = refuseOversizedPayload(p);
      if (refused) return refused;
      const n = p.quakes?.length ?? payloadEventCount(p);
      return {
        accepted: Array.from({ length: n }, (_, i) => `id${i}`).filter((_, i) => i !== 1),
        rejected: n > 1 ? [{ index: 1, reason: 'test' }] : [],
        superseded: 0,
        associated: 0,
      };
    };

  it('sends a document above the cap as parts of at most `size` quakes, summing the answers', async () => {
    const calls: ProducerPayload[] = [];
    const doc = bigDocument(5); // 1,415 events
    const r = await sendInParts({ documents: [doc], drill: true }, producerLike(calls), { size: FORWARD_BATCH });
    const total = 5 * week.features.length;
    expect(calls.map((c) => c.quakes?.length)).toEqual([
      ...Array(Math.floor(total / FORWARD_BATCH)).fill(FORWARD_BATCH),
      total % FORWARD_BATCH,
    ]);
    expect(calls.every((c) => c.drill === true && c.documents === undefined)).toBe(true);
    expect(calls.flatMap((c) => c.quakes as { drill: boolean }[]).every((q) => q.drill)).toBe(true);
    expect(r.accepted).toHaveLength(total - calls.length);
    // Every rejection is reported against the document it came from.
    expect(r.rejected).toHaveLength(calls.length);
    expect(r.rejected.every((x) => x.index === 0)).toBe(true);
  });

  it('sends the retractions once, with the last part, after every version; they count towards the cap', async () => {
    const calls: ProducerPayload[] = [];
    const quakes = parseFeed(bigDocument(4)).accepted; // 1,132 quakes
    const retractions = [{ id: 'us7000gone', source: 'us', reason: 'deleted' }];
    expect(payloadEventCount({ quakes, retractions })).toBe(quakes.length + 1);
    await sendInParts({ quakes, retractions }, producerLike(calls), { size: FORWARD_BATCH });
    expect(calls.map((c) => c.retractions)).toEqual([...Array(calls.length - 1).fill(undefined), retractions]);
    expect(calls.flatMap((c) => c.quakes)).toEqual(quakes);
  });

  it('a payload within the cap is one call, unchanged', async () => {
    const calls: ProducerPayload[] = [];
    const payload = { documents: [week] };
    await sendInParts(payload, producerLike(calls), { size: FORWARD_BATCH });
    expect(calls).toEqual([payload]);
  });
});
