/**
 * The `city` layout of bench/fanout.ts: a shallow M7.2 under a dense city, where the order and the throughput of the
 * fan-out decide who is warned before the S wave (issue 16). Pure: placement, the event, and the warning measures
 * (who was notified before their S arrival, by epicentral band; the ideal bound at the same throughput).
 *
 * Placement: 2-D population density ∝ exp(−r / 15 km) around İstanbul's centre, cut at 80 km (radial density
 * r·exp(−r/L), i.e. Gamma(2, L), sampled by rejection above 80 km). Radially symmetric: the Sea of Marmara is not
 * carved out, so the bands nearest the (offshore) epicentre hold more people than they would. A synthetic layout for
 * ordering and throughput, not a population model.
 */
import { seededRandom } from '../shared/drill/random.ts';
import type { Quake } from '../shared/quake/types.ts';
import type { SubscriberInput } from '../shared/segments/index.ts';

import { destination } from '../shared/seismo/index.ts';

/** İstanbul (Fatih), GeoNames city centre rounded to 0.01°. */
export const CITY_CENTRE = { lat: 41.01, lon: 28.95 };
export const CITY_RADIUS_KM = 80;
export const CITY_DENSITY_SCALE_KM = 15;

/**
 * The scenario: M7.2 at 12 km on the Main Marmara Fault south-west of the city, 29 km from its centre (the Central
 * Marmara segment, where a M7+ is expected: Parsons 2004, JGR 109 B05304; Ambraseys 2002 for the 1766/1894
 * ruptures). Hypocentre chosen for the benchmark, not a published solution.
 */
export const CITY_EVENT = { lat: 40.8, lon: 28.75, depthKm: 12, magnitude: 7.2, place: 'Sea of Marmara, off İstanbul' };

export const DETECTION_DELAY_MS = 5000;

/** Epicentral bands (km) of the report. */
export const BANDS: readonly (readonly [number, number])[] = [
  [0, 20],
  [20, 40],
  [40, 60],
  [60, 80],
];

/** Thresholds as in shared/drill/seed.ts: most want anything felt, fewer only strong shaking. */
const MIN_MMI_MIX: readonly (readonly [number, number])[] = [
  [3, 0.6],
  [4, 0.25],
  [5, 0.15],
];

export interface CityOptions {
  count: number;
  seed?: number;
  webhook: string;
  secret: string;
  idPrefix?: string;
  center?: { lat: number; lon: number };
  radiusKm?: number;
  scaleKm?: number;
}

/** One site of the layout: radius from Gamma(2, scale) by rejection above `radius`, uniform bearing. */
function citySite(
  rand: () => number,
  centre: { lat: number; lon: number },
  radius: number,
  scale: number,
): [number, number] {
  let r: number;
  do r = -scale * Math.log((1 - rand()) * (1 - rand()));
  while (r > radius);
  return destination(centre.lat, centre.lon, rand() * 360, r);
}

/** Positions only (for projections of millions of subscribers without building them). Not the same draws as `citySubscribers`. */
export function cityPositions(count: number, seed = 7): { lat: Float64Array; lon: Float64Array } {
  const rand = seededRandom(seed);
  const lat = new Float64Array(count);
  const lon = new Float64Array(count);
  for (let i = 0; i < count; i++) [lat[i], lon[i]] = citySite(rand, CITY_CENTRE, CITY_RADIUS_KM, CITY_DENSITY_SCALE_KM);
  return { lat, lon };
}

/** Subscribers of the city layout; ids `<idPrefix>-<seed>-<n>` (n = index, so the benchmark can find each site). */
export function* citySubscribers(o: CityOptions): Generator<SubscriberInput> {
  const seed = o.seed ?? 7;
  const rand = seededRandom(seed);
  const centre = o.center ?? CITY_CENTRE;
  const radius = o.radiusKm ?? CITY_RADIUS_KM;
  const scale = o.scaleKm ?? CITY_DENSITY_SCALE_KM;
  for (let i = 0; i < o.count; i++) {
    const [lat, lon] = citySite(rand, centre, radius, scale);
    let acc = 0;
    const x = rand();
    let minMmi = 3;
    for (const [mmi, share] of MIN_MMI_MIX) {
      acc += share;
      if (x < acc) {
        minMmi = mmi;
        break;
      }
    }
    yield {
      id: `${o.idPrefix ?? 'c'}-${seed}-${i}`,
      lat: Math.round(lat * 1e6) / 1e6,
      lon: Math.round(lon * 1e6) / 1e6,
      minMmi,
      channel: { type: 'webhook', target: o.webhook, secret: o.secret },
      locale: 'tr',
    };
  }
}

