import fc from 'fast-check';
import { cellToLatLng } from 'h3-js';
import { describe, expect, it } from 'vitest';
import {
  groupUnits,
  levelMayRise,
  orderNearestFirst,
  parseScanSegmentKey,
  planFanout,
  scanSegmentKey,
  unitKey,
  unitSegments,
  unitSize,
} from '../../shared/fanout/index.ts';
import {
  type ArrivalSegment,
  DEFAULT_EXPECTED_RATE,
  deferUnreachable,
  groupByArrival,
  orderByArrival,
} from '../../shared/fanout/plan.ts';
import { fanoutSchema } from '../../shared/infra/config.ts';
import { areaCellFor } from '../../shared/segments/cells.ts';
import { cellFor, cellMinDistanceKm, coveringCells, type SegmentRef, segmentKey } from '../../shared/segments/index.ts';
import { needsLayout } from '../../shared/segments/store.ts';
import { bearingDeg, destination, haversineKm } from '../../shared/seismo/geodesy.ts';
import { footprintRadiusKm } from '../../shared/seismo/index.ts';
import { travelTimeCurve } from '../../shared/seismo/travel.ts';
import { drillQuake, EPICENTRE } from '../integration/pipeline-fixtures.ts';

function refsAt(points: [number, number][], shards = 1): SegmentRef[] {
  const cells = [...new Set(points.map(([lat, lon]) => cellFor(lat, lon)))];
  return cells.flatMap((cell) =>
    Array.from({ length: shards }, (_, shard) => ({ cell, shard, count: 10, key: segmentKey(cell, shard) })),
  );
}

describe('planFanout', () => {
  it('covers the footprint for the lowest threshold with existing shards only, nearest first', async () => {
    const quake = drillQuake('plan-1');
    const radius = footprintRadiusKm(quake, 3);
    const inside: [number, number][] = [10, 40, 80, radius * 0.95].map((d, i) =>
      destination(EPICENTRE.lat, EPICENTRE.lon, i * 90, d),
    );
    const outside = destination(EPICENTRE.lat, EPICENTRE.lon, 45, radius + 60);
    const known = refsAt([...inside, outside], 2);
    let asked: readonly string[] = [];
    const plan = await planFanout(quake, {
      minSubscriberMmi: 3,
      coveringCells,
      segmentsForCells: async (cells) => {
        asked = cells;
        const set = new Set(cells);
        return known.filter((r) => set.has(r.cell)).reverse();
      },
    });
    expect(plan.radiusKm).toBe(radius);
    expect(asked.length).toBe(plan.cells);
    expect(plan.segments).toHaveLength(8);
    expect(plan.segments).not.toContain(segmentKey(cellFor(outside[0], outside[1]), 0));
    // Shards of one cell stay together, cells in increasing distance from the epicentre.
    expect(plan.segments.slice(0, 2)).toEqual([
      `${cellFor(inside[0][0], inside[0][1])}#0`,
      `${cellFor(inside[0][0], inside[0][1])}#1`,
    ]);
    for (let i = 1; i < plan.distancesKm.length; i++)
      expect(plan.distancesKm[i]).toBeGreaterThanOrEqual(plan.distancesKm[i - 1]);
    expect(plan.subscribers).toBe(80);
  });

  it('a large footprint planned from the whole segments table selects the same segments as the covering cells', async () => {
    const quake = drillQuake('plan-big');
    const radius = footprintRadiusKm(quake, 3);
    // Points along rays out to twice the radius: some cells inside, some outside, some near the edge.
    const points: [number, number][] = [];
    for (let a = 0; a < 360; a += 15) {
      for (const f of [0, 0.2, 0.5, 0.8, 0.97, 1.0, 1.03, 1.5, 2])
        points.push(destination(EPICENTRE.lat, EPICENTRE.lon, a, radius * f));
    }
    const known = refsAt(points, 2);
    const byCells = await planFanout(quake, {
      coveringCells,
      segmentsForCells: async (cells) => {
        const set = new Set(cells);
        return known.filter((r) => set.has(r.cell));
      },
    });
    let walked = false;
    const byTable = await planFanout(quake, {
      coveringCells: (lat, lon, r) => {
        walked = true;
        return coveringCells(lat, lon, r);
      },
      segmentsForCells: async () => [],
      allSegments: async () => [...known, { cell: known[0].cell, shard: 9, count: 0, key: `${known[0].cell}#9` }],
    });
    expect(Math.PI * radius ** 2).toBeGreaterThan(100 * 253);
    expect(walked).toBe(false);
    expect(byTable.segments).toEqual(byCells.segments);
    expect(byTable.distancesKm).toEqual(byCells.distancesKm);
    expect(byTable.units).toEqual(byCells.units);
    expect(byTable.segments.length).toBeGreaterThan(10);
    expect(byTable.segments.length).toBeLessThan(known.length);
  });

  it('a higher lowest threshold shrinks the footprint; an event too small to reach it plans nothing', async () => {
    const quake = drillQuake('plan-2');
    const lookup = { coveringCells, segmentsForCells: async () => [] };
    const p3 = await planFanout(quake, { ...lookup, minSubscriberMmi: 3 });
    const p5 = await planFanout(quake, { ...lookup, minSubscriberMmi: 5 });
    expect(p5.radiusKm).toBeLessThan(p3.radiusKm);
    expect(p5.cells).toBeLessThan(p3.cells);
    const tiny = await planFanout(drillQuake('plan-3', { magnitude: 1 }), { ...lookup, minSubscriberMmi: 6 });
    expect(tiny).toMatchObject({ radiusKm: 0, cells: 0, segments: [] });
  });

  it('the scan baseline plans TotalSegments parallel scan segments', async () => {
    const plan = await planFanout(drillQuake('plan-4'), {
      strategy: 'scan',
      scanSegments: 5,
      coveringCells,
      segmentsForCells: async () => {
        throw new Error('scan must not look segments up');
      },
    });
    expect(plan.segments).toEqual([0, 1, 2, 3, 4].map((i) => scanSegmentKey(i, 5)));
    expect(parseScanSegmentKey(plan.segments[3])).toEqual({ segment: 3, totalSegments: 5 });
    expect(parseScanSegmentKey('8a1#0')).toBeUndefined();
  });
});

