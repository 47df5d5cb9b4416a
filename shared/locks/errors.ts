/**
 * The segment lock's error family. A worker decides what to do from the class alone: `LockHeldError` and
 * `SegmentDoneError` mean "move on to the next segment", `LeaseLostError` means "stop at once, someone else owns this
 * segment now" (its deliveries so far are checkpointed; the new holder resumes from the cursor).
 */
import { QuakectlError } from '../infra/errors.ts';

export class LockError extends QuakectlError {
  readonly pk: string;
  constructor(pk: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LockError';
    this.pk = pk;
  }
}

/** Another worker holds an unexpired lease on the segment. */
export class LockHeldError extends LockError {
  readonly owner?: string;
  readonly leaseUntil?: number;
  constructor(pk: string, owner?: string, leaseUntil?: number, options?: ErrorOptions) {
    super(pk, `segment lock ${pk} is held by ${owner ?? '?'} until ${leaseUntil ?? '?'}`, options);
    this.name = 'LockHeldError';
    this.owner = owner;
    this.leaseUntil = leaseUntil;
  }
}

/** The segment is already done for this event: nothing to acquire. */
export class SegmentDoneError extends LockError {
  constructor(pk: string, options?: ErrorOptions) {
    super(pk, `segment ${pk} is already done`, options);
    this.name = 'SegmentDoneError';
  }
}

/** The unit belongs to a plan revision that a newer one replaced (update or retraction): never acquired again. */
export class RunSupersededError extends SegmentDoneError {
  constructor(pk: string, options?: ErrorOptions) {
    super(pk, options);
    this.message = `unit ${pk} belongs to a superseded plan revision`;
    this.name = 'RunSupersededError';
  }
}

/**
 * A write under a lease was refused: the lease expired and another worker took the segment over (version moved on),
 * or an operator released it. The worker must stop touching the segment immediately.
 */
export class LeaseLostError extends LockError {
  readonly owner: string;
  readonly version: number;
  constructor(pk: string, owner: string, version: number, options?: ErrorOptions) {
    super(pk, `lease on ${pk} lost by ${owner} (version ${version})`, options);
    this.name = 'LeaseLostError';
    this.owner = owner;
    this.version = version;
  }
}

/** A forced release named a version that is no longer current (someone acquired it since). */
export class StaleVersionError extends LockError {
  readonly version: number;
  constructor(pk: string, version: number, options?: ErrorOptions) {
    super(pk, `segment lock ${pk} is no longer at version ${version}`, options);
    this.name = 'StaleVersionError';
    this.version = version;
  }
}

export function isConditionFailed(err: unknown): boolean {
  return (err as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';
}
