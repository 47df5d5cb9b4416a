/** Subscribers and segments (system.md section 5): validation, H3 bucketing, sharded storage, paging. */
export {
  cellCircle,
  cellFor,
  cellMinDistanceKm,
  coveringCells,
  H3_RESOLUTION,
  isCircleKept,
  parseSegmentKey,
  segmentKey,
} from './cells.ts';
export { InvalidCursorError, SegmentStoreError } from './errors.ts';
export {
  belowPlanningThreshold,
  DEFAULT_MAX_SEGMENT_SIZE,
  type Locations,
  pageCursorSubscriberId,
  privateTargetRefusal,
  SubscriberStore,
  type SubscriberStoreOptions,
  subscriberFromItem,
  unsignedWebhookRefusal,
} from './store.ts';
export {
  CHANNEL_TYPES,
  type Channel,
  type ChannelType,
  channelSchema,
  type ReadPageOptions,
  type ResegmentResult,
  type ScanPageOptions,
  type SegmentPage,
  type SegmentRef,
  type SegmentStats,
  type Subscriber,
  type SubscriberInput,
  subscriberSchema,
  type UpsertOptions,
  type UpsertResult,
} from './types.ts';
