import { QuakectlError, UsageError } from '../infra/errors.ts';

/** A scaling change the platform would refuse (or should not be made): said before calling it. */
export class ScaleRefusedError extends QuakectlError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ScaleRefusedError';
  }
}

export class UnknownFunctionError extends UsageError {
  readonly functionName: string;
  constructor(functionName: string, options?: ErrorOptions) {
    super(
      `unknown function "${functionName}": name a role (producer, consumer, segment-worker, autoscaler) or a deployed function`,
      options,
    );
    this.name = 'UnknownFunctionError';
    this.functionName = functionName;
  }
}

/** A setting that cannot change now (re-segmenting while an event is in progress). */
export class ScaleBusyError extends QuakectlError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ScaleBusyError';
  }
}
