/**
 * Polls feed URLs (a USGS GeoJSON summary feed; an FDSN event query in `format=text`, `format=xml` (QuakeML 1.2, the
 * FDSN default) or EMSC's `format=json`) and forwards only the events that are new or updated since the last poll, and
 * the retractions (deletions) the feeds publish.
 *
 * Protocol per feed: a conditional GET (`If-None-Match` from the last `ETag`, `If-Modified-Since` from the last
 * `Last-Modified`; USGS feeds send both), so an unchanged feed costs one 304 and no parsing. FDSN answers 204 when a
 * query matches nothing. A changed body is parsed by shared/quake `parseFeed`; each event is compared with the version
 * remembered for its source id (`VersionMemory`), and only new or newer ones are forwarded. The validators and the
 * memory are committed only after the forward succeeded: a failed forward must not turn the next poll into a 304 that
 * hides the events it failed to deliver.
 *
 * FDSN text has no update time (its `updatedAt` is the origin time), and QuakeML need not carry one, so a row whose
 * content changed at the same `updatedAt` (a revised magnitude or location) is forwarded with `updatedAt` = the time it
 * was seen to change: the producer keeps only strictly newer versions.
 *
 * Retractions (USGS `status: "deleted"`, QuakeML `not existing` / `rejected`, FDSN EventType `not existing`) go to
 * `retract`, each (source, id) once until the id is published again, after the body's events; without `retract` they are
 * counted and logged, not dropped silently. The document's host is the `source` of FDSN rows and QuakeML events that
 * name no publisher.
 */
import { parseFeed } from '../quake/detect.ts';
import type { FeedFormat, Quake, Retraction } from '../quake/types.ts';
import { FeedFormatError, FeedRequestError, FeedUnavailableError, isRetriable, retriableStatus } from './errors.ts';
import { VersionMemory, type VersionMemoryOptions } from './seen.ts';
import { abortableSleep, type IngestLog, silentLog } from './support.ts';

export type FeedKind = 'usgs' | 'fdsn';

export interface FeedSource {
  kind: FeedKind;
  url: string;
}

export interface ForwardContext {
  source: FeedSource;
}

/** Sends events on (to the producer). Throws to refuse them: they will be offered again by the next poll. */
export type Forward = (quakes: Quake[], ctx: ForwardContext) => Promise<void>;

/** Sends retractions on (to the producer). Throws to refuse them: they will be offered again by the next poll. */
export type Retract = (retractions: Retraction[], ctx: ForwardContext) => Promise<void>;

export interface FeedPollerOptions {
  sources: FeedSource[];
  forward: Forward;
  /** Where retractions go; without it they are counted (`SourceOutcome.retracted`) and logged. */
  retract?: Retract;
  /** Per request, including reading the body. Default 10 s. */
  timeoutMs?: number;
  /** Between the starts of two rounds. Default 5 s. */
  intervalMs?: number;
  /** `pollUntil` stops when less than this (plus one request timeout) remains. Default 1 s. */
  reserveMs?: number;
  memory?: VersionMemoryOptions;
  /**
   * Events whose origin time is older than this are not forwarded: their shaking has long passed, and a first poll of
   * a week-long feed must not replay a week of events as alerts. Undefined = no limit.
   */
  maxAgeMs?: number;
  now?: () => number;
  fetch?: typeof fetch;
  log?: IngestLog;
}

export type PollStatus = 'changed' | 'unchanged' | 'empty' | 'error' | 'deferred';

export interface SourceOutcome {
  url: string;
  status: PollStatus;
  /** Events in the body (changed only). */
  events: number;
  /** Events forwarded from it. */
  forwarded: number;
  /** Items the parser rejected. */
  rejected: number;
  /** Retractions in the body that were new (forwarded to `retract`, or only counted without one). */
  retracted: number;
  error?: Error;
}

