export { StaleRevisionError } from './errors.ts';
export {
  acceptVersion,
  claimNext,
  type EventStore,
  getEvent,
  markPublished,
  markRunning,
  type PlanRecord,
  recordHandled,
  type SegmentTotals,
  savePlan,
  segmentDone,
  tryComplete,
} from './store.ts';
export { type EventRecord, type EventState, runId } from './types.ts';
