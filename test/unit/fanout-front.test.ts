/**
 * The near-field front's pure parts (shared/fanout/plan.ts): which units form it, how work items number pieces and
 * units, and what a piece's cursor says was delivered (the worker resumes from it, the ledger reads it).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareFrontKeys,
  type FrontCursor,
  type FrontWindow,
  frontCursorCovers,
  frontOf,
  frontOrderKey,
  frontPieceKey,
  frontPieceOf,
  frontPieceSegments,
  workCount,
  workKey,
  workKeys,
  workUnit,
} from '../../shared/fanout/plan.ts';
import { destination } from '../../shared/seismo/geodesy.ts';

const quake = { lat: 40.8, lon: 28.75, depthKm: 12, originTime: 1_800_000_000_000 };

describe('front of a plan', () => {
  const ordered = [
    { sNearS: 1, tier: 0 as const },
    { sNearS: 2, tier: 0 as const },
    { sNearS: 3, tier: 0 as const },
    { sNearS: 4, tier: 0 as const },
    { sNearS: 5, tier: 1 as const },
    { sNearS: 20, tier: 2 as const },
  ];
  const units = [0, 1, 2, 3, 4, 5];

  it('takes the leading warnable urgent units before the limit, one piece per chain', () => {
    expect(frontOf(ordered, units, { untilS: 3.5, chains: 2, lateBefore: 7 })).toEqual({
      units: 3,
      pieces: 2,
      lateBefore: 7,
    });
    // Tier 1 (wholly in the blind zone) stops the front even before the limit.
    expect(frontOf(ordered, units, { untilS: 100, chains: 8, lateBefore: 0 })?.units).toBe(4);
    expect(frontOf(ordered, units, { untilS: 100, chains: 8, lateBefore: 0 })?.pieces).toBe(4);
  });

  it('none with one chain, or fewer than two front units', () => {
    expect(frontOf(ordered, units, { untilS: 100, chains: 1, lateBefore: 0 })).toBeUndefined();
    expect(frontOf(ordered, units, { untilS: 1.5, chains: 4, lateBefore: 0 })).toBeUndefined();
    expect(frontOf(ordered, units, { untilS: Number.NEGATIVE_INFINITY, chains: 4, lateBefore: 0 })).toBeUndefined();
  });

  it('work items: the pieces, then every unit after the front; each unit belongs to one piece', () => {
    const segments = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const plan = { units: [0, 2, 3, 4, 5, 6], front: { units: 4, pieces: 2, lateBefore: 0 } };
    expect(workCount(plan)).toBe(2 + 6 - 4);
    expect([0, 1, 2, 3].map((k) => workUnit(plan, k))).toEqual([undefined, undefined, 4, 5]);
    expect(workKeys(segments, plan)).toEqual([frontPieceKey(0, 2), frontPieceKey(1, 2), 'f', 'g']);
    expect(workKey(segments, plan, 0)).toBe('front#0/2');
    // Piece 0: units 0 and 2 (segments a, b, d); piece 1: units 1 and 3 (c, e).
    expect(frontPieceSegments(plan, segments.length, 0)).toEqual([0, 1, 3]);
    expect(frontPieceSegments(plan, segments.length, 1)).toEqual([2, 4]);
    expect([0, 1, 2, 3, 4].map((u) => frontPieceOf(plan, u))).toEqual([0, 1, 0, 1, undefined]);
    // Without a front, work items are the units.
    expect(workCount({ units: [0, 2] })).toBe(2);
    expect(workKeys(['a', 'b', 'c'], { units: [0, 2] })).toEqual(['a+1', 'c']);
  });
});

describe('front order key and cursor', () => {
  const site = (km: number, bearing: number, id: string) => {
    const [lat, lon] = destination(quake.lat, quake.lon, bearing, km);
    return { id, lat, lon };
  };

  it('orders by S arrival, those before lateBefore last, ties by id', () => {
    const near = site(10, 0, 'b');
    const far = site(30, 90, 'a');
    const late = frontOrderKey(quake, { lateBefore: quake.originTime + 5000 }, near);
    const early = frontOrderKey(quake, { lateBefore: quake.originTime + 5000 }, far);
    expect(late.late).toBe(1);
    expect(early.late).toBe(0);
    expect(compareFrontKeys(early, late)).toBeLessThan(0);
    const none = { lateBefore: 0 };
    expect(compareFrontKeys(frontOrderKey(quake, none, near), frontOrderKey(quake, none, far))).toBeLessThan(0);
    const twin = frontOrderKey(quake, none, { ...near, id: 'c' });
    expect(compareFrontKeys(frontOrderKey(quake, none, near), twin)).toBeLessThan(0);
  });

  it('covers exactly what the worker delivered before the cursor (property)', () => {
    // A piece of 4 shards in 2 windows (3 with a prefix window); the worker's order: each window's on-time in key
    // order, window after window, then every deferred one in key order. A cursor after k deliveries covers exactly
    // the first k.
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.double({ min: 1, max: 60, noNaN: true }), fc.nat(359)), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.option(fc.constantFrom('s0', 's1', 's15', 's3', 's9'), { nil: undefined }),
        (raw, cut, throughId) => {
          // With a prefix: window 0 is shard 0's subscribers with ids up to `throughId` in key order (a chain's
          // first page), and the range window [0, 2) holds the rest of shard 0 and shard 1.
          const ranges: FrontWindow[] = [
            [0, 2, quake.originTime + 6000],
            [2, 4, quake.originTime + 9000],
          ];
          const windows: FrontWindow[] =
            throughId === undefined ? ranges : [[0, 0, quake.originTime + 5000, throughId], ...ranges];
          const subs = raw.map(([shard, km, bearing], i) => ({ shard, ...site(km, bearing, `s${i}`) }));
          const keyed = subs.map((s) => {
            // Membership computed here, not by frontWindowOf: the prefix by byte order of ids, else the shard's range.
            const prefixed =
              throughId !== undefined &&
              s.shard === 0 &&
              Buffer.compare(Buffer.from(s.id), Buffer.from(throughId)) <= 0;
            const r = ranges.findIndex(([a, b]) => s.shard >= a && s.shard < b);
            const w = prefixed ? 0 : r + (throughId === undefined ? 0 : 1);
            return { s, w, key: frontOrderKey(quake, { lateBefore: windows[w][2] }, s) };
          });
          const byKey = (a: (typeof keyed)[0], b: (typeof keyed)[0]) => compareFrontKeys(a.key, b.key);
          const sequence = windows.flatMap((_, w) => keyed.filter((e) => e.w === w && !e.key.late).sort(byKey));
          const pass1 = sequence.length;
          sequence.push(...keyed.filter((e) => e.key.late).sort(byKey));
          const k = Math.max(1, Math.ceil(cut * sequence.length));
          const lastOne = sequence[k - 1];
          const cursor: FrontCursor =
            k <= pass1
              ? { pass: 1, windows: windows.slice(0, lastOne.w + 1), key: lastOne.key }
              : { pass: 2, windows, key: lastOne.key };
          const delivered = new Set(sequence.slice(0, k).map((e) => e.s.id));
          for (const e of keyed) {
            expect(frontCursorCovers(cursor, quake, e.s.shard, e.s)).toBe(delivered.has(e.s.id));
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
