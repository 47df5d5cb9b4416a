/**
 * Lambda API errors, shaped as AWS sends them over the restJson1 protocol: the HTTP status of the error's model, an
 * `x-amzn-ErrorType` header naming the type, and a JSON body `{"Type":"User","message":"…"}`. The message key follows
 * the service model: ResourceNotFoundException, ResourceInUseException and ServiceException carry `Message`, the
 * others `message` (the SDK reads either). TooManyRequestsException adds `Reason` (e.g.
 * `ReservedFunctionConcurrentInvocationLimitExceeded`) and a `Retry-After` header.
 */
import { QuakectlError } from '../../shared/infra/errors.ts';

export class LambdaApiError extends QuakectlError {
  readonly type: string;
  readonly status: number;
  readonly messageKey: 'message' | 'Message';
  readonly extra: Record<string, unknown>;
  readonly headers: Record<string, string>;
  constructor(
    type: string,
    status: number,
    message: string,
    opts: {
      messageKey?: 'message' | 'Message';
      extra?: Record<string, unknown>;
      headers?: Record<string, string>;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = type;
    this.type = type;
    this.status = status;
    this.messageKey = opts.messageKey ?? 'message';
    this.extra = opts.extra ?? {};
    this.headers = opts.headers ?? {};
  }

  body(): Record<string, unknown> {
    return { Type: this.status >= 500 ? 'Service' : 'User', [this.messageKey]: this.message, ...this.extra };
  }
}

export class ResourceNotFoundError extends LambdaApiError {
  constructor(message: string) {
    super('ResourceNotFoundException', 404, message, { messageKey: 'Message' });
  }
}

export class InvalidParameterValueError extends LambdaApiError {
  constructor(message: string) {
    super('InvalidParameterValueException', 400, message);
  }
}

/**
 * A value outside the constraints of the service model (range, pattern, length): AWS answers these before the
 * operation runs, as the common error `ValidationException` (HTTP 400, "1 validation error detected: …"), not as the
 * operation's InvalidParameterValueException (AWS Lambda API reference, Common Errors). moto answers the same.
 */
export class ValidationError extends LambdaApiError {
  constructor(message: string) {
    super('ValidationException', 400, message);
  }
}

export class ResourceConflictError extends LambdaApiError {
  constructor(message: string) {
    super('ResourceConflictException', 409, message);
  }
}

export class ProvisionedConcurrencyConfigNotFoundError extends LambdaApiError {
  constructor(message: string) {
    super('ProvisionedConcurrencyConfigNotFoundException', 404, message);
  }
}

export class InvalidRequestContentError extends LambdaApiError {
  constructor(message: string) {
    super('InvalidRequestContentException', 400, message);
  }
}

export class RequestTooLargeError extends LambdaApiError {
  constructor(message: string) {
    super('RequestTooLargeException', 413, message);
  }
}

export type ThrottleReason =
  | 'ReservedFunctionConcurrentInvocationLimitExceeded'
  | 'ConcurrentInvocationLimitExceeded'
  | 'FunctionInvocationRateLimitExceeded';

/** 429, body `{"Type":"User","message":"Rate Exceeded.","Reason":…}` as AWS returns on throttling. */
export class TooManyRequestsError extends LambdaApiError {
  readonly reason: ThrottleReason;
  constructor(reason: ThrottleReason) {
    super('TooManyRequestsException', 429, 'Rate Exceeded.', {
      extra: { Reason: reason },
      headers: { 'Retry-After': '1' },
    });
    this.reason = reason;
  }
}

export class ServiceError extends LambdaApiError {
  constructor(message: string, cause?: unknown) {
    super('ServiceException', 500, message, { messageKey: 'Message', cause });
  }
}

/** An unknown route: AWS answers such requests with UnknownOperationException. */
export class UnknownOperationError extends LambdaApiError {
  constructor(method: string, path: string) {
    super('UnknownOperationException', 400, `Unknown operation ${method} ${path}`);
  }
}
