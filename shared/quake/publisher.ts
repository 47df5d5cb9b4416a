/**
 * One name per publisher across formats. The same agency is written differently by its own feeds: USGS is `usgs` in
 * its GeoJSON feeds and `us` (its FDSN Catalog column, ComCat's network code) in FDSN text and QuakeML; EMSC is
 * `emsc` in its websocket and FDSN JSON and `emsc-rts` (its real-time catalog) in FDSN text. Comparisons of sources —
 * "a source never associates with itself", "every source that reported the event withdrew it" — use this key, so a
 * USGS GeoJSON deletion retracts an event USGS first published as an FDSN row.
 */
const ALIASES: Readonly<Record<string, string>> = {
  us: 'usgs',
  usgs: 'usgs',
  'emsc-rts': 'emsc',
  emsc: 'emsc',
};

/** The publisher key of a `Quake.source` / `Retraction.source` (lower-cased; known aliases folded). */
export function publisherKey(source: string): string {
  const s = source.trim().toLowerCase();
  return ALIASES[s] ?? s;
}
