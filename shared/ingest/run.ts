/**
 * `quakectl ingest`: feed pollers and/or the EMSC listener in one long-running process, everything they get sent to
 * the producer through one `Forwarder`, one `ForwardedEvent` per event reported back, until the signal aborts.
 */
import type { Quake, Retraction } from '../quake/types.ts';
import { EmscListener, type EmscListenerOptions, type ListenerStats } from './emsc-listener.ts';
import { FeedPoller, type FeedSource, type PollStats } from './feed-poller.ts';
import type { Forwarder } from './forward.ts';
import { type IngestLog, silentLog } from './support.ts';
import type { ProducerResult } from './types.ts';

export interface IngestOptions {
  usgs?: string[];
  fdsn?: string[];
  /** EMSC websocket URL; undefined = no listener. */
  emsc?: string;
  /** Feed polling interval. Default 5 s. */
  intervalMs?: number;
  /** Events older than this (origin time) are not forwarded. Undefined = no limit. */
  maxAgeMs?: number;
  /** Overrides for the listener (tests shorten the ping interval and backoff). */
  listener?: Partial<Omit<EmscListenerOptions, 'forward' | 'url'>>;
  fetch?: typeof fetch;
}

export type IngestVia = 'usgs' | 'fdsn' | 'emsc';

/** One forwarded event, as `quakectl ingest` prints it. */
export interface ForwardedEvent {
  forwardedAt: string;
  via: IngestVia;
  id: string;
  source: string;
  magnitude: number;
  magType: string;
  place: string;
  originTime: string;
  updatedAt: string;
  /** accepted: produced to quakes.events; rejected: the producer refused it; dropped: superseded or merged. */
  outcome: 'accepted' | 'rejected' | 'dropped';
  /** The event id it was produced under (differs from `id` when associated with another source's event). */
  canonicalId?: string;
  reason?: string;
}

export interface IngestHooks {
  onEvent?(event: ForwardedEvent): void;
  log?: IngestLog;
}

export interface IngestSummary {
  forwarded: number;
  poll?: PollStats;
  emsc?: ListenerStats;
}

export function describeOutcomes(
  quakes: Quake[],
  result: ProducerResult,
  via: IngestVia,
  at: number,
): ForwardedEvent[] {
  const rejected = new Map(result.rejected.map((r) => [r.index, r.reason]));
  const accepted = new Set(result.accepted);
  return quakes.map((q, i) => {
    const base = {
      forwardedAt: new Date(at).toISOString(),
      via,
      id: q.id,
      source: q.source,
      magnitude: q.magnitude,
      magType: q.magType,
      place: q.place,
      originTime: new Date(q.originTime).toISOString(),
      updatedAt: new Date(q.updatedAt).toISOString(),
    };
    if (rejected.has(i)) return { ...base, outcome: 'rejected', reason: rejected.get(i) };
    if (accepted.has(q.id)) return { ...base, outcome: 'accepted', canonicalId: q.id };
    // One event sent, one id produced: it was associated with (merged into) that event.
    if (quakes.length === 1 && result.accepted.length === 1) {
      return { ...base, outcome: 'accepted', canonicalId: result.accepted[0] };
    }
    return { ...base, outcome: 'dropped' };
  });
}

export async function runIngest(
  opts: IngestOptions,
  forwarder: Forwarder,
  signal: AbortSignal,
  hooks: IngestHooks = {},
): Promise<IngestSummary> {
  const log = hooks.log ?? silentLog;
  const summary: IngestSummary = { forwarded: 0 };
  const send = async (quakes: Quake[], via: IngestVia) => {
    const result = await forwarder(quakes);
    for (const e of describeOutcomes(quakes, result, via, Date.now())) hooks.onEvent?.(e);
    summary.forwarded += quakes.length;
  };
  const sendRetractions = async (retractions: Retraction[], via: IngestVia) => {
    const result = await forwarder([], retractions);
    for (const r of result.retracted ?? []) {
      log.info('retraction forwarded', { via, id: r.id, source: r.source, eventId: r.eventId, outcome: r.outcome });
    }
  };
  const sources: FeedSource[] = [
    ...(opts.usgs ?? []).map((url) => ({ kind: 'usgs' as const, url })),
    ...(opts.fdsn ?? []).map((url) => ({ kind: 'fdsn' as const, url })),
  ];
  const tasks: Promise<unknown>[] = [];
  let poller: FeedPoller | undefined;
  if (sources.length > 0) {
    poller = new FeedPoller({
      sources,
      intervalMs: opts.intervalMs,
      maxAgeMs: opts.maxAgeMs,
      fetch: opts.fetch,
      log,
      forward: (quakes, ctx) => send(quakes, ctx.source.kind),
      retract: (retractions, ctx) => sendRetractions(retractions, ctx.source.kind),
    });
    tasks.push(poller.run(signal));
  }
  let listener: EmscListener | undefined;
  if (opts.emsc !== undefined) {
    listener = new EmscListener({
      ...opts.listener,
      url: opts.emsc,
      maxAgeMs: opts.maxAgeMs,
      log,
      forward: (q) => send([q], 'emsc'),
      retract: (r) => sendRetractions([r], 'emsc'),
    });
    listener.start();
    tasks.push(aborted(signal).then(() => listener?.stop()));
  }
  await Promise.all(tasks);
  if (poller) summary.poll = { ...poller.stats };
  if (listener) summary.emsc = { ...listener.stats };
  return summary;
}

function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
