export {
  type CapDlqMessage,
  type ConsumeDeps,
  type ConsumeResult,
  type ConsumerDlqMessage,
  consumeBatch,
  dlqMessage,
  type RecordOutcome,
} from './consume.ts';
export {
  type DecodedRecord,
  decodeRecord,
  type KafkaRecord,
  recordHeaders,
  recordsByPartition,
  type SelfManagedKafkaEvent,
} from './kafka-event.ts';
export {
  DEFAULT_MAX_UNIT_SIZE,
  DEFAULT_MIN_SUBSCRIBER_MMI,
  DEFAULT_UNIT_BAND_KM,
  type FanoutPlan,
  type FanoutStrategy,
  groupUnits,
  levelMayRise,
  type OrderedSegment,
  orderNearestFirst,
  type PlanInput,
  parseScanSegmentKey,
  planFanout,
  scanSegmentKey,
  unitKey,
  unitSegments,
  unitSize,
} from './plan.ts';
export type {
  LambdaContext,
  SubscriberReader,
  WorkerDeps,
  WorkerLog,
  WorkerOutcome,
  WorkerPayload,
  WorkerResult,
} from './types.ts';
export { runSegmentWorker } from './worker.ts';
