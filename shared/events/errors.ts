import { QuakectlError } from '../infra/errors.ts';

/** The event was re-planned (or is gone): a chain of an older revision must stop. */
export class StaleRevisionError extends QuakectlError {
  readonly eventId: string;
  readonly revision: number;
  constructor(eventId: string, revision: number, options?: ErrorOptions) {
    super(`event ${eventId} is no longer at plan revision ${revision}`, options);
    this.name = 'StaleRevisionError';
    this.eventId = eventId;
    this.revision = revision;
  }
}
