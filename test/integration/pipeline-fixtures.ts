/**
 * Shared fixtures of the pipeline tests: a deterministic population of subscribers around an epicentre (dense near it,
 * sparse far out, mixed thresholds and locales) and the drill quake they are alerted for.
 */
import { seededRandom } from '../../shared/drill/random.ts';
import type { Quake } from '../../shared/quake/types.ts';
import type { SubscriberInput } from '../../shared/segments/types.ts';
import { DEFAULT_ALERT_PROBABILITY } from '../../shared/seismo/alert.ts';
import { destination } from '../../shared/seismo/geodesy.ts';
import { intensityModelFor } from '../../shared/seismo/intensity.ts';

export const EPICENTRE = { lat: 45.75, lon: 21.23 };

export function drillQuake(id: string, overrides: Partial<Quake> = {}): Quake {
  const now = Date.now();
  return {
    id,
    source: 'drill',
    sourceIds: [id],
    originTime: now,
    lat: EPICENTRE.lat,
    lon: EPICENTRE.lon,
    depthKm: 10,
    magnitude: 5.6,
    magType: 'mw',
    place: 'drill near Timisoara',
    updatedAt: now,
    status: 'reviewed',
    kind: 'earthquake',
    drill: true,
    ...overrides,
  };
}

export interface PopulationOptions {
  count: number;
  maxKm: number;
  target: string;
  secret: string;
  seed?: number;
  idPrefix?: string;
  /** Subscribers placed within 3 km of the epicentre first (fills its cell's shards). */
  dense?: number;
}

export function population(opts: PopulationOptions): SubscriberInput[] {
  const rnd = seededRandom(opts.seed ?? 42);
  const out: SubscriberInput[] = [];
  for (let i = 0; i < opts.count; i++) {
    const r = i < (opts.dense ?? 0) ? 3 * rnd() : opts.maxKm * rnd() ** 1.5;
    const [lat, lon] = destination(EPICENTRE.lat, EPICENTRE.lon, 360 * rnd(), r);
    out.push({
      id: `${opts.idPrefix ?? 's'}${String(i).padStart(5, '0')}`,
      lat,
      lon,
      minMmi: [3, 3, 4, 5, 6][Math.floor(rnd() * 5)],
      channel: { type: 'webhook', target: opts.target, secret: opts.secret },
      locale: rnd() < 0.3 ? 'ro' : 'en',
    });
  }
  return out;
}

/**
 * Ids of the subscribers the pipeline must alert: those for whom the probability that the predicted MMI reaches
 * their own threshold is at least the default alert policy's level (shared/seismo/alert.ts).
 */
export function expectedIds(quake: Quake, subs: SubscriberInput[]): Set<string> {
  const model = intensityModelFor(quake);
  return new Set(
    subs
      .filter((s) => model.probabilityAtLeast(s.lat, s.lon, s.minMmi ?? 3) >= DEFAULT_ALERT_PROBABILITY)
      .map((s) => s.id),
  );
}
