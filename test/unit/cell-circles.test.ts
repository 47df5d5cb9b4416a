/**
 * The circumscribed circles of H3 cells (shared/segments/cells.ts `cellCircle`), kept across calls up to a bound, and
 * the consumer's priming step that computes them for every shard of the segments table before the first alert
 * (shared/fanout/prime.ts `segments.circles`). Pure: no service.
 */
import fc from 'fast-check';
import { cellToBoundary, cellToLatLng, gridDisk, latLngToCell } from 'h3-js';
import { describe, expect, it } from 'vitest';
import { consumerPrimeSteps } from '../../shared/fanout/prime.ts';
import type { PrimeContext } from '../../shared/infra/prime.ts';
import { MAX_CIRCLES } from '../../shared/segments/cells.ts';
import { cellCircle, isCircleKept } from '../../shared/segments/index.ts';
import type { SegmentRef } from '../../shared/segments/types.ts';
import { haversineKm } from '../../shared/seismo/geodesy.ts';

/** The circle computed from h3-js directly: centre, and the great-circle distance to the farthest vertex. */
function circleOf(cell: string) {
  const [lat, lon] = cellToLatLng(cell);
  const radiusKm = Math.max(...cellToBoundary(cell).map(([a, b]) => haversineKm(lat, lon, a, b)));
  return { lat, lon, radiusKm };
}

describe('cellCircle', () => {
  it('is the centre and farthest vertex of the cell, the same the first time and when kept', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -80, max: 80, noNaN: true }),
        fc.double({ min: -180, max: 180, noNaN: true, maxExcluded: true }),
        fc.constantFrom(5, 7, 9),
        (lat, lon, res) => {
          const cell = latLngToCell(lat, lon, res);
          const first = cellCircle(cell);
          expect(first).toEqual(circleOf(cell));
          expect(isCircleKept(cell)).toBe(true);
          // Kept: the same object, not a second computation.
          expect(cellCircle(cell)).toBe(first);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('consumer priming: segments.circles', () => {
  const ctx: PrimeContext = { slice: async () => {} };
  // Cells far from any other test's (the South Atlantic), so nothing else has kept them.
  const cells = [latLngToCell(-40, -20, 5), latLngToCell(-41, -21, 5)];
  const areas = [[latLngToCell(-40, -20, 7), latLngToCell(-40.02, -20.01, 7)], [latLngToCell(-41, -21, 7)]];
  const refs: SegmentRef[] = cells.map((cell, i) => ({ cell, shard: 0, count: 10, key: `${cell}#0`, area: areas[i] }));
  const stepOf = (all?: () => Promise<SegmentRef[]>) =>
    consumerPrimeSteps({
      events: {} as never,
      segmentsForCells: async () => [],
      scanSegmentsPage: async () => undefined,
      dryRunWorker: async () => undefined,
      dlqUrl: async () => '',
      ...(all ? { allSegments: all } : {}),
    }).find((s) => s.name === 'segments.circles');

  it('computes the circle of every shard cell and area cell of the segments table', async () => {
    for (const c of [...cells, ...areas.flat()]) expect(isCircleKept(c)).toBe(false);
    const step = stepOf(async () => refs);
    expect(step).toBeDefined();
    expect(await step!.run(ctx)).toBe(new Set([...cells, ...areas.flat()]).size);
    for (const c of [...cells, ...areas.flat()]) expect(isCircleKept(c)).toBe(true);
  });

  it('stops when the priming time is up, and is absent without a segments table reader', async () => {
    const other = [latLngToCell(-50, -30, 5)];
    const step = stepOf(async () => other.map((cell) => ({ cell, shard: 0, count: 1, key: `${cell}#0` })));
    const timeUp = new Error('time is up');
    await expect(step!.run({ slice: async () => Promise.reject(timeUp) }) as Promise<unknown>).rejects.toBe(timeUp);
    expect(isCircleKept(other[0])).toBe(false);
    expect(stepOf()).toBeUndefined();
  });

  it('checks the time between slices, not only before the first: a large table stops midway', async () => {
    // ~2,600 res-7 cells (the Southern Ocean): more than one slice of the step.
    const many = gridDisk(latLngToCell(-55, 60, 7), 29);
    const step = stepOf(async () => [{ cell: latLngToCell(-55, 60, 5), shard: 0, count: 1, key: 'x#0', area: many }]);
    let slices = 0;
    const timeUp = new Error('time is up');
    const ctx: PrimeContext = { slice: async () => (slices++ === 0 ? undefined : Promise.reject(timeUp)) };
    await expect(step!.run(ctx) as Promise<unknown>).rejects.toBe(timeUp);
    const kept = many.filter(isCircleKept).length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(many.length);
  });
});

describe('cellCircle memory bound', () => {
  it(`keeps at most ${MAX_CIRCLES} circles: once full, what is kept stays and later circles are computed each time`, () => {
    // MAX_CIRCLES + 1 cells no other test uses (res 10 in the South Pacific); other tests keep a few hundred more, so
    // the cache is full before the last of these.
    const cells = gridDisk(latLngToCell(-30, -130, 10), 260).slice(0, MAX_CIRCLES + 1);
    expect(cells).toHaveLength(MAX_CIRCLES + 1);
    for (const c of cells) cellCircle(c);
    expect(isCircleKept(cells[0])).toBe(true);
    const last = cells[MAX_CIRCLES];
    expect(isCircleKept(last)).toBe(false);
    // Not kept, and still right.
    expect(cellCircle(last)).toEqual(circleOf(last));
    expect(isCircleKept(last)).toBe(false);
    // ~2 s of h3-js on a quiet machine: room for a loaded CI (not a timing assertion).
  }, 30_000);
});
