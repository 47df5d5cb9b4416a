export { StaleRevisionError } from './errors.ts';
export {
  acceptVersion,
  claimNext,
  type EventStore,
  getEvent,
  markPublished,
  markRunning,
  type PlanRecord,
  recordFirstDelivery,
  recordHandled,
  type SegmentTotals,
  savePlan,
  tryComplete,
  unitDone,
} from './store.ts';
export { type EventRecord, type EventState, runId } from './types.ts';