export interface PollStats {
  rounds: number;
  requests: number;
  changed: number;
  unchanged: number;
  empty: number;
  errors: number;
  forwarded: number;
  /** Events skipped as older than `maxAgeMs`. */
  tooOld: number;
  /** Retractions forwarded to `retract`. */
  retracted: number;
}

interface SourceState {
  source: FeedSource;
  etag?: string;
  lastModified?: string;
  /** Retry-After from a 429/503: no request before this time. */
  notBefore: number;
}

const USER_AGENT = 'quakectl-ingest/0.1';

export class FeedPoller {
  readonly memory: VersionMemory;
  private readonly states: SourceState[];
  private readonly forward: Forward;
  private readonly retract: Retract | undefined;
  /** `source:id` of retractions sent on, until a version of that id is forwarded again (bounded like the memory). */
  private readonly retractionsSeen = new Map<string, number>();
  private readonly timeoutMs: number;
  private readonly intervalMs: number;
  private readonly reserveMs: number;
  private readonly maxAgeMs: number | undefined;
  private readonly now: () => number;
  private readonly fetchImpl: typeof fetch;
  private readonly log: IngestLog;
  readonly stats: PollStats = {
    rounds: 0,
    requests: 0,
    changed: 0,
    unchanged: 0,
    empty: 0,
    errors: 0,
    forwarded: 0,
    tooOld: 0,
    retracted: 0,
  };

  constructor(opts: FeedPollerOptions) {
    this.states = opts.sources.map((source) => ({ source, notBefore: 0 }));
    this.forward = opts.forward;
    this.retract = opts.retract;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.intervalMs = opts.intervalMs ?? 5_000;
    this.reserveMs = opts.reserveMs ?? 1_000;
    this.maxAgeMs = opts.maxAgeMs;
    this.now = opts.now ?? Date.now;
    this.memory = new VersionMemory({ now: this.now, ...opts.memory });
    this.fetchImpl = opts.fetch ?? fetch;
    this.log = opts.log ?? silentLog;
  }

  /** One conditional GET of every feed (in parallel), forwarding what changed. Never throws for a feed's failure. */
  async pollOnce(signal?: AbortSignal, timeoutMs = this.timeoutMs): Promise<SourceOutcome[]> {
    this.stats.rounds++;
    const outcomes = await Promise.all(this.states.map((s) => this.pollSource(s, timeoutMs, signal)));
    this.memory.prune();
    return outcomes;
  }

  /**
   * The producer's scheduled mode: polls every `intervalMs` until less than `reserveMs` + one request timeout remains
   * of `budgetMs` (a Lambda passes `context.getRemainingTimeInMillis()`).
   */
  async pollUntil(budgetMs: number, signal?: AbortSignal): Promise<PollStats> {
    const deadline = this.now() + budgetMs;
    const before = { ...this.stats };
    const left = () => deadline - this.now() - this.reserveMs;
    while (!signal?.aborted && left() > Math.min(this.timeoutMs, 2_000)) {
      const started = this.now();
      await this.pollOnce(signal, Math.min(this.timeoutMs, left()));
      const wait = this.intervalMs - (this.now() - started);
      if (left() - Math.max(0, wait) <= Math.min(this.timeoutMs, 2_000)) break;
      if (wait > 0) await abortableSleep(wait, signal);
    }
    return diffStats(this.stats, before);
  }

  /** The long-running mode (`quakectl ingest`): polls every `intervalMs` until `signal` aborts. */
  async run(signal: AbortSignal, onRound?: (outcomes: SourceOutcome[]) => void): Promise<PollStats> {
    while (!signal.aborted) {
      const started = this.now();
      const outcomes = await this.pollOnce(signal);
      onRound?.(outcomes);
      await abortableSleep(Math.max(0, this.intervalMs - (this.now() - started)), signal);
    }
    return { ...this.stats };
  }

