import { describe, expect, it } from 'vitest';
import { buildReport, drillPassed, percentile, sArrivalAt } from '../../shared/drill/report.ts';
import { findScenario, scenarioQuake } from '../../shared/drill/scenarios.ts';
import type { EventRecord } from '../../shared/events/types.ts';

const acceptedAt = Date.UTC(2026, 0, 1, 12);
const quake = scenarioQuake(findScenario('vrancea-1977'), { now: acceptedAt, detectionDelayS: 5 });
const record = (over: Partial<EventRecord> = {}): EventRecord => ({
  eventId: quake.id,
  quake,
  updatedAt: quake.updatedAt,
  acceptedAt,
  state: 'complete',
  strategy: 'geo',
  total: 10,
  doneCount: 10,
  eligible: 3,
  delivered: 3,
  failed: 0,
  firstDeliveryAt: acceptedAt + 150,
  lastDeliveryAt: acceptedAt + 900,
  radiusKm: 300,
  ...over,
});
// Bucharest (~160 km away: S wave ≈ 44 s after origin, ak135) and a site right above the hypocentre (94 km deep: ≈ 23 s).
const sites = [
  { id: 'buc', lat: 44.43, lon: 26.1 },
  { id: 'above', lat: 45.77, lon: 26.76 },
  { id: 'iasi', lat: 47.16, lon: 27.6 },
];

describe('percentile', () => {
  it('is nearest-rank', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([10], 99)).toBe(10);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 99)).toBe(4);
    expect(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        99,
      ),
    ).toBe(99);
  });
});

describe('buildReport', () => {
  it('measures at the receiver, from acceptance, with the before-shaking share per subscriber', () => {
    const aboveS = sArrivalAt(quake, sites[1]);
    expect(aboveS - quake.originTime).toBeGreaterThan(22_000);
    const receipts = [
      { subscriberId: 'above', receivedAt: aboveS + 1000 }, // late: shaking had begun
      { subscriberId: 'buc', receivedAt: acceptedAt + 400 },
      { subscriberId: 'iasi', receivedAt: acceptedAt + 200 },
    ];
    const r = buildReport({
      eventId: quake.id,
      quake,
      record: record(),
      receipts,
      duplicates: 2,
      eligibleSites: sites,
    });
    expect(r).toMatchObject({
      measuredAt: 'receiver',
      eligible: 3,
      delivered: 3,
      duplicates: 2,
      missing: 0,
      firstDeliveryMs: 200,
      lastDeliveryMs: aboveS + 1000 - acceptedAt,
      p50DeliveryMs: 400,
      notifiedBeforeShakingPct: 66.7,
      segments: { total: 10, done: 10 },
      complete: true,
    });
    expect(drillPassed(r)).toBe(true);
  });

  it('counts eligible subscribers the receiver never saw as missing, and fails the drill', () => {
    const r = buildReport({
      eventId: quake.id,
      quake,
      record: record(),
      receipts: [{ subscriberId: 'buc', receivedAt: acceptedAt + 300 }],
      eligibleSites: sites,
    });
    expect(r).toMatchObject({ delivered: 1, missing: 2, notifiedBeforeShakingPct: 33.3 });
    expect(drillPassed(r)).toBe(false);
  });

  it("falls back to the sender's counters without a receiver", () => {
    const r = buildReport({ eventId: quake.id, quake, record: record() });
    expect(r).toMatchObject({
      measuredAt: 'sender',
      delivered: 3,
      duplicates: null,
      firstDeliveryMs: 150,
      lastDeliveryMs: 900,
      notifiedBeforeShakingPct: null,
      ratePerS: 4,
    });
    expect(drillPassed(r)).toBe(true);
  });

  it('subscribers pointing at receivers of their own: delivered is what the pipeline says they acknowledged', () => {
    const foreign = sites.map((x) => ({ ...x, viaSink: false }));
    const r = buildReport({ eventId: quake.id, quake, record: record(), receipts: [], eligibleSites: foreign });
    expect(r).toMatchObject({ measuredAt: 'sender', delivered: 3, eligible: 3, missing: null, eligibleAtSink: 0 });
    expect(drillPassed(r)).toBe(true);
    // A drill whose pipeline acknowledged fewer than were eligible still fails.
    expect(
      drillPassed(
        buildReport({
          eventId: quake.id,
          quake,
          record: record({ delivered: 2 }),
          receipts: [],
          eligibleSites: foreign,
        }),
      ),
    ).toBe(false);
  });

  it('some at the sink, some elsewhere: the sink measures only its own, the pipeline counts all', () => {
    const mixed = [sites[0], { ...sites[1], viaSink: false }, { ...sites[2], viaSink: false }];
    const r = buildReport({
      eventId: quake.id,
      quake,
      record: record(),
      receipts: [{ subscriberId: 'buc', receivedAt: acceptedAt + 300 }],
      eligibleSites: mixed,
    });
    expect(r).toMatchObject({
      measuredAt: 'receiver',
      delivered: 3,
      receivedAtSink: 1,
      eligibleAtSink: 1,
      missing: 0,
      notifiedBeforeShakingPct: 100,
    });
    expect(drillPassed(r)).toBe(true);
  });

  it('fails an incomplete event', () => {
    const r = buildReport({ eventId: quake.id, quake, record: record({ state: 'running', doneCount: 4 }) });
    expect(r.complete).toBe(false);
    expect(drillPassed(r)).toBe(false);
  });
});

