/**
 * The confirmation rule every changing ops command follows (issue 7): show the plan first; `--dry-run` stops there;
 * `--yes` or the local profile goes ahead; otherwise ask on a TTY, and when stdin is not a TTY never wait for an
 * answer: refuse with a hint instead.
 */
import { createInterface } from 'node:readline/promises';
import { NotConfirmedError } from '../infra/errors.ts';

export interface ConfirmOptions {
  /** What will happen, one line ("purge 12 messages from quakectl-delivery-dlq"). */
  action: string;
  yes?: boolean;
  /** Local profile: nothing to protect, no question. */
  local?: boolean;
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream;
  /** Set for actions that must be confirmed even locally (purge). */
  alwaysAsk?: boolean;
}

/** Resolves when the action may proceed; throws NotConfirmedError otherwise. */
export async function confirm(opts: ConfirmOptions): Promise<void> {
  if (opts.yes) return;
  if (opts.local && !opts.alwaysAsk) return;
  const stdin = opts.stdin ?? process.stdin;
  if (!stdin.isTTY) {
    throw new NotConfirmedError(`refusing to ${opts.action} without confirmation: stdin is not a TTY (pass --yes)`);
  }
  const rl = createInterface({ input: stdin, output: opts.stderr ?? process.stderr });
  try {
    const answer = await rl.question(`${opts.action}? [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) throw new NotConfirmedError(`not confirmed: ${opts.action}`);
  } finally {
    rl.close();
  }
}
