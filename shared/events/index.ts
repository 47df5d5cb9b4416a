export { StaleRevisionError } from './errors.ts';
export {
  acceptVersion,
  claimNext,
  type EventStore,
  getEvent,
  getPlan,
  markPublished,
  markRunning,
  type PlanRecord,
  planKey,
  recordFirstDelivery,
  recordHandled,
  type SegmentTotals,
  savePlan,
  tryComplete,
  unitDone,
} from './store.ts';
export { type EventPlan, type EventRecord, type EventState, runId } from './types.ts';
