import { QuakectlError } from '../infra/errors.ts';

/** The plan holds a change deploy refuses to make (it would lose data or the service cannot do it). */
export class DeployBlockedError extends QuakectlError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DeployBlockedError';
  }
}

/** Applying one resource failed; `resource` names it (`function/quakectl-producer`). */
export class ConvergeError extends QuakectlError {
  readonly resource: string;
  constructor(resource: string, message: string, options?: ErrorOptions) {
    super(`${resource}: ${message}`, options);
    this.name = 'ConvergeError';
    this.resource = resource;
  }
}
