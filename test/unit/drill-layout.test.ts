/** The drill's choice of population (shared/drill/layout.ts): pure decisions, no services. */
import { describe, expect, it } from 'vitest';
import { drillPopulation, type LayoutState, populationAction } from '../../shared/drill/layout.ts';
import { intFromEnv, portFromEnv, sinkPort } from '../../shared/drill/receiver.ts';
import { DEFAULT_DRILL_POPULATION, findScenario } from '../../shared/drill/scenarios.ts';

const other: LayoutState = { kind: 'other', subscribers: 50_000, reason: '50000 subscribers, not 100000' };
const base = { reseed: false, explicit: [] as string[], channels: false, describe: '100000 subscribers within 80 km' };

describe('populationAction', () => {
  it('seeds an empty table, with or without --reseed', () => {
    expect(populationAction({ kind: 'empty' }, base)).toEqual({ kind: 'seed' });
    expect(populationAction({ kind: 'empty' }, { ...base, reseed: true, channels: true })).toEqual({ kind: 'seed' });
  });

  it('uses the population asked for as it is, and replaces it when told to', () => {
    expect(populationAction({ kind: 'same', subscribers: 100_000 }, base)).toEqual({ kind: 'use' });
    expect(populationAction({ kind: 'same', subscribers: 100_000 }, { ...base, channels: true })).toEqual({
      kind: 'use',
    });
    // --reseed replaces even what looks the same: the check is a sample, and this is how a table changed by hand
    // between the sampled ids is mended.
    expect(populationAction({ kind: 'same', subscribers: 1 }, { ...base, reseed: true })).toEqual({ kind: 'reseed' });
  });

  it('replaces another population with --reseed', () => {
    expect(populationAction(other, { ...base, reseed: true, explicit: ['--subscribers'] })).toEqual({
      kind: 'reseed',
    });
  });

  it('refuses another population when the operator named one, saying which flags and how to replace it', () => {
    const a = populationAction(other, { ...base, explicit: ['--subscribers', '--radius-km'] });
    expect(a.kind).toBe('refuse');
    const msg = (a as { message: string }).message;
    expect(msg).toMatch(
      /holds 50000 subscribers that are not the population asked for \(100000 subscribers within 80 km\)/,
    );
    expect(msg).toMatch(/50000 subscribers, not 100000/);
    expect(msg).toMatch(/--reseed/);
    expect(msg).toMatch(/leave out --subscribers, --radius-km/);
  });

  it('refuses another population for a channel drill, which would move it', () => {
    const a = populationAction(other, { ...base, channels: true });
    expect(a).toMatchObject({ kind: 'refuse' });
    expect((a as { message: string }).message).toMatch(
      /--channels gives channels only to the drill's own population, never to other subscribers: add --reseed/,
    );
  });

  it("drills with another population (an operator's own) when none was named, and warns", () => {
    const a = populationAction(other, base);
    expect(a).toMatchObject({ kind: 'use' });
    expect((a as { warning: string }).warning).toMatch(/drilling with them \(--reseed replaces them/);
  });
});

describe('drillPopulation', () => {
  const none = () => false;

  it("takes a scenario's own population (the city: 100,000 within 80 km) and the default elsewhere", () => {
    const city = drillPopulation({ seed: 1 }, none, findScenario('marmara-istanbul'));
    expect(city.layout).toEqual({ count: 100_000, radiusKm: 80, seed: 1, center: { lat: 40.8, lon: 28.75 } });
    expect(city.explicit).toEqual([]);
    const vrancea = drillPopulation({ seed: 1 }, none, findScenario('vrancea-1977'));
    expect(vrancea.layout).toMatchObject({
      count: DEFAULT_DRILL_POPULATION.subscribers,
      radiusKm: DEFAULT_DRILL_POPULATION.radiusKm,
    });
    expect(vrancea.describe).toBe('50000 subscribers within 250 km of Vrancea, 4 March 1977, seed 1');
  });

  it('lets the flags win and names the ones given', () => {
    const p = drillPopulation(
      { subscribers: 5000, radiusKm: 30, seed: 7 },
      (k) => k !== 'radiusKm',
      findScenario('marmara-istanbul'),
    );
    expect(p.layout).toMatchObject({ count: 5000, radiusKm: 30, seed: 7 });
    expect(p.explicit).toEqual(['--subscribers', '--seed']);
  });
});

describe("the drill receivers' ports from the environment", () => {
  it('takes a valid port, the default when unset, and refuses anything else by name', () => {
    expect(sinkPort({})).toBe(19080);
    expect(sinkPort({ QUAKECTL_DRILL_SINK_PORT: '19099' })).toBe(19099);
    for (const bad of ['abc', '0', '70000', '19080.5', '-1']) {
      expect(() => sinkPort({ QUAKECTL_DRILL_SINK_PORT: bad })).toThrow(
        `QUAKECTL_DRILL_SINK_PORT="${bad}": expected a port from 1 to 65535`,
      );
    }
    expect(() => portFromEnv({ QUAKECTL_DRILL_PUSH_PORT: 'x' }, 'QUAKECTL_DRILL_PUSH_PORT', 19081)).toThrow(
      /QUAKECTL_DRILL_PUSH_PORT="x"/,
    );
    // A rate is not a port: 100,000 messages/s is a valid push limit, a negative one is refused as a rate.
    const rate = { min: 0, max: Number.MAX_SAFE_INTEGER, what: 'a whole number of messages per second' };
    expect(intFromEnv({ R: '100000' }, 'R', 0, rate)).toBe(100_000);
    expect(intFromEnv({}, 'R', 0, rate)).toBe(0);
    expect(() => intFromEnv({ R: '-1' }, 'R', 0, rate)).toThrow(
      'R="-1": expected a whole number of messages per second',
    );
  });
});
