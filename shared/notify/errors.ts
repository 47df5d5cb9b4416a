import { QuakectlError } from '../infra/errors.ts';

/**
 * Notifications could be neither delivered nor parked in the delivery DLQ. The caller must not checkpoint past
 * them: the batch will be retried (same ids, so receivers de-duplicate).
 */
export class DeliveryError extends QuakectlError {
  override readonly retriable = true;
  readonly ids: string[];
  constructor(message: string, ids: string[], options?: ErrorOptions) {
    super(message, options);
    this.name = 'DeliveryError';
    this.ids = ids;
  }
}
