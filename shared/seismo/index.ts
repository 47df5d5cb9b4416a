/** Seismology for quakectl: predicted intensity, travel times, warning time, alert level and footprint. */
export { type AlertLevel, type AlertThresholds, alertLevel, DEFAULT_ALERT_THRESHOLDS, levelRises } from './alert.ts';
export {
  AW07_CA,
  AW07_CEUS,
  AWW12_HYP,
  AWW12_RUP,
  aw07,
  aww12Hypocentral,
  aww12Rupture,
  VACAREANU15_PGA,
  vacareanu15LnPga,
  wgrw12MmiFromPga,
} from './equations.ts';
export { bearingDeg, destination, distanceToPolylineKm, haversineKm, type Polyline } from './geodesy.ts';
export {
  chooseModel,
  clipMmi,
  FOOTPRINT_MAX_KM,
  footprintRadiusKm,
  INTENSITY_MODELS,
  type IntensityModel,
  type IntensityModelName,
  intensityModelFor,
  type PredictOptions,
  predictMmi,
  type QuakeSource,
  type SiteLocation,
} from './intensity.ts';
export { type Rupture, ruptureDistanceKm, ruptureFromGeoJson } from './rupture.ts';
export {
  blindZoneRadiusKm,
  epicentralKm,
  type Hypocentre,
  hypocentralKm,
  KM_PER_DEGREE,
  type Phase,
  pTravelTimeS,
  type Site,
  secondsUntilShaking,
  sTravelTimeS,
  TRAVEL_TABLE_MAX_DEG,
  TRAVEL_TABLE_MAX_DEPTH_KM,
  type TravelTimeCurve,
  travelTimeCurve,
} from './travel.ts';
export { CARPATHIAN_ARC, isBackArc, isVranceaIntermediateDepth, VRANCEA_BOX } from './vrancea.ts';
