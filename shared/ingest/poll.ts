/**
 * Scheduled ingestion: conditional GETs of feed URLs (USGS GeoJSON summary feeds, FDSN event queries) so that an
 * unchanged feed costs one 304 and nothing else. Validators are kept per URL for the life of the process (a warm
 * Lambda environment keeps them across invocations).
 */
export interface FeedState {
  url: string;
  etag?: string;
  lastModified?: string;
}

export type FetchOutcome =
  | { status: 'unchanged' }
  | { status: 'changed'; body: string }
  | { status: 'empty' }
  | { status: 'error'; reason: string };

export async function fetchFeed(
  state: FeedState,
  timeoutMs = 5000,
  fetchImpl: typeof fetch = fetch,
): Promise<FetchOutcome> {
  const headers: Record<string, string> = { accept: 'application/json, text/plain;q=0.9, */*;q=0.5' };
  if (state.etag) headers['if-none-match'] = state.etag;
  if (state.lastModified) headers['if-modified-since'] = state.lastModified;
  let res: Response;
  try {
    res = await fetchImpl(state.url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    return { status: 'error', reason: `fetch failed: ${(err as Error).message}` };
  }
  if (res.status === 304) return { status: 'unchanged' };
  // FDSN answers 204 No Content when a query matches no event.
  if (res.status === 204) return { status: 'empty' };
  if (!res.ok) return { status: 'error', reason: `HTTP ${res.status}` };
  const body = await res.text();
  state.etag = res.headers.get('etag') ?? state.etag;
  state.lastModified = res.headers.get('last-modified') ?? state.lastModified;
  return { status: 'changed', body };
}

export interface PollOptions {
  feeds: FeedState[];
  remainingMs(): number;
  /** Stop when less than this remains. */
  reserveMs: number;
  intervalMs: number;
  onDocument(url: string, body: string): Promise<void>;
  onError?(url: string, reason: string): void;
  sleep?: (ms: number) => Promise<void>;
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
}

/** Polls every feed every `intervalMs` until the budget runs low. Returns the number of polling rounds. */
export async function pollFeeds(opts: PollOptions): Promise<{ rounds: number; changed: number; unchanged: number }> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  let rounds = 0;
  let changed = 0;
  let unchanged = 0;
  while (opts.remainingMs() > opts.reserveMs + (opts.timeoutMs ?? 5000)) {
    const started = Date.now();
    rounds++;
    for (const feed of opts.feeds) {
      const out = await fetchFeed(feed, opts.timeoutMs, opts.fetchImpl);
      if (out.status === 'changed') {
        changed++;
        await opts.onDocument(feed.url, out.body);
      } else if (out.status === 'error') opts.onError?.(feed.url, out.reason);
      else unchanged++;
    }
    const wait = opts.intervalMs - (Date.now() - started);
    if (opts.remainingMs() - Math.max(0, wait) <= opts.reserveMs + (opts.timeoutMs ?? 5000)) break;
    if (wait > 0) await sleep(wait);
  }
  return { rounds, changed, unchanged };
}
