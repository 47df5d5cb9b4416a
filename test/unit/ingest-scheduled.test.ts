/** The producer's scheduled mode reads its feeds from the environment: kinds, lists, de-duplication. */
import { describe, expect, it } from 'vitest';
import { feedKindOf, feedSourcesFromEnv, scheduledPoller } from '../../shared/ingest/scheduled.ts';
import { silentLog } from '../../shared/ingest/support.ts';

describe('feedSourcesFromEnv', () => {
  it('reads the USGS and FDSN variables and the generic list, each URL once', () => {
    const usgs = 'https://earthquake.usgs.gov/earthquakes/feed/v1.0/summary/all_hour.geojson';
    const fdsn = 'https://www.seismicportal.eu/fdsnws/event/1/query?format=text&limit=100';
    const sources = feedSourcesFromEnv({
      QUAKECTL_USGS_FEED_URL: ` ${usgs} `,
      QUAKECTL_FDSN_QUERY_URL: fdsn,
      QUAKECTL_FEEDS: `${usgs},https://example.org/query?format=text,https://example.org/feed.geojson`,
    });
    expect(sources).toEqual([
      { kind: 'usgs', url: usgs },
      { kind: 'fdsn', url: fdsn },
      { kind: 'fdsn', url: 'https://example.org/query?format=text' },
      { kind: 'usgs', url: 'https://example.org/feed.geojson' },
    ]);
  });

  it('no feed configured: no poller', () => {
    expect(scheduledPoller(async () => {}, silentLog, {})).toBeUndefined();
    expect(scheduledPoller(async () => {}, silentLog, { QUAKECTL_FEEDS: ' , ' })).toBeUndefined();
  });

  it('tells FDSN services from GeoJSON feeds by path or format', () => {
    expect(feedKindOf('https://service.iris.edu/fdsnws/event/1/query?minmag=5')).toBe('fdsn');
    expect(feedKindOf('https://earthquake.usgs.gov/fdsnws/event/1/query?format=geojson')).toBe('fdsn');
    expect(feedKindOf('https://earthquake.usgs.gov/earthquakes/feed/v1.0/summary/4.5_day.geojson')).toBe('usgs');
  });
});
