/** Gathering per-item outcomes (event, retraction, rejection) into a `ParseResult`, the same way for every format. */
import { plainText, toEpochMs } from './normalize.ts';
import type { ItemOutcome, ParseOptions, ParseResult, QuakeSource, Retraction } from './types.ts';

/**
 * A `ParseResult` from one outcome per item, in item order. A rejection's `index` is the item's position; `prefix`
 * names the item (its id) in the reason when it has one. `retracted` is present only when the input held retractions.
 */
export function collectOutcomes<T>(
  items: readonly T[],
  parse: (item: T, index: number) => ItemOutcome,
  prefix: (item: T) => string = () => '',
): ParseResult {
  const result: ParseResult = { accepted: [], rejected: [] };
  const retracted: Retraction[] = [];
  items.forEach((item, index) => {
    const o = parse(item, index);
    if (o.kind === 'quake') result.accepted.push(o.quake);
    else if (o.kind === 'retraction') retracted.push(o.retraction);
    else {
      const p = prefix(item);
      result.rejected.push({ index, reason: p && !o.reason.startsWith(`${p}: `) ? `${p}: ${o.reason}` : o.reason });
    }
  });
  if (retracted.length > 0) result.retracted = retracted;
  return result;
}

/**
 * A retraction of `id` by `source`. `updatedAt` is the feed's time of the withdrawal (epoch ms or ISO-8601); when
 * absent or unreadable, the time of parsing (`opts.now`), so that it is newer than any version seen before it.
 * A retraction without an id cannot name what it withdraws: that is a rejection.
 */
export function retractionOutcome(
  id: unknown,
  source: QuakeSource,
  updated: unknown,
  reason: string,
  opts: ParseOptions,
  drill = false,
): ItemOutcome {
  const theId = plainText(id);
  if (theId === '') return { kind: 'rejection', reason: `id: missing, a retraction (${reason}) must name the event` };
  const t = updated === null || updated === undefined ? Number.NaN : toEpochMs(updated);
  return {
    kind: 'retraction',
    retraction: {
      id: theId,
      source,
      updatedAt: Number.isFinite(t) ? t : (opts.now ?? Date.now()),
      reason,
      drill: opts.drill === true || drill,
    },
  };
}
