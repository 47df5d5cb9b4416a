/**
 * Published intensity and ground-motion equations, each as a pure function with its coefficients and its source.
 * MMI values here are unclipped; `intensity.ts` clips to 1–10.
 */

/**
 * Allen, Wald & Worden (2012), "Intensity attenuation for active crustal regions", J. Seismol. 16:409–433,
 * hypocentral-distance form (their eq. 2, table 3; also OpenQuake hazardlib `allen_2012_ipe.py`):
 *   MMI = c0 + c1·M + c2·ln(√(R_hyp² + R_M²)) + S,   R_M = m1 + m2·exp(M − 5)
 *   S = c4·ln(R_hyp / 50) for R_hyp > 50 km, else 0
 * Fitted to a global set of active-crust intensity data, M 5–7.9, R up to 300 km (usable further with care).
 */
export const AWW12_HYP = { c0: 2.085, c1: 1.428, c2: -1.402, c4: 0.078, m1: -0.209, m2: 2.042 } as const;

export function aww12Hypocentral(m: number, rHypKm: number): number {
  const { c0, c1, c2, c4, m1, m2 } = AWW12_HYP;
  const rm = m1 + m2 * Math.exp(m - 5);
  const s = rHypKm > 50 ? c4 * Math.log(rHypKm / 50) : 0;
  return c0 + c1 * m + c2 * Math.log(Math.sqrt(rHypKm * rHypKm + rm * rm)) + s;
}

/**
 * Allen, Wald & Worden (2012), rupture-distance form (their eq. 1, table 2):
 *   MMI = c0 + c1·M + c2·ln(√(R_rup² + (1 + c3·exp(M − 5))²))
 * For large events (M 7.5+) with a known rupture, point-source distance badly overstates the distance of sites near
 * the fault's far end; this form uses the closest distance to the rupture plane instead.
 */
export const AWW12_RUP = { c0: 3.95, c1: 0.913, c2: -1.107, c3: 0.813 } as const;

export function aww12Rupture(m: number, rRupKm: number): number {
  const { c0, c1, c2, c3 } = AWW12_RUP;
  const near = 1 + c3 * Math.exp(m - 5);
  return c0 + c1 * m + c2 * Math.log(Math.sqrt(rRupKm * rRupKm + near * near));
}

/**
 * Atkinson & Wald (2007), "'Did You Feel It?' intensity data: a surprisingly good measure of earthquake ground
 * motion", Seismol. Res. Lett. 78:362–368 (as used by USGS ShakeMap):
 *   MMI = c1 + c2(M−6) + c3(M−6)² + c4·log10 R + c5·R + c6·B + c7·M·log10 R
 *   R = √(D² + h²) with D the rupture (≈ epicentral) distance, B = max(0, log10(R / Rt))
 * California and central/eastern US (CEUS) coefficient sets. Kept for comparison and as an option: the CEUS set
 * attenuates less and is the better of the two on deep Vrancea events (reference-notes).
 */
export const AW07_CA = {
  c1: 12.27,
  c2: 2.27,
  c3: 0.1304,
  c4: -1.3,
  c5: -0.000707,
  c6: 1.95,
  c7: -0.577,
  h: 14,
  rt: 30,
};
export const AW07_CEUS = {
  c1: 11.72,
  c2: 2.36,
  c3: 0.1155,
  c4: -0.44,
  c5: -0.002044,
  c6: 2.31,
  c7: -0.479,
  h: 17,
  rt: 80,
};
export type Aw07Coefficients = typeof AW07_CA;

export function aw07(m: number, distanceKm: number, c: Aw07Coefficients): number {
  const r = Math.sqrt(distanceKm * distanceKm + c.h * c.h);
  const logR = Math.log10(r);
  const b = Math.max(0, Math.log10(r / c.rt));
  const dm = m - 6;
  return c.c1 + c.c2 * dm + c.c3 * dm * dm + c.c4 * logR + c.c5 * r + c.c6 * b + c.c7 * m * logR;
}

