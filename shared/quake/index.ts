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
export { EMSC_SOURCE, emscKind, parseEmscMessage, parseEmscMessages } from './emsc.ts';
export { FDSN_COLUMNS, FDSN_SOURCE, parseFdsnText } from './fdsn.ts';
export { normalizeLon, toEpochMs } from './normalize.ts';
export { type AssociateAllResult, associateAll, dedupe, type ReplayResult, replayFeed } from './replay.ts';
export { ALERTABLE_KINDS, isAlertable, sameEvent, supersedes } from './rules.ts';
export { EPOCH_MS_MAX, EPOCH_MS_MIN, QuakeSchema, type QuakeValidation, validateQuake } from './schema.ts';
export type {
  FeedFormat,
  ParseOptions,
  ParseResult,
  Quake,
  QuakeKind,
  QuakeSource,
  QuakeStatus,
  Rejection,
  Retraction,
} from './types.ts';
export { parseUsgsCollection, parseUsgsFeature, USGS_SOURCE } from './usgs.ts';
