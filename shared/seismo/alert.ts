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