describe('per-band table', () => {
  const marmara = scenarioQuake(findScenario('marmara-istanbul'), { now: acceptedAt, detectionDelayS: 5 });
  const at = (km: number, id: string) => {
    // Due north of the epicentre: 1° of latitude ≈ 111.2 km.
    return { id, lat: marmara.lat + km / 111.2, lon: marmara.lon };
  };
  it('counts before-S shares outside the blind zone by epicentral band', () => {
    const sites = [at(5, 'blind'), at(15, 'near-late'), at(18, 'near-early'), at(30, 'mid'), at(70, 'far')];
    const first = acceptedAt + 100;
    const receipts = [
      { subscriberId: 'blind', receivedAt: first },
      { subscriberId: 'near-late', receivedAt: sArrivalAt(marmara, sites[1]) + 1 },
      { subscriberId: 'near-early', receivedAt: sArrivalAt(marmara, sites[2]) - 1 },
      { subscriberId: 'mid', receivedAt: sArrivalAt(marmara, sites[3]) - 1000 },
      { subscriberId: 'far', receivedAt: sArrivalAt(marmara, sites[4]) + 5 },
    ];
    const r = buildReport({
      eventId: marmara.id,
      quake: marmara,
      record: record({ acceptedAt, quake: marmara }),
      receipts,
      eligibleSites: sites,
    });
    // The 5 km site's S wave arrived (≈ 3.8 s after origin) before the first notification (5.1 s): blind zone.
    expect(r.bands).toEqual([
      { fromKm: 0, toKm: 20, eligible: 3, outsideBlind: 2, beforeS: 1, pct: 50 },
      { fromKm: 20, toKm: 40, eligible: 1, outsideBlind: 1, beforeS: 1, pct: 100 },
      { fromKm: 40, toKm: 60, eligible: 0, outsideBlind: 0, beforeS: 0, pct: null },
      { fromKm: 60, toKm: 80, eligible: 1, outsideBlind: 1, beforeS: 0, pct: 0 },
    ]);
    expect(r.p90DeliveryMs).not.toBeNull();
  });
});

describe('the drill report names the population it ran on', () => {
  it('prints a warning line when the drill ran on another population than the one asked for, none otherwise', async () => {
    const { renderReport } = await import('../../cli/commands/simulate.ts');
    const r = buildReport({
      eventId: quake.id,
      quake,
      record: record(),
      receipts: sites.map((s) => ({ subscriberId: s.id, receivedAt: acceptedAt + 300 })),
      duplicates: 0,
      eligibleSites: sites,
    });
    expect(renderReport(r)).not.toMatch(/population:/);
    r.population = { asked: '100000 subscribers within 80 km of X, seed 1', found: 'same', subscribers: 100_000 };
    expect(renderReport(r)).not.toMatch(/population:/);
    r.population = {
      asked: '100000 subscribers within 80 km of X, seed 1',
      found: 'other',
      subscribers: 3,
      reason: '3 subscribers, not 100000',
    };
    expect(renderReport(r)).toMatch(
      /population: not the one asked for \(100000 subscribers within 80 km of X, seed 1\): 3 subscribers, not 100000; --reseed replaces it/,
    );
  });
});