  private async pollSource(state: SourceState, timeoutMs: number, outer?: AbortSignal): Promise<SourceOutcome> {
    const { url } = state.source;
    const outcome: SourceOutcome = { url, status: 'error', events: 0, forwarded: 0, rejected: 0, retracted: 0 };
    if (this.now() < state.notBefore) {
      outcome.status = 'deferred';
      return outcome;
    }
    try {
      const res = await this.get(state, timeoutMs, outer);
      this.stats.requests++;
      if (res.kind === 'unchanged' || res.kind === 'empty') {
        outcome.status = res.kind;
        this.stats[res.kind]++;
        if (res.kind === 'empty') commitValidators(state, res.headers);
        return outcome;
      }
      const parsed = parseFeed(res.body, { server: hostOf(url) });
      if (parsed.format === undefined) {
        throw new FeedFormatError(url, `${url}: ${parsed.rejected[0]?.reason ?? 'unreadable body'}`);
      }
      outcome.events = parsed.accepted.length;
      outcome.rejected = parsed.rejected.length;
      if (parsed.rejected.length > 0) {
        this.log.warn('feed items rejected', { url, rejected: parsed.rejected.length, first: parsed.rejected[0] });
      }
      const fresh = this.select(parsed.accepted, NO_UPDATE_TIMES.has(parsed.format));
      if (fresh.length > 0) await this.forward(fresh, { source: state.source });
      for (const q of fresh) {
        this.memory.remember(q);
        // Published (again): a later retraction of it is news.
        this.retractionsSeen.delete(retractionKey(q));
      }
      const retractions = this.selectRetractions(parsed.retracted ?? []);
      if (retractions.length > 0) {
        if (this.retract) {
          await this.retract(retractions, { source: state.source });
          this.stats.retracted += retractions.length;
        } else {
          this.log.warn('feed retractions not forwarded: no retraction sink', {
            url,
            retracted: retractions.map((r) => `${r.source}:${r.id}`),
          });
        }
        for (const r of retractions) this.retractionsSeen.set(retractionKey(r), r.updatedAt);
        while (this.retractionsSeen.size > this.memory.maxEntries) {
          this.retractionsSeen.delete(this.retractionsSeen.keys().next().value as string);
        }
      }
      outcome.retracted = retractions.length;
      commitValidators(state, res.headers);
      outcome.status = 'changed';
      outcome.forwarded = fresh.length;
      this.stats.changed++;
      this.stats.forwarded += fresh.length;
      return outcome;
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      if (error instanceof FeedUnavailableError && error.retryAfterMs !== undefined) {
        state.notBefore = this.now() + error.retryAfterMs;
      }
      outcome.error = error;
      this.stats.errors++;
      this.log.warn('feed poll failed', { url, error: error.message, retriable: isRetriable(error) });
      return outcome;
    }
  }

  /** New and newer versions, one per source id (the newest, if a body lists an id twice). */
  private select(quakes: Quake[], noUpdateTimes: boolean): Quake[] {
    const chosen = new Map<string, Quake>();
    const oldest = this.maxAgeMs === undefined ? Number.NEGATIVE_INFINITY : this.now() - this.maxAgeMs;
    for (const q of quakes) {
      if (q.originTime < oldest) {
        this.stats.tooOld++;
        continue;
      }
      const verdict = this.memory.check(q);
      let next: Quake | undefined;
      if (verdict === 'new' || verdict === 'updated') next = q;
      else if (verdict === 'revised' && noUpdateTimes) {
        next = { ...q, updatedAt: Math.max(this.now(), (this.memory.updatedAt(q) ?? 0) + 1) };
      }
      if (!next) continue;
      const key = `${next.source}:${next.id}`;
      const prev = chosen.get(key);
      if (!prev || next.updatedAt > prev.updatedAt) chosen.set(key, next);
    }
    return [...chosen.values()];
  }

