/**
 * `subscribers import` and `seed` over the SubscriberStore: parse/generate, then one idempotent bulk import. Bad rows
 * never stop the good ones; they come back with their line numbers.
 */
import type { SubscriberStore, UpsertResult } from '../segments/index.ts';
import { refuseDuplicateIds } from './duplicate-ids.ts';
import { type SeedOptions, seedSubscribers } from './seed.ts';
import { type BadRow, detectFormat, parseSubscribersFile } from './subscribers-file.ts';

export interface ImportReport {
  file: string;
  format: 'csv' | 'ndjson';
  rows: number;
  inserted: number;
  updated: number;
  moved: number;
  rejected: BadRow[];
}

export async function importSubscribersText(
  store: SubscriberStore,
  file: string,
  text: string,
  onProgress?: (done: number, total: number) => void,
): Promise<ImportReport> {
  const parsed = parseSubscribersFile(text, detectFormat(file, text));
  const { rows, duplicates } = refuseDuplicateIds(parsed.rows);
  const result = await store.importAll(
    rows.map((r) => r.subscriber),
    { onProgress },
  );
  // The store validates again; anything it refuses is reported against the row's line too.
  const late = result.rejected.map((r) => ({ line: rows[r.index].line, id: r.id, reason: r.reason }));
  return {
    file,
    format: parsed.format,
    rows: parsed.rows.length + parsed.bad.length,
    inserted: result.inserted,
    updated: result.updated,
    moved: result.moved,
    rejected: [...parsed.bad, ...duplicates, ...late].sort((a, b) => a.line - b.line),
  };
}

export interface SeedReport extends Omit<UpsertResult, 'rejected'> {
  count: number;
  center: { lat: number; lon: number };
  radiusKm: number;
  seed: number;
  channel: string;
  rejected: number;
}

export async function seedStore(
  store: SubscriberStore,
  opts: SeedOptions & { assumeNew?: boolean },
  onProgress?: (done: number, total: number) => void,
): Promise<SeedReport> {
  const subs = seedSubscribers(opts);
  const r = await store.importAll(subs, { assumeNew: opts.assumeNew, onProgress });
  return {
    count: opts.count,
    center: opts.center,
    radiusKm: opts.radiusKm,
    seed: opts.seed ?? 1,
    channel: opts.webhook ? `webhook ${opts.webhook}` : 'log',
    inserted: r.inserted,
    updated: r.updated,
    moved: r.moved,
    rejected: r.rejected.length,
  };
}

export function parseLatLon(v: string): { lat: number; lon: number } {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$/.exec(v);
  if (!m) throw new Error(`expected LAT,LON (e.g. 45.77,26.76), got "${v}"`);
  const lat = Number(m[1]);
  const lon = Number(m[2]);
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180) throw new Error(`LAT,LON out of range: "${v}"`);
  return { lat, lon };
}
