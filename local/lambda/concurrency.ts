/**
 * Concurrency accounting as Lambda does it. Concurrency = invocations in flight. The account has a limit (1,000 by
 * default); a function with reserved concurrency R may have at most R in flight (R = 0 throttles every invocation,
 * Reason `ReservedFunctionConcurrentInvocationLimitExceeded`); functions without a reservation share the unreserved
 * pool, limit minus all reservations (Reason `ConcurrentInvocationLimitExceeded`). AWS refuses any reservation that
 * would leave fewer than 100 unreserved (InvalidParameterValueException).
 */
import { InvalidParameterValueError, TooManyRequestsError } from './errors.ts';

export const MIN_UNRESERVED = 100;

export class Concurrency {
  readonly accountLimit: number;
  readonly #reserved = new Map<string, number>();
  readonly #inFlight = new Map<string, number>();
  /** Units each function took from the unreserved pool (a reservation may change while invocations run). */
  readonly #fromUnreserved = new Map<string, number>();
  #unreservedInFlight = 0;

  constructor(accountLimit = 1000) {
    this.accountLimit = accountLimit;
  }

  reservedTotal(): number {
    let t = 0;
    for (const v of this.#reserved.values()) t += v;
    return t;
  }

  unreserved(): number {
    return this.accountLimit - this.reservedTotal();
  }

  reserved(fn: string): number | undefined {
    return this.#reserved.get(fn);
  }

  /** PutFunctionConcurrency's check: at least 100 must stay unreserved. */
  checkReservation(fn: string, value: number): void {
    const others = this.reservedTotal() - (this.#reserved.get(fn) ?? 0);
    if (this.accountLimit - others - value < MIN_UNRESERVED) {
      throw new InvalidParameterValueError(
        `Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${MIN_UNRESERVED}].`,
      );
    }
  }

  setReserved(fn: string, value: number | undefined): void {
    if (value === undefined) this.#reserved.delete(fn);
    else this.#reserved.set(fn, value);
  }

  inFlight(fn: string): number {
    return this.#inFlight.get(fn) ?? 0;
  }

  /** Takes one unit of concurrency or throws the 429 AWS returns. Pair every success with `release`. */
  acquire(fn: string): void {
    const reserved = this.#reserved.get(fn);
    const current = this.inFlight(fn);
    if (reserved !== undefined) {
      if (current >= reserved) throw new TooManyRequestsError('ReservedFunctionConcurrentInvocationLimitExceeded');
    } else {
      if (this.#unreservedInFlight >= this.unreserved())
        throw new TooManyRequestsError('ConcurrentInvocationLimitExceeded');
      this.#unreservedInFlight++;
      this.#fromUnreserved.set(fn, (this.#fromUnreserved.get(fn) ?? 0) + 1);
    }
    this.#inFlight.set(fn, current + 1);
  }

  release(fn: string): void {
    const current = this.inFlight(fn);
    if (current <= 1) this.#inFlight.delete(fn);
    else this.#inFlight.set(fn, current - 1);
    const shared = this.#fromUnreserved.get(fn) ?? 0;
    if (shared > 0) {
      this.#unreservedInFlight--;
      if (shared === 1) this.#fromUnreserved.delete(fn);
      else this.#fromUnreserved.set(fn, shared - 1);
    }
  }
}
