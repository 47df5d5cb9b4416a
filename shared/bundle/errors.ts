import { QuakectlError } from '../infra/errors.ts';

/** esbuild failed on a function's source (syntax error, unresolved import). */
export class BundleError extends QuakectlError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BundleError';
  }
}
