/**
 * Synthetic subscribers for drills and benchmarks, reproducible from a seed. Placed where people live: most around
 * the cities of `CITIES` inside the disk (weighted by population, scattered around each centre), the rest uniformly
 * over the disk (towns and villages); uniformly when no listed city falls inside.
 */
import type { SubscriberInput } from '../segments/index.ts';
import { destination, haversineKm } from '../seismo/index.ts';
import { CITIES, type City, COUNTRY_LOCALE } from './cities.ts';
import { gaussian, type Random, seededRandom } from './random.ts';

export const DEFAULT_DRILL_SECRET = 'quakectl-drill-secret';

export interface SeedOptions {
  count: number;
  center: { lat: number; lon: number };
  radiusKm: number;
  /** Webhook URL for every subscriber; without it they get a `log` channel. */
  webhook?: string;
  /** HMAC secret of the webhook channel. */
  secret?: string;
  seed?: number;
  /** Ids are `<idPrefix>-<seed>-<n>`: the same options give the same ids, so re-seeding is idempotent. */
  idPrefix?: string;
  /** Share placed uniformly rather than around cities (default 0.25). */
  ruralShare?: number;
  /** Placement: by population (default) or uniform over the disk. */
  placement?: 'population' | 'uniform';
  cities?: readonly City[];
}

/** Thresholds people pick: most want to know about anything felt, fewer only about strong shaking. */
const MIN_MMI_MIX: ReadonlyArray<readonly [number, number]> = [
  [3, 0.6],
  [4, 0.25],
  [5, 0.15],
];

export function* generateSubscribers(opts: SeedOptions): Generator<SubscriberInput> {
  const seed = opts.seed ?? 1;
  const rand = seededRandom(seed);
  const prefix = opts.idPrefix ?? 'seed';
  const { center, radiusKm } = opts;
  const inside = (opts.cities ?? CITIES).filter((c) => haversineKm(center.lat, center.lon, c.lat, c.lon) <= radiusKm);
  const byPopulation = opts.placement !== 'uniform' && inside.length > 0;
  const cumulative: number[] = [];
  let total = 0;
  for (const c of inside) {
    total += c.population;
    cumulative.push(total);
  }
  const ruralShare = byPopulation ? (opts.ruralShare ?? 0.25) : 1;
  const channel = opts.webhook
    ? { type: 'webhook' as const, target: opts.webhook, secret: opts.secret ?? DEFAULT_DRILL_SECRET }
    : { type: 'log' as const, target: 'drill' };
  for (let i = 0; i < opts.count; i++) {
    let lat: number;
    let lon: number;
    let city: City | undefined;
    if (rand() >= ruralShare) {
      city = inside[pickIndex(cumulative, rand() * total)];
      [lat, lon] = aroundCity(city, center, radiusKm, rand);
    } else {
      [lat, lon] = uniformInDisk(center, radiusKm, rand);
      city = nearest(inside, lat, lon);
    }
    yield {
      id: `${prefix}-${seed}-${i}`,
      lat: round6(lat),
      lon: round6(lon),
      minMmi: pickMinMmi(rand()),
      channel,
      locale: city ? COUNTRY_LOCALE[city.country] : 'en',
    };
  }
}

export function seedSubscribers(opts: SeedOptions): SubscriberInput[] {
  return [...generateSubscribers(opts)];
}

function pickIndex(cumulative: number[], x: number): number {
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid] > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function uniformInDisk(center: { lat: number; lon: number }, radiusKm: number, rand: Random): [number, number] {
  return destination(center.lat, center.lon, rand() * 360, radiusKm * Math.sqrt(rand()));
}

/** Urban spread grows with the city: about 3 km for a town, 8 km for a city of 1.5 million. */
function aroundCity(c: City, center: { lat: number; lon: number }, radiusKm: number, rand: Random): [number, number] {
  const sigmaKm = 2 + 5 * Math.sqrt(c.population / 1_500_000);
  for (let attempt = 0; attempt < 5; attempt++) {
    const p = destination(c.lat, c.lon, rand() * 360, Math.abs(gaussian(rand)) * sigmaKm);
    if (haversineKm(center.lat, center.lon, p[0], p[1]) <= radiusKm) return p;
  }
  return [c.lat, c.lon];
}

function nearest(cities: readonly City[], lat: number, lon: number): City | undefined {
  let best: City | undefined;
  let bestKm = Number.POSITIVE_INFINITY;
  for (const c of cities) {
    const d = haversineKm(lat, lon, c.lat, c.lon);
    if (d < bestKm) {
      bestKm = d;
      best = c;
    }
  }
  return best;
}

function pickMinMmi(x: number): number {
  let acc = 0;
  for (const [mmi, share] of MIN_MMI_MIX) {
    acc += share;
    if (x < acc) return mmi;
  }
  return 3;
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