describe('orderNearestFirst', () => {
  it('orders by the distance to the nearest point of each cell, the epicentre cell first', () => {
    const pts: [number, number][] = [200, 5, 120, 60, 30].map((d, i) =>
      destination(EPICENTRE.lat, EPICENTRE.lon, i * 70, d),
    );
    const refs = refsAt(pts);
    const ordered = orderNearestFirst(EPICENTRE.lat, EPICENTRE.lon, refs);
    expect(ordered[0].nearestKm).toBe(0);
    expect(ordered.map((o) => o.nearestKm)).toEqual(
      refs.map((r) => cellMinDistanceKm(r.cell, EPICENTRE.lat, EPICENTRE.lon)).sort((a, b) => a - b),
    );
  });
});

describe('levelMayRise', () => {
  const q = drillQuake('u');
  it('re-plans for a larger magnitude or a moved hypocentre, not for a same-or-smaller event in place', () => {
    expect(levelMayRise(q, { ...q, magnitude: q.magnitude + 0.3 })).toBe(true);
    expect(levelMayRise(q, { ...q, lat: q.lat + 0.2 })).toBe(true);
    expect(levelMayRise(q, { ...q, depthKm: q.depthKm - 5 })).toBe(true);
    expect(levelMayRise(q, { ...q, magnitude: q.magnitude - 0.2, updatedAt: q.updatedAt + 1 })).toBe(false);
    expect(levelMayRise(q, { ...q, updatedAt: q.updatedAt + 1 })).toBe(false);
  });
});

