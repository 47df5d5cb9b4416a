/**
 * Parsers for numeric flags, shared by every command: a bad value is commander's InvalidArgumentError, which the CLI
 * turns into exit 2 with the flag named (`option '--lat <deg>' argument '95' is invalid. expected …`).
 */
import { InvalidArgumentError } from 'commander';

/** A finite number in [min, max]; `what` names it in the error (`a number`, `seconds`). */
export const ranged =
  (min: number, max: number, what = 'a number') =>
  (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected ${what} from ${min} to ${max}`);
    }
    return n;
  };

/** A TCP port; 0 lets the system choose (or, where a command says so, turns the listener off). */
export const port = (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65535) {
    throw new InvalidArgumentError('expected a port from 0 to 65535');
  }
  return n;
};

/** A fixed port, 1–65535 (no 0: a drill's receiver port goes into seeded subscribers' target URLs). */
export const fixedPort = (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < 1 || n > 65535) {
    throw new InvalidArgumentError('expected a port from 1 to 65535');
  }
  return n;
};

export const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

export const positiveNumber = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
};