/** The city event as a drill Quake accepted at `acceptedAt` (origin = acceptance − detection delay). */
export function cityQuake(id: string, acceptedAt: number): Quake {
  return {
    id,
    source: 'drill',
    sourceIds: [id],
    originTime: acceptedAt - DETECTION_DELAY_MS,
    magType: 'mw',
    updatedAt: acceptedAt,
    status: 'reviewed',
    kind: 'earthquake',
    drill: true,
    ...CITY_EVENT,
  };
}

/** One eligible subscriber as the measures see it. */
export interface Site {
  /** Epicentral distance, km. */
  epicentralKm: number;
  /** S-wave arrival, epoch ms. */
  sAt: number;
}

export interface BandShare {
  band: readonly [number, number];
  /** Eligible subscribers of the band outside the blind zone (S after `blindUntil`). */
  outside: number;
  /** Of those, notified before their S arrival. */
  before: number;
  /** before / outside in percent (null when the band is empty). */
  pct: number | null;
}

/**
 * Share notified before the S wave, per band, over subscribers outside the blind zone: those whose S arrives after
 * `blindUntil` (epoch ms: acceptance + the first-notification latency, the earliest any order could reach anyone).
 * `notifiedAt[k]` is site k's notification time (epoch ms), NaN when not notified (counts as late).
 */
export function bandShares(
  sites: readonly Site[],
  notifiedAt: ArrayLike<number>,
  blindUntil: number,
  bands: readonly (readonly [number, number])[] = BANDS,
): BandShare[] {
  const out = bands.map((band) => ({ band, outside: 0, before: 0, pct: null as number | null }));
  for (let k = 0; k < sites.length; k++) {
    const s = sites[k];
    if (s.sAt <= blindUntil) continue;
    const b = out.find((x) => s.epicentralKm >= x.band[0] && s.epicentralKm < x.band[1]);
    if (!b) continue;
    b.outside++;
    if (notifiedAt[k] < s.sAt) b.before++;
  }
  for (const b of out) b.pct = b.outside ? Math.round((1000 * b.before) / b.outside) / 10 : null;
  return out;
}

/**
 * The ideal bound: the same first-notification time and throughput as measured, in the best order one machine could
 * use. Subscribers are taken by S arrival (earliest deadline first); one whose S arrives before their turn is
 * deferred to the end rather than delaying everyone after them (with equal service times and a common start,
 * earliest-deadline-first that drops late jobs maximises the number served on time: Moore 1968, Management Science
 * 15(1)). `plainOrder` keeps strict S order without deferring (what a nearest-first order can at best do).
 * Returns notification times (epoch ms) indexed like `sites`.
 */
export function idealSchedule(
  sites: readonly Site[],
  firstAt: number,
  perSecond: number,
  opts: { plainOrder?: boolean } = {},
): Float64Array {
  const step = 1000 / perSecond;
  return scheduleInIdealOrder(sites, (slot) => firstAt + slot * step, opts);
}

/**
 * The ideal order on a measured delivery schedule: the same notification times as a measured run (its ramp-up
 * included, `times` in any order, NaN = not delivered, skipped), given out in the ideal order of `idealSchedule`. The
 * gap between a run and this bound is what its order costs; the gap between this bound and `idealSchedule` is what its
 * ramp-up (slower first second than its mean rate) costs. Sites beyond the measured deliveries get NaN.
 */
export function idealOnSchedule(
  sites: readonly Site[],
  times: ArrayLike<number>,
  opts: { plainOrder?: boolean } = {},
): Float64Array {
  const sorted = Float64Array.from(Array.from(times).filter((t) => !Number.isNaN(t))).sort();
  return scheduleInIdealOrder(sites, (slot) => (slot < sorted.length ? sorted[slot] : Number.NaN), opts);
}

/** Earliest S first on the slots `slotAt(0), slotAt(1)…` (ascending), deferring whoever is shaken before their slot. */
function scheduleInIdealOrder(
  sites: readonly Site[],
  slotAt: (slot: number) => number,
  opts: { plainOrder?: boolean },
): Float64Array {
  const order = Array.from(sites.keys()).sort((a, b) => sites[a].sAt - sites[b].sAt);
  const at = new Float64Array(sites.length);
  let slot = 0;
  const deferred: number[] = [];
  for (const k of order) {
    const t = slotAt(slot);
    if (!opts.plainOrder && t >= sites[k].sAt) {
      deferred.push(k);
      continue;
    }
    at[k] = t;
    slot++;
  }
  for (const k of deferred) at[k] = slotAt(slot++);
  return at;
}

/** Nearest-rank percentile of an ascending array (null when empty). */
export function percentile(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}
