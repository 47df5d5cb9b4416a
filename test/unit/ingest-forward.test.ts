/** Batching of producer calls and what `quakectl ingest` reports per event, from producer results. */
import { describe, expect, it } from 'vitest';
import { inBatches } from '../../shared/ingest/forward.ts';
import { describeOutcomes } from '../../shared/ingest/run.ts';
import type { ProducerResult } from '../../shared/ingest/types.ts';
import { parseFeed } from '../../shared/quake/detect.ts';
import type { Quake } from '../../shared/quake/types.ts';
import { quakeFixture } from '../fixtures/ingest/servers.ts';

const quakes = parseFeed(quakeFixture('usgs-all_week-2023-04-07-cut.geojson')).accepted;

describe('inBatches', () => {
  it('calls the producer with at most `size` events, in order, and sums the results', async () => {
    const calls: Quake[][] = [];
    const forward = inBatches(async (batch) => {
      calls.push(batch);
      // The producer rejects the second event of each call and supersedes the third.
      return {
        accepted: batch.filter((_, i) => i !== 1 && i !== 2).map((q) => q.id),
        rejected: batch.length > 1 ? [{ index: 1, reason: 'test reason' }] : [],
        superseded: batch.length > 2 ? 1 : 0,
        associated: 0,
      } satisfies ProducerResult;
    }, 50);
    const r = await forward(quakes);
    expect(calls.map((c) => c.length)).toEqual([
      ...Array(Math.floor(quakes.length / 50)).fill(50),
      ...(quakes.length % 50 ? [quakes.length % 50] : []),
    ]);
    expect(calls.flat()).toEqual(quakes);
    expect(r.rejected.map((x) => x.index)).toEqual(calls.map((_, i) => i * 50 + 1).filter((i) => i < quakes.length));
    expect(r.rejected.every((x) => quakes[x.index] === calls[Math.floor(x.index / 50)][1])).toBe(true);
    expect(r.accepted.length + r.rejected.length + r.superseded).toBe(quakes.length);
  });

  it('a small batch is one call', async () => {
    let n = 0;
    await inBatches(async () => {
      n++;
      return { accepted: [], rejected: [], superseded: 0, associated: 0 };
    })(quakes.slice(0, 3));
    expect(n).toBe(1);
  });
});

describe('describeOutcomes', () => {
  it('marks each event accepted, rejected (with reason) or dropped', () => {
    const batch = quakes.slice(0, 3);
    const out = describeOutcomes(
      batch,
      { accepted: [batch[0].id], rejected: [{ index: 1, reason: 'magnitude: bad' }], superseded: 1, associated: 0 },
      'usgs',
      Date.parse('2026-01-01T00:00:00Z'),
    );
    expect(out.map((e) => [e.id, e.outcome, e.reason])).toEqual([
      [batch[0].id, 'accepted', undefined],
      [batch[1].id, 'rejected', 'magnitude: bad'],
      [batch[2].id, 'dropped', undefined],
    ]);
    expect(out[0]).toMatchObject({ via: 'usgs', forwardedAt: '2026-01-01T00:00:00.000Z', canonicalId: batch[0].id });
  });

  it('one event produced under another id was merged into that event', () => {
    const [q] = quakes;
    const [e] = describeOutcomes(
      [q],
      { accepted: ['us-other'], rejected: [], superseded: 0, associated: 1 },
      'emsc',
      0,
    );
    expect(e).toMatchObject({ outcome: 'accepted', canonicalId: 'us-other' });
  });
});
