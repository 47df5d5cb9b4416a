/**
 * quakectl's error family. Every error names itself, keeps its cause, says whether a retry can help, and carries the
 * process exit code the CLI turns it into (0 ok, 1 failure, 2 usage error; see cli/main.ts).
 */
export class QuakectlError extends Error {
  readonly exitCode: number = 1;
  readonly retriable: boolean = false;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'QuakectlError';
  }
}

/** Bad flags or arguments: exit 2. */
export class UsageError extends QuakectlError {
  override readonly exitCode = 2;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/** Missing or invalid configuration (profile file, unknown profile, missing role ARN…). */
export class ConfigError extends QuakectlError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/** A service (Kafka, SQS, DynamoDB, Lambda) did not answer or refused. Retriable by default. */
export class ServiceUnavailableError extends QuakectlError {
  override readonly retriable = true;
  readonly service: string;
  constructor(service: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ServiceUnavailableError';
    this.service = service;
  }
}

/** Input data that cannot be processed (malformed feed, out-of-range value). Never retriable. */
export class ValidationError extends QuakectlError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ValidationError';
  }
}

/** A prerequisite on this machine is missing (Java, Maven, a free port). */
export class PrerequisiteError extends QuakectlError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PrerequisiteError';
  }
}

/** The operator declined a confirmation, or one was needed and stdin is not a TTY. */
export class NotConfirmedError extends QuakectlError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NotConfirmedError';
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
