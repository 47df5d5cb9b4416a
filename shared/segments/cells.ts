/**
 * Where subscribers are bucketed: H3 cells at resolution 5.
 *
 * Why resolution 5 (hexagons of ≈253 km² on average, ≈9.9 km edge, ≈17 km across):
 * - Nearest-first ordering only works as finely as the cells: an S wave (3.5 km/s) crosses a res-5 cell in ≈5 s, so
 *   cells ordered by distance stay within a few seconds of true arrival order. Res 4 (≈1,770 km², 45 km across) would
 *   put ≈13 s of arrival spread in one segment, which is the whole warning time near the epicentre.
 * - Footprints of tens to hundreds of km stay manageable: a 50 km disk is ≈35 cells, 200 km ≈500, 400 km ≈2,000 (the
 *   plan is a list of non-empty segments only, so sea, mountains and empty land cost nothing).
 * - Segment size is bounded by sharding, not by the resolution: a city cell (Bucharest: ~2M people per 250 km²)
 *   splits into shards of at most maxSegmentSize (default 2,000), while a rural cell holds one small shard.
 *   Res 6 (36 km²) would multiply plan length and lock traffic by 7 for rural areas without helping cities.
 */
import { cellToBoundary, cellToLatLng, gridDisk, latLngToCell } from 'h3-js';
import { haversineKm } from '../seismo/geodesy.ts';

export const H3_RESOLUTION = 5;

/**
 * Resolution of the cells that record where a shard's subscribers are (its `area`): res-7 hexagons, ≈5.2 km², ≈2.6 km
 * across, which the S wave crosses in under a second. A shard is ordered by the nearest of them, so a cell's shards
 * are ordered by where their subscribers are, not all by the nearest point of the 17 km cell.
 */
export const AREA_RESOLUTION = 7;

/**
 * Resolution whose index order lays a cell's subscribers out into shards, within their res-7 area cell: res-9
 * hexagons (≈0.1 km²).
 */
export const LAYOUT_RESOLUTION = 9;

export function cellFor(lat: number, lon: number): string {
  return latLngToCell(lat, lon, H3_RESOLUTION);
}

/** The res-7 cell (`AREA_RESOLUTION`) that holds a point: one element of a shard's recorded area. */
export function areaCellFor(lat: number, lon: number): string {
  return latLngToCell(lat, lon, AREA_RESOLUTION);
}

/**
 * Sort key of the shard layout: the point's res-7 cell (`areaCellFor`), then its res-9 cell, as index strings (15 hex
 * digits each; at one resolution the strings compare like the 64-bit indexes). H3 numbers a cell's descendants digit
 * by digit, parent before child, so sorting res-7 indexes keeps every res-6 parent's children together and neighbours
 * mostly near each other: a space-filling order, like a Z-order curve (H3 documentation, "Index bit layout"). A run of
 * this order, one shard, covers a few neighbouring res-7 cells, and exactly the res-7 cells its area records: the key
 * groups by the cell a point lies in, not by the index parent of its res-9 cell, which differs near res-7 borders
 * (H3's children do not tile their parent exactly).
 */
export function layoutKey(lat: number, lon: number): string {
  return `${latLngToCell(lat, lon, AREA_RESOLUTION)}${latLngToCell(lat, lon, LAYOUT_RESOLUTION)}`;
}

/** Segment key = subscribers table hash key: `<h3 cell>#<shard>`. */
export function segmentKey(cell: string, shard: number): string {
  return `${cell}#${shard}`;
}

export function parseSegmentKey(key: string): { cell: string; shard: number } {
  const i = key.lastIndexOf('#');
  const shard = Number(key.slice(i + 1));
  if (i <= 0 || !Number.isInteger(shard) || shard < 0) throw new Error(`not a segment key: ${key}`);
  return { cell: key.slice(0, i), shard };
}

/**
 * Great-circle distance (km) from a point to the nearest centre of an area's cells: how well a shard's recorded area
 * fits a new subscriber at (lat, lon), 0 when the point's own area cell is in it. Infinity for an empty area.
 */
