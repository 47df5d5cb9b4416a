import { describe, expect, it } from 'vitest';
import { CITIES } from '../../shared/drill/cities.ts';
import { findScenario, SCENARIOS, scenarioQuake } from '../../shared/drill/scenarios.ts';
import { seedSubscribers } from '../../shared/drill/seed.ts';
import { subscriberSchema } from '../../shared/segments/index.ts';
import { haversineKm } from '../../shared/seismo/index.ts';

const vrancea = { lat: 45.77, lon: 26.76 };

describe('seedSubscribers', () => {
  it('is reproducible from its seed and valid', () => {
    const a = seedSubscribers({ count: 500, center: vrancea, radiusKm: 250, seed: 7 });
    const b = seedSubscribers({ count: 500, center: vrancea, radiusKm: 250, seed: 7 });
    const c = seedSubscribers({ count: 500, center: vrancea, radiusKm: 250, seed: 8 });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(new Set(a.map((s) => s.id)).size).toBe(500);
    for (const s of a) expect(subscriberSchema.safeParse(s).success).toBe(true);
  });

  it('keeps everyone inside the disk', () => {
    const subs = seedSubscribers({ count: 2000, center: vrancea, radiusKm: 120, seed: 1 });
    const far = subs.filter((s) => haversineKm(vrancea.lat, vrancea.lon, s.lat, s.lon) > 120.01);
    expect(far).toEqual([]);
  });

  it('puts more people near big cities than a uniform spread would', () => {
    const opts = { count: 5000, center: vrancea, radiusKm: 250, seed: 3 };
    const bucharest = CITIES.find((c) => c.name === 'București')!;
    const near = (list: { lat: number; lon: number }[]) =>
      list.filter((s) => haversineKm(bucharest.lat, bucharest.lon, s.lat, s.lon) < 20).length;
    const byPopulation = near(seedSubscribers(opts));
    const uniform = near(seedSubscribers({ ...opts, placement: 'uniform' }));
    expect(byPopulation).toBeGreaterThan(5 * Math.max(uniform, 1));
  });

  it('gives webhook channels with the secret, or log channels, and local languages', () => {
    const subs = seedSubscribers({
      count: 200,
      center: vrancea,
      radiusKm: 200,
      webhook: 'http://127.0.0.1:19080/hook',
      secret: 'k',
    });
    expect(subs.every((s) => s.channel.type === 'webhook' && s.channel.secret === 'k')).toBe(true);
    expect(subs.filter((s) => s.locale === 'ro').length).toBeGreaterThan(150);
    const logs = seedSubscribers({ count: 3, center: vrancea, radiusKm: 10 });
    expect(logs.every((s) => s.channel.type === 'log')).toBe(true);
  });
});

describe('scenarios', () => {
  it('ships the historical events with their published parameters', () => {
    expect(findScenario('vrancea-1977')).toMatchObject({ magnitude: 7.4, lat: 45.77, lon: 26.76, depthKm: 94 });
    expect(findScenario('vrancea-1990')).toMatchObject({ magnitude: 6.9, depthKm: 89 });
    expect(findScenario('kahramanmaras-2023')).toMatchObject({ magnitude: 7.8, lat: 37.2199, lon: 37.0189 });
    expect(() => findScenario('atlantis')).toThrow(/known: vrancea-1977/);
    for (const name of ['vrancea-1977', 'vrancea-1990', 'kahramanmaras-2023']) {
      expect(findScenario(name).historicalOrigin).toMatch(/^\d{4}-\d\d-\d\dT/);
    }
    expect(new Set(SCENARIOS.map((s) => s.name)).size).toBe(SCENARIOS.length);
  });

  it('ships the İstanbul planning scenario: shallow, about 30 km from the city, no historical origin', () => {
    const s = findScenario('marmara-istanbul');
    expect(s).toMatchObject({ magnitude: 7.2, depthKm: 12 });
    expect(s.historicalOrigin).toBeUndefined();
    const city = CITIES.find((c) => c.name === 'İstanbul')!;
    const km = haversineKm(s.lat, s.lon, city.lat, city.lon);
    expect(km).toBeGreaterThan(25);
    expect(km).toBeLessThan(35);
  });

  it('makes a drill that happened a detection delay before now', () => {
    const now = Date.UTC(2026, 0, 1);
    const q = scenarioQuake(findScenario('vrancea-1977'), { now, detectionDelayS: 6 });
    expect(q).toMatchObject({
      drill: true,
      originTime: now - 6000,
      updatedAt: now,
      source: 'drill',
      kind: 'earthquake',
    });
    expect(q.id).toMatch(/^drill-vrancea-1977-/);
    expect(q.sourceIds).toEqual([q.id]);
  });
});
