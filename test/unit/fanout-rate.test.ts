/** The measured fan-out rate (shared/fanout/rate.ts): which completed fan-outs count, and what the planner uses. */
import { describe, expect, it } from 'vitest';
import {
  expectedRateFor,
  MIN_RATE_SECONDS,
  MIN_RATE_SUBSCRIBERS,
  measureRate,
  type RateObservation,
} from '../../shared/fanout/rate.ts';
import { fanoutSchema } from '../../shared/infra/config.ts';

const completed = {
  eventId: 'ev-1',
  state: 'complete' as const,
  revision: 1,
  mode: 'alert' as const,
  firstDeliveryAt: 1_000_000,
  lastDeliveryAt: 1_004_000,
  completedAt: 1_004_500,
};

describe('measureRate', () => {
  it('planned subscribers over the seconds from first to last delivery', () => {
    expect(measureRate(completed, 50_000)).toEqual({
      rate: 12_500,
      subscribers: 50_000,
      seconds: 4,
      eventId: 'ev-1',
      drill: false,
      at: 1_004_500,
    });
    expect(measureRate({ ...completed, quake: { drill: true } }, 50_000)).toMatchObject({ drill: true });
  });

  it('counts only a first revision’s completed alert run, large and long enough', () => {
    const skipped = (e: Partial<typeof completed> & Record<string, unknown>, n = 50_000) =>
      (measureRate({ ...completed, ...e } as never, n) as { skipped?: string }).skipped;
    expect(skipped({ state: 'running' as never })).toMatch(/state running/);
    expect(skipped({ state: 'retracted' as never })).toMatch(/state retracted/);
    expect(skipped({ revision: 2 })).toMatch(/re-plan/);
    expect(skipped({ mode: 'cancel' as never })).toMatch(/cancellation/);
    expect(skipped({ firstDeliveryAt: undefined })).toMatch(/no delivery times/);
    expect(skipped({ lastDeliveryAt: undefined })).toMatch(/no delivery times/);
    // At the edges of the rule: 10,000 planned subscribers over 1 s count, one fewer or a millisecond less do not.
    expect(measureRate(completed, MIN_RATE_SUBSCRIBERS)).toMatchObject({ rate: 2500 });
    expect(skipped({}, MIN_RATE_SUBSCRIBERS - 1)).toMatch(/9999 planned subscribers/);
    const oneSecond = { firstDeliveryAt: 0, lastDeliveryAt: MIN_RATE_SECONDS * 1000 };
    expect(measureRate({ ...completed, ...oneSecond }, 20_000)).toMatchObject({ rate: 20_000, seconds: 1 });
    expect(skipped({ firstDeliveryAt: 1, lastDeliveryAt: 1000 })).toMatch(/0.999 s/);
    // A lowered rule still refuses a zero or negative span (no infinite rate).
    expect(
      measureRate({ ...completed, lastDeliveryAt: completed.firstDeliveryAt }, 5, { minSubscribers: 1, minSeconds: 0 }),
    ).toMatchObject({ skipped: expect.stringMatching(/0 s/) });
  });
});

describe('expectedRateFor', () => {
  const obs = (rate: number): RateObservation => ({
    rate,
    subscribers: 50_000,
    seconds: 50_000 / rate,
    eventId: `e${rate}`,
    drill: false,
    at: 0,
  });
  const history = { P4: [obs(9_000), obs(14_000), obs(11_000)], P8: [obs(30_000)] };

  it('the largest measured at the same parallelism (too high defers nothing; too low defers the warnable)', () => {
    expect(expectedRateFor(history, 4, 20_000, true)).toEqual({
      rate: 14_000,
      source: 'measured',
      observations: history.P4,
    });
    expect(expectedRateFor(history, 8, 20_000, true).rate).toBe(30_000);
  });

  it('the setting when none was measured at this parallelism, when measuring is off, or nothing is stored', () => {
    expect(expectedRateFor(history, 2, 20_000, true)).toEqual({ rate: 20_000, source: 'setting', observations: [] });
    expect(expectedRateFor(history, 4, 20_000, false)).toEqual({ rate: 20_000, source: 'setting', observations: [] });
    expect(expectedRateFor(undefined, 4, 7_000, true)).toMatchObject({ rate: 7_000, source: 'setting' });
    expect(expectedRateFor({ P4: [] }, 4, 7_000, true)).toMatchObject({ rate: 7_000, source: 'setting' });
  });

  it('a setting of 0 turns the deferral off whatever was measured', () => {
    expect(expectedRateFor(history, 4, 0, true)).toEqual({ rate: 0, source: 'off', observations: [] });
  });

  it('the profile measures by default', () => {
    expect(fanoutSchema.parse({}).measureRate).toBe(true);
    expect(() => fanoutSchema.parse({ measureRate: 'yes' })).toThrow();
  });
});