export function areaDistanceKm(area: readonly string[], lat: number, lon: number): number {
  const own = areaCellFor(lat, lon);
  let best = Number.POSITIVE_INFINITY;
  for (const c of area) {
    if (c === own) return 0;
    const [clat, clon] = cellToLatLng(c);
    best = Math.min(best, haversineKm(lat, lon, clat, clon));
  }
  return best;
}

/** A cell's circumscribed circle (`cellCircle`). */
export interface CellCircle {
  readonly lat: number;
  readonly lon: number;
  readonly radiusKm: number;
}

/**
 * Circles already computed, kept across calls (and across a warm Lambda environment's invocations): an H3 index fixes
 * its cell's geometry, so a kept circle is exact, never stale. Planning a footprint of ~800 shards takes the circles of
 * ~12,000 res-7 area cells (an H3 centre and boundary each): 50–98 ms of each alert's planning before this cache,
 * measured in docs/fanout-benchmark.md ("Where the first second goes, and the first alert's planning"). Bounded: once
 * full, what is kept stays and further circles are computed each time (clearing instead would throw away the segments
 * table's circles that priming computed first, and a table of more cells would clear it at every plan).
 */
const circles = new Map<string, CellCircle>();
/** At most this many circles kept (~110 B each, measured with the heap: ~22 MB). */
export const MAX_CIRCLES = 200_000;

/** Whether `cellCircle` keeps this cell's circle now (diagnostics and tests: what priming filled). */
export function isCircleKept(cell: string): boolean {
  return circles.has(cell);
}

/**
 * Centre of a cell and the radius (km) of the circle around it that holds the whole cell (its farthest vertex, by
 * great-circle distance): an H3 index string in, `{lat, lon, radiusKm}` out (degrees, km). h3-js does not check the
 * string (another string gives a meaningless circle): callers pass cells from H3 functions or the segments table.
 * Memoised (`circles`).
 */
export function cellCircle(cell: string): CellCircle {
  const kept = circles.get(cell);
  if (kept) return kept;
  const [lat, lon] = cellToLatLng(cell);
  let radiusKm = 0;
  for (const [vlat, vlon] of cellToBoundary(cell)) radiusKm = Math.max(radiusKm, haversineKm(lat, lon, vlat, vlon));
  const c: CellCircle = { lat, lon, radiusKm };
  if (circles.size < MAX_CIRCLES) circles.set(cell, c);
  return c;
}

/** Great-circle distance from a point to the nearest possible point of a cell (a lower bound; 0 inside). */
export function cellMinDistanceKm(cell: string, lat: number, lon: number): number {
  const c = cellCircle(cell);
  return Math.max(0, haversineKm(lat, lon, c.lat, c.lon) - c.radiusKm);
}

/**
 * Every cell whose area intersects the disk of `radiusKm` around (lat, lon), nearest first.
 *
 * A breadth-first walk over neighbours from the centre's cell, keeping cells whose circumscribed circle reaches the
 * disk. It never misses a cell: the cells that truly intersect the disk form an edge-connected set containing the
 * centre's cell (the disk is connected), and each of them passes the circle test, so the walk reaches all of them.
 * It may add a few cells whose corner circle grazes the disk while the hexagon does not (harmless: an empty or
 * far segment costs one read). Walking instead of gridDisk(k) keeps it exact where cells shrink or distort
 * (pentagons, high latitudes) without guessing k.
 */
export function coveringCells(lat: number, lon: number, radiusKm: number): string[] {
  const origin = cellFor(lat, lon);
  const r = Math.max(0, radiusKm);
  const dist = new Map<string, number>([[origin, 0]]);
  let frontier = [origin];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const cell of frontier) {
      for (const n of gridDisk(cell, 1)) {
        if (dist.has(n)) continue;
        const d = cellMinDistanceKm(n, lat, lon);
        if (d <= r) {
          dist.set(n, d);
          next.push(n);
        } else {
          dist.set(n, Number.POSITIVE_INFINITY);
        }
      }
    }
    frontier = next;
  }
  return [...dist.entries()]
    .filter(([, d]) => d <= r)
    .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))
    .map(([c]) => c);
}
