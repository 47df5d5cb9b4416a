/**
 * Travel times and warning time (system.md section 11). Constant crustal velocities over the straight-line
 * hypocentral distance: P ≈ 6.5 km/s, S ≈ 3.5 km/s. Good to a few seconds within ~300 km, which is the range where
 * warning time matters; beyond that waves travel faster through the mantle, so these times are late, not early.
 */
import { haversineKm } from './geodesy.ts';

export const P_VELOCITY_KM_S = 6.5;
export const S_VELOCITY_KM_S = 3.5;

export interface Hypocentre {
  lat: number;
  lon: number;
  depthKm: number;
}

export interface Site {
  lat: number;
  lon: number;
}

export function epicentralKm(q: Hypocentre, site: Site): number {
  return haversineKm(q.lat, q.lon, site.lat, site.lon);
}

/** Straight-line distance from the hypocentre to the site (depth clipped at 0: above-sea-level foci count as 0). */
export function hypocentralKm(q: Hypocentre, site: Site): number {
  const d = epicentralKm(q, site);
  const z = Math.max(0, q.depthKm);
  return Math.sqrt(d * d + z * z);
}

/** Seconds after origin time at which the P wave reaches a site at this hypocentral distance. */
export function pArrivalS(hypocentralDistanceKm: number): number {
  return hypocentralDistanceKm / P_VELOCITY_KM_S;
}

/** Seconds after origin time at which the S wave (the damaging shaking) reaches the site. */
export function sArrivalS(hypocentralDistanceKm: number): number {
  return hypocentralDistanceKm / S_VELOCITY_KM_S;
}

/**
 * Warning time: seconds between delivery at `atMs` and the S wave's arrival. Negative means the shaking came first
 * (the site was in the blind zone for this delivery).
 */
export function secondsUntilShaking(q: Hypocentre & { originTime: number }, site: Site, atMs: number): number {
  return q.originTime / 1000 + sArrivalS(hypocentralKm(q, site)) - atMs / 1000;
}

/**
 * Radius (epicentral km) of the blind zone for an alert delivered `delayS` seconds after origin: inside it the S wave
 * arrives before the alert. S reaches hypocentral distance 3.5·delay; subtract the depth leg. 0 when the S wave has not
 * even reached the surface by then (deep events).
 */
export function blindZoneRadiusKm(depthKm: number, delayS: number): number {
  const r = S_VELOCITY_KM_S * Math.max(0, delayS);
  const z = Math.max(0, depthKm);
  return r <= z ? 0 : Math.sqrt(r * r - z * z);
}
