/**
 * Historical earthquakes shipped as drill scenarios, with their published parameters. A simulated event keeps the
 * historical magnitude, hypocentre and place, but happens now: its origin time is the moment of sending minus a
 * detection delay (real networks publish first alerts 5–7 s after origin), and it is always a drill.
 */

import { UsageError } from '../infra/errors.ts';
import type { Quake } from '../quake/types.ts';

export interface Scenario {
  name: string;
  title: string;
  magnitude: number;
  magType: string;
  lat: number;
  lon: number;
  depthKm: number;
  place: string;
  /** When it really happened (UTC); absent for a planning scenario (an expected event, not a past one). */
  historicalOrigin?: string;
  /** Where the parameters come from. */
  source: string;
}

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'vrancea-1977',
    title: 'Vrancea, 4 March 1977',
    magnitude: 7.4,
    magType: 'mw',
    lat: 45.77,
    lon: 26.76,
    depthKm: 94,
    place: 'Vrancea, Romania',
    historicalOrigin: '1977-03-04T19:21:54Z',
    // Other published solutions put the hypocentre between 85 and 109 km; 94 km is the catalogue value used here.
    source: 'ROMPLUS catalogue (Oncescu et al. 1999, INFP Bucharest) as commonly cited: 45.77N 26.76E, h 94 km, Mw 7.4',
  },
  {
    name: 'vrancea-1990',
    title: 'Vrancea, 30 May 1990',
    magnitude: 6.9,
    magType: 'mw',
    lat: 45.83,
    lon: 26.89,
    depthKm: 89,
    place: 'Vrancea, Romania',
    historicalOrigin: '1990-05-30T10:40:06Z',
    // Checked against Wikipedia's "1990 Vrancea earthquakes": epicentre rounded to 45.9N 26.9E, depth 89 km, Mw 6.9
    // (MGR 6.7), first main shock 13:40:06 local time (UTC+3).
    source: 'ROMPLUS catalogue (INFP Bucharest) as commonly cited: 45.83N 26.89E, h 89 km, Mw 6.9',
  },
  {
    name: 'kahramanmaras-2023',
    title: 'Pazarcık (Kahramanmaraş), 6 February 2023',
    magnitude: 7.8,
    magType: 'mww',
    lat: 37.2199,
    lon: 37.0189,
    depthKm: 10,
    place: 'Pazarcık, Kahramanmaraş, Türkiye',
    historicalOrigin: '2023-02-06T01:17:34Z',
    source: 'USGS ShakeMap us6000jllz (shared/data/shakemap): 37.2199N 37.0189E, 10 km, Mww 7.8',
  },
  {
    name: 'marmara-istanbul',
    title: 'Sea of Marmara M7.2 off İstanbul (planning scenario)',
    magnitude: 7.2,
    magType: 'mw',
    lat: 40.8,
    lon: 28.75,
    depthKm: 12,
    place: 'Sea of Marmara, 29 km SW of İstanbul, Türkiye',
    // Not a past event: the shallow M7+ expected on the Main Marmara Fault's central segment, the case where the
    // fan-out's order and throughput decide who is warned (issue 16; bench/city.ts uses the same hypocentre).
    source:
      'Planning scenario: Central Marmara segment of the North Anatolian Fault (Parsons 2004, JGR 109 B05304: ' +
      'M≥7 probability for İstanbul); hypocentre chosen 29 km from the city centre at 12 km, not a published solution',
  },
];

export const DEFAULT_SCENARIO = 'vrancea-1977';
export const DEFAULT_DETECTION_DELAY_S = 5;

export function findScenario(name: string): Scenario {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s) throw new UsageError(`unknown scenario "${name}"; known: ${SCENARIOS.map((x) => x.name).join(', ')}`);
  return s;
}

export interface SimulatedEvent {
  magnitude: number;
  lat: number;
  lon: number;
  depthKm: number;
  magType?: string;
  place?: string;
}

export interface DrillQuakeOptions {
  /** Epoch ms of sending; the producer stamps acceptance a few ms later. */
  now: number;
  detectionDelayS?: number;
  /** Distinguishes ids of events sent in the same millisecond. */
  suffix?: string;
  /** Only for `--live` (confirmed, never on the local profile): a real, non-drill alert. */
  live?: boolean;
  name?: string;
}

/** A Quake for the producer: drill unless explicitly live, origin time = now − detection delay. */
export function simulatedQuake(e: SimulatedEvent, opts: DrillQuakeOptions): Quake {
  const delayMs = Math.round((opts.detectionDelayS ?? DEFAULT_DETECTION_DELAY_S) * 1000);
  const label = opts.name ?? 'sim';
  const id = `drill-${label}-${opts.now.toString(36)}${opts.suffix ? `-${opts.suffix}` : ''}`;
  return {
    id,
    source: 'drill',
    sourceIds: [id],
    originTime: opts.now - delayMs,
    lat: e.lat,
    lon: e.lon,
    depthKm: e.depthKm,
    magnitude: e.magnitude,
    magType: e.magType ?? 'mw',
    place: e.place ?? `${e.lat.toFixed(2)}, ${e.lon.toFixed(2)}`,
    updatedAt: opts.now,
    status: 'reviewed',
    kind: 'earthquake',
    drill: !opts.live,
  };
}

export function scenarioQuake(s: Scenario, opts: DrillQuakeOptions): Quake {
  return simulatedQuake(s, { ...opts, name: opts.name ?? s.name });
}
