/**
 * The producer's scheduled mode (an EventBridge rule invoking it every minute): which feeds to poll, from the
 * function's environment, and one FeedPoller per execution environment so that a warm environment keeps its
 * validators (the next invocation's first GET is conditional) and the versions it already forwarded.
 *
 * Environment: QUAKECTL_USGS_FEED_URL (a USGS GeoJSON summary feed, e.g.
 * https://earthquake.usgs.gov/earthquakes/feed/v1.0/summary/all_hour.geojson), QUAKECTL_FDSN_QUERY_URL (an FDSN
 * event query with format=text), both comma-separated lists; QUAKECTL_FEEDS (any of them, comma-separated: the kind
 * is told from the URL); QUAKECTL_POLL_INTERVAL_MS (default 5000); QUAKECTL_INGEST_MAX_AGE_S (default 3600: older
 * events, by origin time, are not forwarded; 0 = no limit).
 */
import { FeedPoller, type FeedSource, type Forward, type Retract } from './feed-poller.ts';
import type { IngestLog } from './support.ts';

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** An FDSN event service path (`/fdsnws/event/1/query`) or a `format=text` query; anything else is GeoJSON. */
export function feedKindOf(url: string): FeedSource['kind'] {
  return /\/fdsnws\/event\/|[?&]format=text\b/i.test(url) ? 'fdsn' : 'usgs';
}

export function feedSourcesFromEnv(env: NodeJS.ProcessEnv = process.env): FeedSource[] {
  const sources: FeedSource[] = [
    ...list(env.QUAKECTL_USGS_FEED_URL).map((url) => ({ kind: 'usgs' as const, url })),
    ...list(env.QUAKECTL_FDSN_QUERY_URL).map((url) => ({ kind: 'fdsn' as const, url })),
    ...list(env.QUAKECTL_FEEDS).map((url) => ({ kind: feedKindOf(url), url })),
  ];
  const seen = new Set<string>();
  return sources.filter((s) => !seen.has(s.url) && seen.add(s.url));
}

/** Seconds from the environment to ms; default 1 hour, 0 (or not a number) = no limit. */
export function maxAgeMs(seconds: string | undefined): number | undefined {
  const s = Number(seconds ?? 3_600);
  return Number.isFinite(s) && s > 0 ? s * 1000 : undefined;
}

/** The environment's poller, or undefined when no feed is configured (the scheduled invocation is then a no-op). */
export function scheduledPoller(
  forward: Forward,
  log: IngestLog,
  env: NodeJS.ProcessEnv = process.env,
  retract?: Retract,
): FeedPoller | undefined {
  const sources = feedSourcesFromEnv(env);
  if (sources.length === 0) return undefined;
  return new FeedPoller({
    sources,
    forward,
    ...(retract ? { retract } : {}),
    log,
    intervalMs: Number(env.QUAKECTL_POLL_INTERVAL_MS ?? 5_000),
    maxAgeMs: maxAgeMs(env.QUAKECTL_INGEST_MAX_AGE_S),
    timeoutMs: 8_000,
    reserveMs: 2_000,
  });
}
