/** The measured fan-out rate (shared/fanout/rate.ts): which completed fan-outs count, and what the planner uses. */
import { describe, expect, it } from 'vitest';
import {
  expectedRateFor,
  MIN_RATE_SECONDS,
  MIN_RATE_SUBSCRIBERS,
  measureRate,
  RATE_SIZE_RATIO,
  type RateObservation,
  type UnitProgress,
} from '../../shared/fanout/rate.ts';
import { fanoutSchema } from '../../shared/infra/config.ts';

const completed = {
  eventId: 'ev-1',
  state: 'complete' as const,
  revision: 1,
  mode: 'alert' as const,
  strategy: 'geo' as const,
  failed: 0,
  firstDeliveryAt: 1_000_000,
  completedAt: 1_030_000,
};

/** `n` units of `each` eligible, the k-th sent at first delivery + (k+1)·stepMs. */
const steady = (n: number, each: number, stepMs: number): UnitProgress[] =>
  Array.from({ length: n }, (_, k) => ({ eligible: each, sentAt: completed.firstDeliveryAt + (k + 1) * stepMs }));

describe('measureRate', () => {
  it('eligible subscribers handed to their channels per second, until 90% of them were sent', () => {
    // 20 units of 2,500 (50,000), one every 200 ms: 45,000 (90%) by 3.6 s.
    expect(measureRate(completed, steady(20, 2500, 200))).toEqual({
      rate: 12_500,
      subscribers: 45_000,
      seconds: 3.6,
      eventId: 'ev-1',
      drill: false,
      at: 1_030_000,
    });
    expect(measureRate({ ...completed, quake: { drill: true } }, steady(20, 2500, 200))).toMatchObject({ drill: true });
    // Any order of units; units with nobody eligible (or no lock) add nothing.
    const shuffled = [...steady(20, 2500, 200)].reverse().concat([{ eligible: 0 }, {}]);
    expect(measureRate(completed, shuffled)).toMatchObject({ rate: 12_500 });
  });

  it('a straggler after 90% does not drag the rate: a crashed unit waiting out its lease, the sweep', () => {
    const units = steady(19, 2500, 200);
    units.push({ eligible: 2500, sentAt: completed.firstDeliveryAt + 34_000 });
    expect(measureRate(completed, units)).toMatchObject({ rate: 12_500, subscribers: 45_000, seconds: 3.6 });
  });

  it('a unit is counted when sent, not when its paced channels settle (sentAt before updatedAt)', () => {
    // Every unit's SMS tail settles 20 s after it was sent: the chains' pace is unchanged.
    const units = steady(20, 2500, 200).map((u) => ({ ...u, updatedAt: (u.sentAt ?? 0) + 20_000 }));
    expect(measureRate(completed, units)).toMatchObject({ rate: 12_500 });
    // A lock without sentAt (written before it) counts at its last write.
    expect(measureRate(completed, [{ eligible: 20_000, updatedAt: completed.firstDeliveryAt + 2000 }])).toMatchObject({
      rate: 10_000,
      seconds: 2,
    });
  });

  it('counts only a first revision’s completed geo alert run with nothing failed, large and long enough', () => {
    const units = steady(20, 2500, 200);
    const skipped = (e: Record<string, unknown>, u: UnitProgress[] = units) =>
      (measureRate({ ...completed, ...e } as never, u) as { skipped?: string }).skipped;
    expect(skipped({ state: 'running' })).toMatch(/state running/);
    expect(skipped({ state: 'retracted' })).toMatch(/state retracted/);
    expect(skipped({ revision: 2 })).toMatch(/re-plan/);
    expect(skipped({ mode: 'cancel' })).toMatch(/cancellation/);
    expect(skipped({ strategy: 'scan' })).toMatch(/scan strategy/);
    expect(skipped({ failed: 3 })).toMatch(/3 failed notifications/);
    expect(skipped({ firstDeliveryAt: undefined })).toMatch(/no first delivery time/);
    expect(skipped({}, [...units, { eligible: 5 }])).toMatch(/a unit without a time/);
    // At the edges of the rule: 10,000 eligible over 1 s count; one fewer, or a millisecond less, do not.
    expect(measureRate(completed, steady(10, MIN_RATE_SUBSCRIBERS / 10, 1000 / 9))).toMatchObject({
      subscribers: 9000,
      seconds: 1,
    });
    expect(skipped({}, [{ eligible: MIN_RATE_SUBSCRIBERS - 1, sentAt: completed.firstDeliveryAt + 5000 }])).toMatch(
      /9999 eligible subscribers/,
    );
    const justUnder = [{ eligible: 20_000, sentAt: completed.firstDeliveryAt + MIN_RATE_SECONDS * 1000 - 1 }];
    expect(skipped({}, justUnder)).toMatch(/0.999 s/);
    // A lowered rule still refuses a zero span (no infinite rate).
    expect(
      measureRate(completed, [{ eligible: 5, sentAt: completed.firstDeliveryAt }], {
        minSubscribers: 1,
        minSeconds: 0,
      }),
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

  it('real events’ rates before drills’ (a drill’s receivers are not the real ones); drills’ when there is no other', () => {
    const drill = { ...obs(40_000), drill: true };
    expect(expectedRateFor({ P4: [drill, obs(12_000)] }, 4, 20_000, true)).toEqual({
      rate: 12_000,
      source: 'measured',
      observations: [obs(12_000)],
    });
    expect(expectedRateFor({ P4: [drill] }, 4, 20_000, true).rate).toBe(40_000);
  });

  it('for a fan-out of a given size, the rates measured on runs at least a quarter of its size, when there are any', () => {
    const small = { ...obs(30_000), subscribers: 50_000 };
    const large = { ...obs(15_000), subscribers: 900_000 };
    const h = { P4: [small, large] };
    // A million: only the 900,000 run is of its size; 200,000: both are (50,000 × 4), the largest wins.
    expect(expectedRateFor(h, 4, 20_000, true, 1_000_000)).toEqual({
      rate: 15_000,
      source: 'measured',
      observations: [large],
    });
    expect(expectedRateFor(h, 4, 20_000, true, RATE_SIZE_RATIO * 50_000).rate).toBe(30_000);
    expect(expectedRateFor(h, 4, 20_000, true, RATE_SIZE_RATIO * 50_000 + 1).rate).toBe(15_000);
    // Nothing of its size: the largest of all (nothing better known; too low is the costly side).
    expect(expectedRateFor({ P4: [small] }, 4, 20_000, true, 5_000_000).rate).toBe(30_000);
    // Without a size: the largest.
    expect(expectedRateFor(h, 4, 20_000, true).rate).toBe(30_000);
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
