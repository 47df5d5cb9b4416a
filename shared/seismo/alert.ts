/** Alert level per site from predicted MMI (issue 4): take-action at MMI 5 and above, be-aware at 3–4, none below. */

export type AlertLevel = 'take-action' | 'be-aware' | 'none';

export interface AlertThresholds {
  /** Minimum MMI for `take-action`. */
  takeAction: number;
  /** Minimum MMI for `be-aware`. */
  beAware: number;
}

export const DEFAULT_ALERT_THRESHOLDS: AlertThresholds = { takeAction: 5, beAware: 3 };

/**
 * Compares the continuous predicted MMI with the thresholds as is (no rounding), so that a site gets a level exactly
 * when it lies inside `footprintRadiusKm(quake, threshold)`: fan-out planning and per-site decisions agree.
 */
export function alertLevel(mmi: number, thresholds: AlertThresholds = DEFAULT_ALERT_THRESHOLDS): AlertLevel {
  if (!Number.isFinite(mmi)) return 'none';
  if (mmi >= thresholds.takeAction) return 'take-action';
  if (mmi >= thresholds.beAware) return 'be-aware';
  return 'none';
}

const RANK: Record<AlertLevel, number> = { none: 0, 'be-aware': 1, 'take-action': 2 };

/** For updates: re-alert only subscribers whose level rises (system.md section 3). */
export function levelRises(previous: AlertLevel, next: AlertLevel): boolean {
  return RANK[next] > RANK[previous];
}

// ---- uncertainty in the alert decision ------------------------------------------------------------------------

/**
 * Default alert probability: alert a subscriber when the probability that their threshold is reached is at least 30 %.
 * Below 50 % on purpose: a missed alert (shaking at or above the threshold, no alert) costs more than a false one, and
 * ShakeAlert likewise alerts below its target intensity because every intensity estimate carries σ ≈ 0.6–1 MMI unit
 * (Given et al. 2018, USGS Open-File Report 2018-1155, "Revised technical implementation plan for the ShakeAlert
 * system"). With σ ≈ 0.7 this alerts from about 0.35 unit below the threshold. The validation in docs/seismology.md
 * shows missed and false take-action at this level and at others (`node bench/vrancea-validation.ts`).
 */
export const DEFAULT_ALERT_PROBABILITY = 0.3;

export interface AlertPolicy {
  /** Alert when P(MMI ≥ threshold) ≥ this (0 < p < 1; 0.5 is "median prediction reaches the threshold"). */
  probability: number;
  thresholds: AlertThresholds;
}

export const DEFAULT_ALERT_POLICY: AlertPolicy = {
  probability: DEFAULT_ALERT_PROBABILITY,
  thresholds: DEFAULT_ALERT_THRESHOLDS,
};

/**
 * Standard normal cumulative distribution Φ(x), through the complementary error function `erfcc` of Numerical Recipes
 * (Press et al., 2nd ed., §6.2: Chebyshev fit, fractional error < 1.2e-7 everywhere).
 */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const erfc =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/**
 * Inverse of Φ (the standard normal quantile) for 0 < p < 1, by Acklam's rational approximation refined with one
 * Halley step on `normalCdf` (relative error < 1e-9 in the central region). Throws RangeError outside (0, 1).
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`probability ${p} is not in (0, 1)`);
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  let x: number;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    x =
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - lo) {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
      (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x =
      -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const e = normalCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

/**
 * Probability (0–1) that the intensity at a site reaches `threshold`, when the prediction is `predictedMmi` with a
 * normal scatter of `sigma` MMI units (the equations' residuals are close to normal in MMI, e.g. Allen, Wald & Worden
 * 2012): P = 1 − Φ((threshold − predictedMmi) / sigma). σ ≤ 0 means certainty (0 or 1). NaN prediction gives 0.
 */
export function exceedanceProbability(predictedMmi: number, threshold: number, sigma: number): number {
  if (Number.isNaN(predictedMmi)) return 0;
  if (!(sigma > 0)) return predictedMmi >= threshold ? 1 : 0;
  return 1 - normalCdf((threshold - predictedMmi) / sigma);
}

/**
 * How far below a threshold (MMI units) the median prediction may lie and still be alerted under `probability`:
 * σ·Φ⁻¹(1 − p). Positive below p = 0.5. Precompute it per event and compare `predictedMmi ≥ threshold − margin`:
 * the same decision as `exceedanceProbability(...) ≥ p` without a Φ per subscriber.
 */
export function alertMarginMmi(sigma: number, probability: number): number {
  if (!(sigma > 0)) return 0;
  return sigma * normalQuantile(1 - probability);
}

/**
 * Alert level under the uncertainty policy: `take-action` when P(MMI ≥ takeAction) ≥ p, `be-aware` when
 * P(MMI ≥ beAware) ≥ p, else `none`. With p = 0.5 this equals `alertLevel(predictedMmi)`.
 */
export function alertLevelWithUncertainty(
  predictedMmi: number,
  sigma: number,
  policy: AlertPolicy = DEFAULT_ALERT_POLICY,
): AlertLevel {
  if (!Number.isFinite(predictedMmi)) return 'none';
  const p = policy.probability;
  if (exceedanceProbability(predictedMmi, policy.thresholds.takeAction, sigma) >= p) return 'take-action';
  if (exceedanceProbability(predictedMmi, policy.thresholds.beAware, sigma) >= p) return 'be-aware';
  return 'none';
}

/** Whether a subscriber with threshold `minMmi` is notified under the policy: P(MMI ≥ minMmi) ≥ p. */
export function shouldNotify(predictedMmi: number, sigma: number, minMmi: number, probability: number): boolean {
  return exceedanceProbability(predictedMmi, minMmi, sigma) >= probability;
}
