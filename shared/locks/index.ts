export { getMany } from './batch.ts';
export {
  isConditionFailed,
  LeaseLostError,
  LockError,
  LockHeldError,
  RunSupersededError,
  SegmentDoneError,
  StaleVersionError,
} from './errors.ts';
export {
  type AcquireInput,
  acquire,
  checkpoint,
  complete,
  fail,
  finish,
  get,
  handOff,
  heartbeat,
  type ListFilter,
  type LockStore,
  list,
  release,
  supersede,
} from './segment-lock.ts';
export { type Cursor, type Lease, type LockCounts, type LockItem, type LockState, lockKey } from './types.ts';
