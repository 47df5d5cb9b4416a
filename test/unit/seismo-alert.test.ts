import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FANOUT } from '../../shared/infra/config.ts';
import {
  alertLevel,
  alertLevelWithUncertainty,
  alertMarginMmi,
  DEFAULT_ALERT_PROBABILITY,
  DEFAULT_ALERT_THRESHOLDS,
  exceedanceProbability,
  normalCdf,
  normalQuantile,
  shouldNotify,
} from '../../shared/seismo/index.ts';

describe('normal distribution', () => {
  it('Φ at tabulated points (Abramowitz & Stegun table 26.1)', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 6);
    expect(normalCdf(1)).toBeCloseTo(0.841345, 6);
    expect(normalCdf(-1.959964)).toBeCloseTo(0.025, 6);
    expect(normalCdf(3)).toBeCloseTo(0.99865, 6);
  });

  it('the quantile inverts Φ; outside (0, 1) it throws', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-6, max: 1 - 1e-6, noNaN: true }), (p) => {
        expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 6);
      }),
    );
    expect(() => normalQuantile(0)).toThrow(RangeError);
    expect(() => normalQuantile(1.2)).toThrow(RangeError);
  });
});

describe('exceedance probability', () => {
  it('is 1 − Φ((T − μ)/σ): one σ below the threshold is 16 %, at it 50 %', () => {
    expect(exceedanceProbability(4, 5, 1)).toBeCloseTo(0.158655, 5);
    expect(exceedanceProbability(5, 5, 0.7)).toBeCloseTo(0.5, 6);
    expect(exceedanceProbability(6.4, 5, 0.7)).toBeCloseTo(0.97725, 4);
  });

  it('σ ≤ 0 is certainty; NaN predicts nothing', () => {
    expect(exceedanceProbability(5, 5, 0)).toBe(1);
    expect(exceedanceProbability(4.99, 5, 0)).toBe(0);
    expect(exceedanceProbability(Number.NaN, 5, 1)).toBe(0);
  });

  it('rises with the prediction and falls with the threshold', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1, max: 10, noNaN: true }),
        fc.double({ min: 1, max: 10, noNaN: true }),
        fc.double({ min: 0.1, max: 2, noNaN: true }),
        (mu, t, s) => {
          expect(exceedanceProbability(mu + 0.1, t, s)).toBeGreaterThanOrEqual(exceedanceProbability(mu, t, s));
          expect(exceedanceProbability(mu, t + 0.1, s)).toBeLessThanOrEqual(exceedanceProbability(mu, t, s));
        },
      ),
    );
  });
});

describe('alert policy', () => {
  it('probability 0.5 is the median rule (alertLevel)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1, max: 10, noNaN: true }),
        fc.double({ min: 0.1, max: 2, noNaN: true }),
        (mu, s) => {
          const policy = { probability: 0.5, thresholds: DEFAULT_ALERT_THRESHOLDS };
          // Away from the exact boundary (where Φ's approximation decides a tie).
          if (Math.abs(mu - 5) > 1e-6 && Math.abs(mu - 3) > 1e-6) {
            expect(alertLevelWithUncertainty(mu, s, policy)).toBe(alertLevel(mu));
          }
        },
      ),
    );
  });

  it('at 30 % with σ 0.7 a site predicted 4.7 gets take-action (ShakeAlert-like: alert below the target)', () => {
    expect(alertLevelWithUncertainty(4.7, 0.7)).toBe('take-action');
    expect(alertLevel(4.7)).toBe('be-aware');
    expect(alertLevelWithUncertainty(4.5, 0.7)).toBe('be-aware');
  });

  it('the margin gives the same decision as the probability, without Φ per subscriber', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1, max: 10, noNaN: true }),
        fc.double({ min: 1, max: 10, noNaN: true }),
        fc.double({ min: 0.2, max: 1.5, noNaN: true }),
        fc.double({ min: 0.05, max: 0.95, noNaN: true }),
        (mu, t, s, p) => {
          const byMargin = mu >= t - alertMarginMmi(s, p);
          // Equal except within numerical noise of the boundary.
          if (Math.abs(mu - (t - alertMarginMmi(s, p))) > 1e-6) expect(shouldNotify(mu, s, t, p)).toBe(byMargin);
        },
      ),
    );
  });

  it('the config default (fanout.alertProbability) is the seismology default', () => {
    expect(DEFAULT_FANOUT.alertProbability).toBe(DEFAULT_ALERT_PROBABILITY);
  });
});