/**
 * Vacareanu, Radulian, Iancovici, Pavel & Neagu (2015), "Fore-arc and back-arc ground motion prediction model for
 * Vrancea intermediate depth seismic source", J. Earthq. Eng. 19:535–562, PGA model:
 *   ln PGA[cm/s²] = c1 + c2(M−6) + c3(M−6)² + c4·ln R_hyp + (c5·backarc + c6·forearc)·R_hyp + c7·h + site
 * Data: Mw 5.2–7.4, focal depth 87–154 km; σ(ln) 0.698. `site` is the average-soil term c10 unless told.
 */
export const VACAREANU15_PGA = {
  c1: 9.6231,
  c2: 1.4232,
  c3: -0.1555,
  c4: -1.1316,
  c5BackArc: -0.0114,
  c6ForeArc: -0.0024,
  c7: -0.0007,
  siteRock: -0.0835, // c8, Vs30 ≥ 360 m/s
  siteSoft: 0.1589, // c9, Vs30 < 360 m/s
  siteAverage: 0.0488, // c10
  sigmaLn: 0.698,
} as const;

export function vacareanu15LnPga(m: number, rHypKm: number, depthKm: number, backArc: boolean): number {
  const c = VACAREANU15_PGA;
  const dm = m - 6;
  const anelastic = backArc ? c.c5BackArc : c.c6ForeArc;
  return (
    c.c1 + c.c2 * dm + c.c3 * dm * dm + c.c4 * Math.log(rHypKm) + anelastic * rHypKm + c.c7 * depthKm + c.siteAverage
  );
}

/**
 * Worden, Gerstenberger, Rhoades & Wald (2012), "Probabilistic relationships between ground-motion parameters and
 * Modified Mercalli intensity in California", BSSA 102:204–221 (USGS ShakeMap `gmice/wgrw12.py`), PGA in cm/s²:
 *   MMI = 1.78 + 1.55·log10 PGA   for log10 PGA ≤ 1.57
 *   MMI = −1.60 + 3.70·log10 PGA  above
 */
export function wgrw12MmiFromPga(pgaCmS2: number): number {
  const l = Math.log10(Math.max(pgaCmS2, 1e-6));
  return l <= 1.57 ? 1.78 + 1.55 * l : -1.6 + 3.7 * l;
}

/**
 * Total σ (MMI units) of Allen, Wald & Worden (2012), distance-dependent (their table 2/3; OpenQuake
 * `allen_2012_ipe.py`): σ = s1 + s2 / (1 + (R/s3)²). Rupture form: 0.72, 0.23, 44.7; hypocentral: 0.82, 0.37, 22.9.
 */
export function aww12Sigma(form: 'rupture' | 'hypocentral', rKm: number): number {
  const [s1, s2, s3] = form === 'rupture' ? [0.72, 0.23, 44.7] : [0.82, 0.37, 22.9];
  return s1 + s2 / (1 + (rKm / s3) ** 2);
}

/** σ of an MMI converted from PGA by Worden et al. (2012): 0.66 MMI units (ShakeMap `wgrw12.py`, SMMI for PGA). */
export const WGRW12_SIGMA_MMI_PGA = 0.66;

/** Slope dMMI / d ln PGA of `wgrw12MmiFromPga` at this PGA (cm/s²): 1.55 or 3.70 per log10 unit, over ln 10. */
export function wgrw12SlopePerLn(pgaCmS2: number): number {
  return (Math.log10(Math.max(pgaCmS2, 1e-6)) <= 1.57 ? 1.55 : 3.7) / Math.LN10;
}

/**
 * Atkinson & Wald (2007) give σ only for their binned data; for single observations this project assumes 0.8 MMI
 * units, between Allen et al. 2012's rupture (0.72) and hypocentral (0.82) values. Comparison models only.
 */
export const AW07_SIGMA_ASSUMED = 0.8;
