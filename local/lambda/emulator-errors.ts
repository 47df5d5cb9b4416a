/**
 * Errors of the emulator itself (not API errors answered to a client): a destination it cannot reach, a bad option.
 * Part of quakectl's error family.
 */
import { QuakectlError, ServiceUnavailableError } from '../../shared/infra/errors.ts';

export class LambdaEmulatorError extends QuakectlError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LambdaEmulatorError';
  }
}

/** A local service the emulator depends on (SQS, Kafka) failed; the operation is retried later. */
export class EmulatorDependencyError extends ServiceUnavailableError {
  constructor(service: string, message: string, options?: ErrorOptions) {
    super(service, message, options);
    this.name = 'EmulatorDependencyError';
  }
}
