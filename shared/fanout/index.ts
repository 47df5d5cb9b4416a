export {
  DEFAULT_MIN_SUBSCRIBER_MMI,
  type FanoutPlan,
  type FanoutStrategy,
  levelMayRise,
  type OrderedSegment,
  orderNearestFirst,
  type PlanInput,
  parseScanSegmentKey,
  planFanout,
  scanSegmentKey,
} from './plan.ts';
export { subscriberReader } from './reader.ts';
export type {
  SubscriberReader,
  WorkerDeps,
  WorkerLog,
  WorkerOutcome,
  WorkerPayload,
  WorkerResult,
} from './types.ts';
export { runSegmentWorker } from './worker.ts';
