/** Quake events for quakectl: the normalized type, feed parsers, validation, versions and cross-source association. */
export {
  type AssociationOutcome,
  type AssociationResult,
  type AssociationThresholds,
  Associator,
  type AssociatorOptions,
  DEFAULT_ASSOCIATION_THRESHOLDS,
} from './associate.ts';
export { detectFormat, detectJsonFormat, FEED_FORMATS, type FeedParseResult, parseFeed } from './detect.ts';
export {
  EMSC_SOURCE,
  emscKind,
  looksLikeEmscFeature,
  parseEmscCollection,
  parseEmscFeature,
  parseEmscItem,
  parseEmscMessage,
  parseEmscMessages,
} from './emsc.ts';
export { FDSN_COLUMNS, FDSN_SOURCE, parseFdsnLine, parseFdsnText } from './fdsn.ts';
export { NOT_EXISTING, NOT_REPORTED, normalizeLon, toEpochMs, UNKNOWN_DEPTH_KM } from './normalize.ts';
export { looksLikeQuakeml, parseQuakeml, parseQuakemlEvent } from './quakeml.ts';
export {
  type AssociateAllResult,
  associateAll,
  dedupe,
  type ReplayResult,
  replayFeed,
  replayParsed,
} from './replay.ts';
export { isAlertable, isPossiblyEarthquake, NON_EARTHQUAKE_KINDS, sameEvent, supersedes } from './rules.ts';
export {
  EPOCH_MS_MAX,
  EPOCH_MS_MIN,
  MAX_ORIGIN_LEAD_MS,
  QuakeSchema,
  type QuakeValidation,
  type ValidateOptions,
  validateQuake,
} from './schema.ts';
export type {
  FeedFormat,
  ItemOutcome,
  ParseOptions,
  ParseResult,
  Quake,
  QuakeKind,
  QuakeSource,
  QuakeStatus,
  Rejection,
  Retraction,
} from './types.ts';
export { parseUsgsCollection, parseUsgsFeature, parseUsgsItem, USGS_SOURCE } from './usgs.ts';