describe('groupUnits', () => {
  it('groups consecutive shards up to the size and within the distance band, covering every segment once, in order', () => {
    const seg = fc.record({
      count: fc.integer({ min: 1, max: 2500 }),
      step: fc.float({ min: 0, max: 8, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.array(seg, { maxLength: 200 }), fc.integer({ min: 100, max: 3000 }), (raw, max) => {
        let km = 0;
        const ordered = raw.map((r) => {
          km += r.step;
          return { count: r.count, nearestKm: km };
        });
        const starts = groupUnits(ordered, max, 10);
        const plan = ordered.map((_, i) => `s${i}`);
        expect(starts.length === 0).toBe(ordered.length === 0);
        const covered = starts.flatMap((_, u) => unitSegments(plan, starts, u));
        expect(covered).toEqual(plan);
        for (let u = 0; u < starts.length; u++) {
          const members = ordered.slice(starts[u], u + 1 < starts.length ? starts[u + 1] : ordered.length);
          // A single shard larger than the limit is a unit of its own; otherwise the unit respects the limit.
          if (members.length > 1) expect(members.reduce((n, m) => n + m.count, 0)).toBeLessThanOrEqual(max);
          expect(members.at(-1)!.nearestKm - members[0].nearestKm).toBeLessThanOrEqual(10);
        }
      }),
    );
  });

  it('sizes units for about four per chain, within a quarter and four times the base size', () => {
    const shards = (n: number, count: number) => Array.from({ length: n }, () => ({ count }));
    expect(unitSize(shards(50, 2000), { maxUnitSize: 2000 })).toBe(2000);
    expect(unitSize(shards(50, 2000), { maxUnitSize: 2000, chains: 8 })).toBe(3125);
    expect(unitSize(shards(500, 2000), { maxUnitSize: 2000, chains: 8 })).toBe(8000);
    expect(unitSize(shards(10, 100), { maxUnitSize: 2000, chains: 8 })).toBe(500);
  });

  it('names a unit by its first segment and how many follow; a one-segment unit by that segment', () => {
    const plan = ['a#0', 'b#0', 'c#0', 'd#0'];
    expect(unitKey(plan, [0, 3], 0)).toBe('a#0+2');
    expect(unitKey(plan, [0, 3], 1)).toBe('d#0');
    expect(
      groupUnits(
        [
          { count: 10, nearestKm: 0 },
          { count: 10, nearestKm: 11 },
        ],
        2000,
        10,
      ),
    ).toEqual([0, 1]);
    expect(
      groupUnits(
        [
          { count: 1500, nearestKm: 0 },
          { count: 600, nearestKm: 1 },
        ],
        2000,
        10,
      ),
    ).toEqual([0, 1]);
  });
});

describe('arrival order and urgent units (issue 16)', () => {
  const shallow = { lat: EPICENTRE.lat, lon: EPICENTRE.lon, depthKm: 12 };
  const ring = (km: number[], count = 800) =>
    km.map((d, i) => {
      const [lat, lon] = destination(shallow.lat, shallow.lon, (i * 137) % 360, d);
      const cell = cellFor(lat, lon);
      return { cell, shard: 0, count, key: segmentKey(cell, 0) };
    });

  it('orders by S arrival at the nearest point, deferring cells wholly in the blind zone behind urgent ones', () => {
    const refs = ring([0, 30, 60, 120, 200]);
    // 8 s after origin: the S wave has reached ~26 km hypocentral; urgent until 18 s (~62 km).
    const ordered = orderByArrival(shallow, refs, { urgentUntilS: 18, blindUntilS: 8 });
    const tiers = ordered.map((o) => o.tier);
    expect(tiers).toEqual([...tiers].sort());
    for (let i = 1; i < ordered.length; i++) {
      if (ordered[i].tier === ordered[i - 1].tier)
        expect(ordered[i].sNearS).toBeGreaterThanOrEqual(ordered[i - 1].sNearS);
    }
    const epicentreCell = ordered.find((o) => o.key === refs[0].key)!;
    expect(epicentreCell.sFarS).toBeLessThan(8);
    expect(epicentreCell.tier).toBe(1);
    expect(ordered[0].tier).toBe(0);
    expect(ordered.find((o) => o.key === refs[4].key)!.tier).toBe(2);
  });

  it('keeps urgent units to the urgent size and never mixes tiers; the rest grows to the base size', () => {
    const seg = fc.record({
      count: fc.integer({ min: 1, max: 2500 }),
      step: fc.float({ min: 0, max: 2, noNaN: true }),
      tier: fc.constantFrom(0, 1, 2, 3),
    });
    fc.assert(
      fc.property(fc.array(seg, { maxLength: 150 }), (raw) => {
        let t = 0;
        const ordered = raw
          .map((r) => r)
          .sort((a, b) => a.tier - b.tier)
          .map((r) => {
            t += r.step;
            return { count: r.count, sNearS: t, tier: r.tier as 0 | 1 | 2 | 3 };
          });
        const starts = groupByArrival(ordered, 4000, 500, 3);
        const keys = ordered.map((_, i) => `s${i}`);
        expect(starts.flatMap((_, u) => unitSegments(keys, starts, u))).toEqual(keys);
        for (let u = 0; u < starts.length; u++) {
          const m = ordered.slice(starts[u], u + 1 < starts.length ? starts[u + 1] : ordered.length);
          expect(new Set(m.map((x) => x.tier)).size).toBe(1);
          const cap = m[0].tier >= 2 ? 4000 : 500;
          if (m.length > 1) expect(m.reduce((n, x) => n + x.count, 0)).toBeLessThanOrEqual(cap);
          expect(m.at(-1)!.sNearS - m[0].sNearS).toBeLessThanOrEqual(3);
        }
      }),
    );
  });

  it('plans a shallow event under a city with small urgent units and the far field in large ones', async () => {
    const now = Date.now();
    const quake = { ...drillQuake('plan-city'), depthKm: 12, magnitude: 7.2, originTime: now - 5000, updatedAt: now };
    const refs = ring([0, 10, 20, 30, 40, 50, 150, 151, 152, 153, 154, 155], 1500);
    const plan = await planFanout(quake, {
      coveringCells,
      segmentsForCells: async (cells) => refs.filter((r) => cells.includes(r.cell)),
      chains: 1,
      now,
    });
    const sizes = plan.units.map((_, u) => unitSegments(plan.counts, plan.units, u).reduce((a, b) => a + b, 0));
    // Urgent (S within 10 s of planning: the first ~50 km) one 1,500 shard each; the far field grouped.
    expect(sizes.slice(0, 5)).toEqual([1500, 1500, 1500, 1500, 1500]);
    expect(Math.max(...sizes)).toBeGreaterThan(1500);
    const off = await planFanout(quake, {
      coveringCells,
      segmentsForCells: async (cells) => refs.filter((r) => cells.includes(r.cell)),
      chains: 1,
      now,
      urgentS: 0,
    });
    expect(off.units.length).toBeLessThan(plan.units.length);
  });
});

describe('deferUnreachable: a front that outruns the expected rate (issue 16)', () => {
  const seg = (key: string, tier: 0 | 1 | 2, sNearS: number, sFarS: number, count: number): ArrivalSegment => ({
    key,
    tier,
    sNearS,
    sFarS,
    count,
    nearestKm: 0,
    centreKm: 0,
  });
  const keys = (xs: readonly ArrivalSegment[]) => xs.map((x) => x.key);

  it('puts a segment the S wave passes before the rate reaches it after the warnable ones, as slack allows', () => {
    // 10,000/s from 5 s: A takes until 6 s; B's farthest point is shaking at 5.8 s: no order reaches it.
    const a = seg('A', 0, 5.5, 7, 10_000);
    const b = seg('B', 0, 5.2, 5.8, 10_000);
    const roomy = seg('C', 2, 20, 21, 1000);
    const out = deferUnreachable([a, b, roomy], { rate: 10_000, startS: 5 });
    // B (1 s of sending) fits in C's slack (20 s − 6.1 s): before C, after the urgent A.
    expect(keys(out)).toEqual(['A', 'B', 'C']);
    expect(out[1].tier).toBe(3);
    const tight = seg('C', 2, 6.5, 8, 1000);
    // C must start by 6.5 s: B's second would make it late, so B goes last.
    expect(keys(deferUnreachable([a, b, tight], { rate: 10_000, startS: 5 }))).toEqual(['A', 'C', 'B']);
    // A faster rate reaches B in time: nothing moves.
    expect(keys(deferUnreachable([a, b, tight], { rate: 100_000, startS: 5 }))).toEqual(['A', 'B', 'C']);
  });

  it('is a permutation that keeps the order of the warnable, defers exactly the unreachable, and makes nobody late', () => {
    const raw = fc.record({
      count: fc.integer({ min: 1, max: 3000 }),
      near: fc.float({ min: 0, max: 30, noNaN: true }),
      width: fc.float({ min: 0, max: 5, noNaN: true }),
      tier: fc.constantFrom(0, 1, 2),
    });
    fc.assert(
      fc.property(fc.array(raw, { maxLength: 80 }), fc.integer({ min: 500, max: 50_000 }), (rs, rate) => {
        const ordered = rs
          .map((r, i) => seg(`s${i}`, r.tier as 0 | 1 | 2, r.near, r.near + r.width, r.count))
          .sort((x, y) => x.tier - y.tier || x.sNearS - y.sNearS);
        const startS = 5;
        const out = deferUnreachable(ordered, { rate, startS });
        expect([...keys(out)].sort()).toEqual([...keys(ordered)].sort());
        // The walk the rule describes, replayed: who is kept and each kept one's projected end.
        let clock = startS;
        const kept: ArrivalSegment[] = [];
        for (const s of ordered) {
          if (s.tier === 1 || s.sFarS < clock) continue;
          kept.push(s);
          clock += s.count / rate;
        }
        const keptKeys = new Set(keys(kept));
        expect(keys(out.filter((s) => keptKeys.has(s.key)))).toEqual(keys(kept));
        for (const s of out) {
          if (keptKeys.has(s.key)) expect(s.tier).not.toBe(3);
          else expect(s.tier === 1 || s.tier === 3).toBe(true);
        }
        // Unreachable ones never before an urgent warnable one, and never make a kept one late that was on time.
        const lastUrgent = out.findLastIndex((s) => keptKeys.has(s.key) && s.tier === 0);
        out.forEach((s, i) => {
          if (!keptKeys.has(s.key)) expect(i).toBeGreaterThan(lastUrgent);
        });
        let alone = startS;
        const onTime = new Map<string, boolean>();
        for (const s of kept) {
          alone += s.count / rate;
          onTime.set(s.key, alone <= s.sNearS);
        }
        let t = startS;
        for (const s of out) {
          t += s.count / rate;
          if (onTime.get(s.key)) expect(t).toBeLessThanOrEqual(s.sNearS + 1e-9);
        }
        // Among the unreachable, the blind zone first, each group in its order.
        const moved = out.filter((s) => !keptKeys.has(s.key));
        expect(moved.map((s) => s.tier)).toEqual([...moved.map((s) => s.tier)].sort());
        expect(keys(moved)).toEqual([
          ...keys(ordered.filter((s) => s.tier === 1)),
          ...keys(ordered.filter((s) => s.tier !== 1 && !keptKeys.has(s.key))),
        ]);
        // As early as the slack allows: when every kept segment after the urgent ones has room for all of them, they
        // follow the last urgent one directly.
        const urgentKept = kept.filter((s) => s.tier === 0).length;
        let end = startS;
        const room = kept.reduce((min, s) => {
          end += s.count / rate;
          return s.tier === 0 ? min : Math.min(min, s.sNearS - end);
        }, Number.POSITIVE_INFINITY);
        const need = moved.reduce((n, s) => n + s.count / rate, 0);
        if (need <= room) {
          expect(keys(out)).toEqual([
            ...keys(kept.slice(0, urgentKept)),
            ...keys(moved),
            ...keys(kept.slice(urgentKept)),
          ]);
        }
      }),
    );
  });

  it('refuses a rate that is not positive', () => {
    expect(() => deferUnreachable([], { rate: 0, startS: 0 })).toThrow(RangeError);
    expect(() => deferUnreachable([], { rate: Number.NaN, startS: 0 })).toThrow(RangeError);
  });

  it("defaults to the profiles' fanout.expectedRate", () => {
    expect(fanoutSchema.parse({}).expectedRate).toBe(DEFAULT_EXPECTED_RATE);
    expect(() => fanoutSchema.parse({ expectedRate: 20_000.5 })).toThrow();
    expect(() => fanoutSchema.parse({ expectedRate: -1 })).toThrow();
  });

  it('plans a city whose S front outruns the rate with the unreachable shards last, and nearest first when off', async () => {
    const now = Date.now();
    const quake = { ...drillQuake('plan-rate'), depthKm: 12, magnitude: 7.2, originTime: now - 5000, updatedAt: now };
    // Compact shards (one res-7 cell each) of 2,000: 20 at 20–22 km, whose S arrives at ~6.7–7.5 s (40,000: 8 s of
    // sending at 5,000/s), and 10 at 30–39 km (S from ~9.4 s).
    const at = (i: number, km: number): SegmentRef => {
      const [lat, lon] = destination(quake.lat, quake.lon, (i * 97) % 360, km);
      const cell = cellFor(lat, lon);
      return { cell, shard: i, count: 2000, key: segmentKey(cell, i), area: [areaCellFor(lat, lon)] };
    };
    const refs = [
      ...Array.from({ length: 20 }, (_, i) => at(i, 20 + i / 10)),
      ...Array.from({ length: 10 }, (_, i) => at(20 + i, 30 + i)),
    ];
    const input = {
      coveringCells,
      segmentsForCells: async (cells: readonly string[]) => refs.filter((r) => cells.includes(r.cell)),
      chains: 1,
      now,
    };
    const off = await planFanout(quake, { ...input, expectedRate: 0 });
    const slow = await planFanout(quake, { ...input, expectedRate: 5000 });
    const fast = await planFanout(quake, { ...input, expectedRate: 10_000_000 });
    expect(fast.segments).toEqual(off.segments);
    expect(off.deferred).toBeUndefined();
    expect(fast.deferred).toBeUndefined();
    // The plan says what it deferred, and at what rate.
    expect(slow.deferred?.expectedRate).toBe(5000);
    expect(slow.deferred?.segments).toBeGreaterThan(0);
    expect(slow.deferred?.subscribers).toBe(2000 * slow.deferred!.segments);
    // The deferral builds on the urgent and blind tiers: with either off, so is it.
    for (const tiersOff of [{ urgentS: 0 }, { blindMarginS: -1 }]) {
      const without = await planFanout(quake, { ...input, ...tiersOff, expectedRate: 0 });
      expect((await planFanout(quake, { ...input, ...tiersOff, expectedRate: 5000 })).segments).toEqual(
        without.segments,
      );
    }
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(planFanout(quake, { ...input, expectedRate: bad })).rejects.toThrow(RangeError);
      await expect(planFanout(quake, { ...input, expectedRate: () => bad })).rejects.toThrow(RangeError);
    }
    // A rate by size is asked once, with the footprint's subscribers, and plans as that number does.
    const asked: number[] = [];
    const bySize = await planFanout(quake, {
      ...input,
      expectedRate: (n) => {
        asked.push(n);
        return 5000;
      },
    });
    expect(asked).toEqual([60_000]);
    expect(bySize.segments).toEqual(slow.segments);
    expect(bySize.deferred).toEqual(slow.deferred);
    expect([...slow.segments].sort()).toEqual([...off.segments].sort());
    expect(slow.segments).not.toEqual(off.segments);
    // Sent in each plan's order at 5,000/s from 0.5 s after planning: a shard counts when it is begun before the S
    // wave reaches its nearest point. Deferring the unreachable ones begins more shards in time than chasing them.
    const curve = travelTimeCurve('S', quake.depthKm);
    const distance = new Map(off.segments.map((k, i) => [k, off.distancesKm[i]]));
    const onTime = (order: readonly string[]) => {
      let t = 5.5;
      return order.filter((k) => {
        const begun = t;
        t += 2000 / 5000;
        return begun <= curve.timeAtKm(distance.get(k)!);
      }).length;
    };
    expect(onTime(off.segments)).toBeGreaterThan(0);
    expect(onTime(slow.segments)).toBeGreaterThanOrEqual(onTime(off.segments) + 5);
  });
});

describe('compact shards: a shard is ordered by its own area (issue 16)', () => {
  const shallow = { lat: 41.0, lon: 28.6, depthKm: 12 };
  const opts = { urgentUntilS: 30, blindUntilS: Number.NEGATIVE_INFINITY };

  it('orders two shards of one res-5 cell by the res-7 cells their subscribers occupy, not by shard number', () => {
    // One res-5 cell ~12 km east of the epicentre; shard 0 on its far side, shard 1 on its near side, 5 km from its
    // centre (inside: a res-5 hexagon's inradius is ≈7 km).
    const cell = cellFor(...destination(shallow.lat, shallow.lon, 90, 12));
    const [clat, clon] = cellToLatLng(cell);
    const toEpicentre = bearingDeg(clat, clon, shallow.lat, shallow.lon);
    const [nlat, nlon] = destination(clat, clon, toEpicentre, 5);
    const [flat, flon] = destination(clat, clon, toEpicentre + 180, 5);
    expect(cellFor(nlat, nlon)).toBe(cell);
    expect(cellFor(flat, flon)).toBe(cell);
    const far: SegmentRef = { cell, shard: 0, count: 500, key: segmentKey(cell, 0), area: [areaCellFor(flat, flon)] };
    const near: SegmentRef = { cell, shard: 1, count: 500, key: segmentKey(cell, 1), area: [areaCellFor(nlat, nlon)] };
    const ordered = orderByArrival(shallow, [far, near], opts);
    expect(ordered.map((o) => o.key)).toEqual([near.key, far.key]);
    // The near shard's nearest point is its res-7 cell's, not the 17 km cell's (which reaches the epicentre).
    expect(ordered[0].nearestKm).toBeGreaterThan(cellMinDistanceKm(cell, shallow.lat, shallow.lon));
    expect(ordered[1].nearestKm).toBeGreaterThan(ordered[0].nearestKm + 6);
    // The far shard's farthest point bounds its subscriber's distance from above.
    const farKm = haversineKm(shallow.lat, shallow.lon, flat, flon);
    expect(ordered[1].nearestKm).toBeLessThanOrEqual(farKm);
    expect(ordered[1].sFarS).toBeGreaterThan(ordered[1].sNearS);
    // Without recorded areas both fall back to the whole cell: equal distances, then the key decides.
    const bare = orderByArrival(shallow, [far, near].map(({ area: _a, ...r }) => r).reverse(), opts);
    expect(bare.map((o) => o.key)).toEqual([far.key, near.key]);
    expect(bare[0].nearestKm).toBe(bare[1].nearestKm);
    // orderNearestFirst uses the same areas.
    expect(orderNearestFirst(shallow.lat, shallow.lon, [far, near]).map((o) => o.key)).toEqual([near.key, far.key]);
  });

  it('every subscriber of a shard lies between its nearest and farthest bound (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.float({ min: 0, max: 359, noNaN: true }), fc.float({ min: 0, max: 60, noNaN: true })), {
          minLength: 1,
          maxLength: 30,
        }),
        (points) => {
          const subs = points.map(([az, km]) => destination(shallow.lat, shallow.lon, az, km));
          const cell = cellFor(subs[0][0], subs[0][1]);
          const ref: SegmentRef = {
            cell,
            shard: 0,
            count: subs.length,
            key: segmentKey(cell, 0),
            area: [...new Set(subs.map(([la, lo]) => areaCellFor(la, lo)))],
          };
          const [o] = orderByArrival(shallow, [ref], opts);
          for (const [la, lo] of subs) {
            const km = haversineKm(shallow.lat, shallow.lon, la, lo);
            expect(o.nearestKm).toBeLessThanOrEqual(km + 1e-9);
          }
          // And the farthest subscriber's S arrives no later than the area's farthest bound.
          const farthest = Math.max(...subs.map(([la, lo]) => haversineKm(shallow.lat, shallow.lon, la, lo)));
          expect(o.sFarS).toBeGreaterThanOrEqual(travelTimeCurve('S', shallow.depthKm).timeAtKm(farthest) - 1e-9);
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe('needsLayout: when resegment lays a cell out again', () => {
  const cell = cellFor(41.0, 28.97);
  const ref = (shard: number, count: number, area?: string[]): SegmentRef => ({
    cell,
    shard,
    count,
    key: segmentKey(cell, shard),
    ...(area ? { area } : {}),
  });
  const a = (...n: number[]) => n.map((i) => `87${String(i).padStart(13, '0')}`);

  it('lays out over-full, surplus, unrecorded and overlapping shards; leaves compact ones', () => {
    expect(needsLayout([ref(0, 101, a(1))], 100)).toBe(true);
    expect(needsLayout([ref(0, 50, a(1)), ref(1, 40, a(2))], 100)).toBe(true); // one shard would do
    expect(needsLayout([ref(0, 60)], 100)).toBe(true); // area never recorded
    expect(needsLayout([ref(0, 60, a(1, 2))], 100)).toBe(false);
    // Two runs of one order meeting in one res-7 cell: compact.
    expect(needsLayout([ref(0, 100, a(1, 2, 3)), ref(1, 100, a(3, 4, 5)), ref(2, 50, a(6))], 100)).toBe(false);
    // Shards filled in arrival order: each spans the whole cell.
    const all = a(1, 2, 3, 4, 5, 6, 7, 8);
    expect(needsLayout([ref(0, 100, all), ref(1, 100, all), ref(2, 50, all)], 100)).toBe(true);
    // An emptied shard is surplus (its stale area aside): the cell is laid out again into fewer shards.
    expect(needsLayout([ref(0, 100, a(1, 2)), ref(1, 0, all), ref(2, 100, a(3))], 100)).toBe(true);
  });
});
