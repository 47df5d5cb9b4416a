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
  /**
   * The population `quakectl drill` seeds for it when not told otherwise (default `DEFAULT_DRILL_POPULATION`): a city
   * scenario's people live within tens of km, a regional one's within hundreds.
   */
  drillPopulation?: DrillPopulation;
}

/** How many synthetic subscribers a drill seeds, and within how many km of the epicentre. */
export interface DrillPopulation {
  subscribers: number;
  radiusKm: number;
}

export const DEFAULT_DRILL_POPULATION: DrillPopulation = { subscribers: 50_000, radiusKm: 250 };

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
    // Issue 16's city: about 1% of İstanbul and its neighbours, within 80 km of the epicentre (bench/city.ts's size and
    // radius; bench/city.ts centres its exponential density on the city centre, the drill places by census population).
    drillPopulation: { subscribers: 100_000, radiusKm: 80 },
  },
];

export const DEFAULT_SCENARIO = 'vrancea-1977';
export const DEFAULT_DETECTION_DELAY_S = 5;

export function findScenario(name: string): Scenario {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s) throw new UsageError(`unknown scenario "${name}"; known: ${scenarioNames().join(', ')}`);
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

/**
 * One report in a revision stream: a network publishing a solution (or withdrawing one) `atS` seconds after the
 * stream starts.
 */
export interface StreamStep {
  atS: number;
  /** The publisher (USGS `us`, EMSC `emsc`, a national FDSN server such as AFAD `afad`). */
  source: string;
  /** The publisher's own id for the event (made unique per run). */
  sourceId: string;
  magnitude: number;
  magType: string;
  lat: number;
  lon: number;
  depthKm: number;
  status: 'automatic' | 'reviewed';
}

export interface StreamScenario {
  name: string;
  title: string;
  place: string;
  /** Where the solutions come from. */
  source: string;
  steps: readonly StreamStep[];
}

/**
 * Revision streams: the same quake as the field publishes it — automatic solutions revised within minutes (a large
 * event's early magnitudes saturate and grow), other agencies' solutions in between, moving locations. Compressed in
 * time (seconds instead of minutes) so a drill covers them while chains are still delivering.
 */
export const STREAM_SCENARIOS: readonly StreamScenario[] = [
  {
    name: 'kahramanmaras-2023-stream',
    title: 'Pazarcık (Kahramanmaraş), 6 February 2023, as a revision stream',
    place: 'Pazarcık, Kahramanmaraş, Türkiye',
    // Magnitudes follow the sequence the issue describes (automatic M6.2, then M7.0, then M7.8 from USGS); the
    // final solution is USGS us6000jllz (shared/data/shakemap); the others are plausible agency solutions around it.
    source: 'USGS us6000jllz final solution; earlier solutions illustrative of USGS, EMSC and AFAD revisions',
    steps: [
      {
        atS: 0,
        source: 'us',
        sourceId: 'us6000jllz',
        magnitude: 6.2,
        magType: 'mb',
        lat: 37.17,
        lon: 37.08,
        depthKm: 17.9,
        status: 'automatic',
      },
      {
        atS: 2,
        source: 'emsc',
        sourceId: '20230206_0000008',
        magnitude: 6.6,
        magType: 'mw',
        lat: 37.15,
        lon: 37.03,
        depthKm: 10,
        status: 'automatic',
      },
      {
        atS: 4,
        source: 'us',
        sourceId: 'us6000jllz',
        magnitude: 7.0,
        magType: 'mww',
        lat: 37.2,
        lon: 37.04,
        depthKm: 12,
        status: 'automatic',
      },
      {
        atS: 6,
        source: 'afad',
        sourceId: 'afad-20230206011734',
        magnitude: 7.4,
        magType: 'mw',
        lat: 37.288,
        lon: 37.043,
        depthKm: 8.6,
        status: 'automatic',
      },
      {
        atS: 8,
        source: 'emsc',
        sourceId: '20230206_0000008',
        magnitude: 7.7,
        magType: 'mw',
        lat: 37.23,
        lon: 37.02,
        depthKm: 10,
        status: 'reviewed',
      },
      {
        atS: 10,
        source: 'us',
        sourceId: 'us6000jllz',
        magnitude: 7.8,
        magType: 'mww',
        lat: 37.2199,
        lon: 37.0189,
        depthKm: 10,
        status: 'reviewed',
      },
    ],
  },
];

export function findStreamScenario(name: string): StreamScenario | undefined {
  return STREAM_SCENARIOS.find((x) => x.name === name);
}

/** Every scenario name `simulate`/`drill` accept. */
export function scenarioNames(): string[] {
  return [...SCENARIOS.map((x) => x.name), ...STREAM_SCENARIOS.map((x) => x.name)];
}

/**
 * The quakes of one stream step for the producer: drill, origin time = stream start − detection delay (one origin for
 * all solutions, as they describe one quake), update time = when the step is sent, ids made unique per run.
 */
export function streamStepQuake(
  step: StreamStep,
  scenario: StreamScenario,
  opts: { startedAt: number; sentAt: number; detectionDelayS?: number; runTag: string },
): Quake {
  const delayMs = Math.round((opts.detectionDelayS ?? DEFAULT_DETECTION_DELAY_S) * 1000);
  const id = `${step.sourceId}-drill-${opts.runTag}`;
  return {
    id,
    source: step.source,
    sourceIds: [id],
    originTime: opts.startedAt - delayMs,
    lat: step.lat,
    lon: step.lon,
    depthKm: step.depthKm,
    magnitude: step.magnitude,
    magType: step.magType,
    place: scenario.place,
    updatedAt: opts.sentAt,
    status: step.status,
    kind: 'earthquake',
    drill: true,
  };
}