  /**
   * Retractions not sent on since the id was last published, not older than `maxAgeMs`. Keyed by id, not time: FDSN
   * text gives a withdrawal no time of its own (it is dated at parsing), so a time comparison would resend it on every
   * poll of a changed body.
   */
  private selectRetractions(retractions: Retraction[]): Retraction[] {
    const oldest = this.maxAgeMs === undefined ? Number.NEGATIVE_INFINITY : this.now() - this.maxAgeMs;
    return retractions.filter((r) => r.updatedAt >= oldest && !this.retractionsSeen.has(retractionKey(r)));
  }

  private async get(state: SourceState, timeoutMs: number, outer?: AbortSignal): Promise<FetchResult> {
    const { url } = state.source;
    const headers: Record<string, string> = {
      // QuakeML is served as application/xml (FDSN fdsnws-event 1.2) or text/xml.
      accept: 'application/geo+json, application/json, application/xml, text/xml, text/plain;q=0.9, */*;q=0.5',
      'user-agent': USER_AGENT,
    };
    if (state.etag) headers['if-none-match'] = state.etag;
    if (state.lastModified) headers['if-modified-since'] = state.lastModified;
    const timeout = AbortSignal.timeout(Math.max(1, timeoutMs));
    const signal = outer ? AbortSignal.any([timeout, outer]) : timeout;
    try {
      const res = await this.fetchImpl(url, { headers, signal });
      if (res.status === 304) return { kind: 'unchanged', headers: res.headers };
      // FDSN web services answer 204 No Content when a query matches no event (FDSN-WS spec, `nodata=204`).
      if (res.status === 204) return { kind: 'empty', headers: res.headers };
      if (!res.ok) {
        await res.body?.cancel().catch(() => {});
        if (retriableStatus(res.status)) {
          throw new FeedUnavailableError(url, `${url}: HTTP ${res.status}`, {
            status: res.status,
            retryAfterMs: retryAfterMs(res.headers.get('retry-after'), this.now()),
          });
        }
        throw new FeedRequestError(url, res.status, `${url}: HTTP ${res.status} (check the URL and query)`);
      }
      const body = await res.text();
      if (body.trim() === '' && state.source.kind === 'fdsn') return { kind: 'empty', headers: res.headers };
      return { kind: 'changed', body, headers: res.headers };
    } catch (err) {
      if (err instanceof FeedUnavailableError || err instanceof FeedRequestError) throw err;
      const reason = timeout.aborted ? `timed out after ${timeoutMs} ms` : `request failed: ${describe(err)}`;
      throw new FeedUnavailableError(url, `${url}: ${reason}`, { cause: err });
    }
  }
}

/** Formats whose versions may share an `updatedAt` while their content changes (see the module comment). */
const NO_UPDATE_TIMES: ReadonlySet<FeedFormat> = new Set(['fdsn-text', 'quakeml']);

function retractionKey(r: Pick<Retraction, 'source' | 'id' | 'drill'>): string {
  return `${r.drill ? 'drill:' : ''}${r.source}:${r.id}`;
}

/** The host of a feed URL: the publisher of rows that name none. */
function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname || undefined;
  } catch {
    return undefined;
  }
}

type FetchResult =
  | { kind: 'unchanged'; headers: Headers }
  | { kind: 'empty'; headers: Headers }
  | { kind: 'changed'; body: string; headers: Headers };

function commitValidators(state: SourceState, headers: Headers): void {
  state.etag = headers.get('etag') ?? undefined;
  state.lastModified = headers.get('last-modified') ?? undefined;
  state.notBefore = 0;
}

/** `Retry-After` as seconds or an HTTP date (RFC 9110 10.2.3), capped at 5 minutes. */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, 300_000) : undefined;
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}

function diffStats(after: PollStats, before: PollStats): PollStats {
  const out = { ...after };
  for (const k of Object.keys(out) as (keyof PollStats)[]) out[k] = after[k] - before[k];
  return out;
}
