/**
 * The one output layer. Commands compute data; this prints it as a table for people or JSON for machines, from the
 * same data. Colour follows NO_COLOR / FORCE_COLOR and whether stdout is a TTY (chalk does not read NO_COLOR itself).
 */
import { Chalk, type ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import { UsageError } from '../shared/infra/errors.ts';

export type OutputFormat = 'table' | 'json';

export function parseOutputFormat(value: string | undefined): OutputFormat {
  const v = (value ?? 'table').toLowerCase();
  if (v === 'table' || v === 'json') return v;
  throw new UsageError(`invalid --output "${value}": expected table or json`);
}

export function colorEnabled(
  stream: NodeJS.WriteStream = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

let cachedChalk: ChalkInstance | undefined;
export function color(): ChalkInstance {
  cachedChalk ??= new Chalk({ level: colorEnabled() ? 1 : 0 });
  return cachedChalk;
}

/** True when a live (ink) view may be drawn: a TTY, not CI, colour allowed. */
export function interactive(
  stream: NodeJS.WriteStream = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  return Boolean(stream.isTTY) && !env.CI && colorEnabled(stream, env);
}

export function printJson(data: unknown, out: NodeJS.WritableStream = process.stdout): void {
  out.write(`${JSON.stringify(data, null, 2)}\n`);
}

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | boolean | undefined | null;
  align?: 'left' | 'right' | 'center';
}

export function renderTable<T>(rows: T[], columns: Column<T>[]): string {
  const table = new Table({
    head: columns.map((c) => color().bold(c.header)),
    colAligns: columns.map((c) => c.align ?? 'left'),
    style: { head: [], border: [], compact: true },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const row of rows) table.push(columns.map((c) => String(c.value(row) ?? '')));
  return table.toString();
}

/** Prints `data` as JSON, or as the human rendering `human` makes of it. */
export function output<T>(
  format: OutputFormat,
  data: T,
  human: (data: T) => string,
  out: NodeJS.WritableStream = process.stdout,
): void {
  if (format === 'json') printJson(data, out);
  else out.write(`${human(data)}\n`);
}
