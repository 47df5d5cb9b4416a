export type {
  FeedFormat,
  ParseOptions,
  ParseResult,
  Quake,
  QuakeKind,
  QuakeSource,
  QuakeStatus,
  Rejection,
} from './types.ts';
