import { QuakectlError } from '../infra/errors.ts';

/** A subscriber store operation that could not complete (DynamoDB kept refusing, a shard could not be reserved). */
export class SegmentStoreError extends QuakectlError {
  override readonly retriable = true;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SegmentStoreError';
  }
}

/** A cursor that is not the JSON of a LastEvaluatedKey this store produced. */
export class InvalidCursorError extends QuakectlError {
  override readonly exitCode = 2;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidCursorError';
  }
}
