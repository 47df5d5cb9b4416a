import fc from 'fast-check';
import { cellToBoundary, getResolution, gridDisk } from 'h3-js';
import { describe, expect, it } from 'vitest';
import {
  cellFor,
  cellMinDistanceKm,
  coveringCells,
  H3_RESOLUTION,
  parseSegmentKey,
  segmentKey,
  subscriberSchema,
} from '../../shared/segments/index.ts';
import { destination, haversineKm } from '../../shared/seismo/geodesy.ts';

const lat = fc.double({ min: -80, max: 80, noNaN: true });
const lon = fc.double({ min: -180, max: 180, noNaN: true, maxExcluded: true });

describe('coveringCells', () => {
  it('never misses the cell of a point within the radius (property)', () => {
    fc.assert(
      fc.property(
        lat,
        lon,
        fc.double({ min: 0, max: 150, noNaN: true }),
        fc.double({ min: 0, max: 360, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (la, lo, radius, bearing, frac) => {
          const cells = new Set(coveringCells(la, lo, radius));
          const [pla, plo] = destination(la, lo, bearing, radius * frac);
          // destination() is spherical like haversineKm: guard against rounding at the very edge.
          if (haversineKm(la, lo, pla, plo) > radius) return;
          expect(cells.has(cellFor(pla, plo))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('covers points on the boundary of the disk in every direction (Vrancea, 100 km)', () => {
    const [la, lo] = [45.7, 26.6];
    const cells = new Set(coveringCells(la, lo, 100));
    for (let b = 0; b < 360; b += 0.5) {
      const [pla, plo] = destination(la, lo, b, 99.999);
      expect(cells.has(cellFor(pla, plo)), `bearing ${b}`).toBe(true);
    }
  });

  it('keeps only cells that can reach the disk, and is not much larger than the disk', () => {
    const [la, lo, r] = [44.43, 26.1, 60];
    const cells = coveringCells(la, lo, r);
    for (const c of cells) expect(cellMinDistanceKm(c, la, lo)).toBeLessThanOrEqual(r);
    // Disk 11,310 km² over ≈253 km² cells ≈ 45 cells; a ring of boundary cells more at most.
    expect(cells.length).toBeGreaterThan(40);
    expect(cells.length).toBeLessThan(110);
    // Nearest first: the epicentre's own cell leads.
    expect(cells[0]).toBe(cellFor(la, lo));
    // Every neighbour of a kept cell that was left out lies entirely outside the disk.
    const kept = new Set(cells);
    for (const c of cells) {
      for (const n of gridDisk(c, 1)) {
        if (kept.has(n)) continue;
        for (const [vla, vlo] of cellToBoundary(n)) expect(haversineKm(la, lo, vla, vlo)).toBeGreaterThan(r);
      }
    }
  });

  it('radius 0 is the epicentre cell alone, and works across the antimeridian and near the poles', () => {
    expect(coveringCells(10, 20, 0)).toEqual([cellFor(10, 20)]);
    const dateline = coveringCells(-17.8, 179.9, 40);
    expect(dateline).toContain(cellFor(-17.8, -179.8));
    const polar = coveringCells(85, 10, 80);
    const [pla, plo] = destination(85, 10, 0, 79);
    expect(polar).toContain(cellFor(pla, plo));
  });
});

describe('segment keys and subscriber validation', () => {
  it('cells are H3 at the chosen resolution and keys round-trip', () => {
    const cell = cellFor(45.7, 26.6);
    expect(getResolution(cell)).toBe(H3_RESOLUTION);
    expect(parseSegmentKey(segmentKey(cell, 12))).toEqual({ cell, shard: 12 });
    expect(() => parseSegmentKey('nokey')).toThrow();
  });

  it('fills defaults and rejects bad input with a reason', () => {
    const s = subscriberSchema.parse({ id: 'a1', lat: 44, lon: 26, channel: { type: 'log', target: 'x' } });
    expect(s.minMmi).toBe(3);
    expect(s.locale).toBe('en');
    const bad = subscriberSchema.safeParse({ id: 'a#1', lat: 95, lon: 26, channel: { type: 'pager', target: 'x' } });
    expect(bad.success).toBe(false);
    const paths = bad.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['id', 'lat', 'channel.type']));
    const webhook = subscriberSchema.safeParse({
      id: 'w',
      lat: 0,
      lon: 0,
      channel: { type: 'webhook', target: 'ftp://x' },
    });
    expect(webhook.success).toBe(false);
  });
});
