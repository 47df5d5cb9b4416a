/**
 * Subscriber import files: CSV with header `id,lat,lon,minMmi,channel,target[,secret][,locale]` (columns by name, any
 * order; RFC 4180 quoting, read with csv-parse) or NDJSON with the same fields (or `channel` as `{type,target,secret}`). Every row is
 * validated on its own: good rows are returned for import, bad ones with their line number and reason.
 */

import { parse } from 'csv-parse/sync';
import { ValidationError } from '../infra/errors.ts';
import { type SubscriberInput, subscriberSchema } from '../segments/index.ts';

export interface FileRow {
  line: number;
  subscriber: SubscriberInput;
}

export interface BadRow {
  line: number;
  id?: string;
  reason: string;
}

export interface ParsedFile {
  format: 'csv' | 'ndjson';
  rows: FileRow[];
  bad: BadRow[];
}

export const CSV_REQUIRED = ['id', 'lat', 'lon', 'minMmi', 'channel', 'target'] as const;
const CSV_KNOWN = new Set<string>([...CSV_REQUIRED, 'secret', 'locale']);

export function detectFormat(path: string, text: string): 'csv' | 'ndjson' {
  if (/\.(ndjson|jsonl|json)$/i.test(path)) return 'ndjson';
  if (/\.csv$/i.test(path)) return 'csv';
  return text.trimStart().startsWith('{') ? 'ndjson' : 'csv';
}

export function parseSubscribersFile(text: string, format: 'csv' | 'ndjson'): ParsedFile {
  return format === 'csv' ? parseCsv(text) : parseNdjson(text);
}

function parseCsv(text: string): ParsedFile {
  const records = readCsv(text).filter((r) => !(r.cells.length === 1 && r.cells[0] === ''));
  if (records.length === 0) return { format: 'csv', rows: [], bad: [] };
  const [{ line: headerLine, cells: header }, ...data] = records;
  const missing = CSV_REQUIRED.filter((c) => !header.includes(c));
  if (missing.length > 0) {
    throw new ValidationError(
      `line ${headerLine}: CSV header lacks ${missing.join(', ')} (expected ${CSV_REQUIRED.join(',')}[,secret][,locale])`,
    );
  }
  const unknown = header.filter((h) => !CSV_KNOWN.has(h));
  if (unknown.length > 0) throw new ValidationError(`line ${headerLine}: unknown CSV column(s) ${unknown.join(', ')}`);
  const rows: FileRow[] = [];
  const bad: BadRow[] = [];
  for (const { line, cells } of data) {
    if (cells.length !== header.length) {
      bad.push({ line, reason: `expected ${header.length} fields, found ${cells.length}` });
      continue;
    }
    const rec: Record<string, string> = {};
    header.forEach((h, k) => {
      rec[h] = cells[k];
    });
    const numbers = toNumbers(rec, ['lat', 'lon', 'minMmi']);
    if (typeof numbers === 'string') {
      bad.push({ line, id: rec.id || undefined, reason: numbers });
      continue;
    }
    const candidate = {
      id: rec.id,
      lat: numbers.lat,
      lon: numbers.lon,
      ...(numbers.minMmi !== undefined ? { minMmi: numbers.minMmi } : {}),
      channel: { type: rec.channel, target: rec.target, ...(rec.secret ? { secret: rec.secret } : {}) },
      ...(rec.locale ? { locale: rec.locale } : {}),
    };
    validate(candidate, line, rows, bad);
  }
  return { format: 'csv', rows, bad };
}

/**
 * Records of an RFC 4180 CSV text with csv-parse (a BOM dropped, blank lines skipped, fields trimmed, any field count;
 * a quote inside an unquoted field is kept as text), each with the line it starts on. A quoted field may span lines,
 * so a structural error (an unclosed quote) cannot be confined to one row: the file is refused (ValidationError)
 * with the line csv-parse names.
 */
function readCsv(text: string): { line: number; cells: string[] }[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      bom: true,
      info: true,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      trim: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (err) {
    const e = err as Error & { code?: string; lines?: number };
    if (typeof e.code === 'string' && e.code.startsWith('CSV_')) {
      throw new ValidationError(`line ${e.lines ?? '?'}: ${e.message}`, { cause: err });
    }
    throw err;
  }
  // `info.lines` is the line a record ends on; a quoted field with line breaks started that many lines earlier.
  return records.map(({ record, info }) => ({
    line: info.lines - record.reduce((n, cell) => n + (cell.match(/\n/g)?.length ?? 0), 0),
    cells: record,
  }));
}

function parseNdjson(text: string): ParsedFile {
  const rows: FileRow[] = [];
  const bad: BadRow[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (raw === '') continue;
    const line = i + 1;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch (err) {
      bad.push({ line, reason: `not JSON: ${(err as Error).message}` });
      continue;
    }
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
      bad.push({ line, reason: 'expected a JSON object' });
      continue;
    }
    const o = obj as Record<string, unknown>;
    const channel =
      o.channel && typeof o.channel === 'object'
        ? o.channel
        : { type: o.channel, target: o.target, ...(o.secret !== undefined ? { secret: o.secret } : {}) };
    const candidate = {
      id: o.id,
      lat: o.lat,
      lon: o.lon,
      ...(o.minMmi !== undefined ? { minMmi: o.minMmi } : {}),
      channel,
      ...(o.locale !== undefined ? { locale: o.locale } : {}),
    };
    validate(candidate, line, rows, bad);
  }
  return { format: 'ndjson', rows, bad };
}

function validate(candidate: Record<string, unknown>, line: number, rows: FileRow[], bad: BadRow[]): void {
  const parsed = subscriberSchema.safeParse(candidate);
  const id = typeof candidate.id === 'string' && candidate.id ? candidate.id : undefined;
  if (parsed.success) rows.push({ line, subscriber: parsed.data });
  else {
    const reason = parsed.error.issues.map((i) => `${i.path.join('.') || 'row'}: ${i.message}`).join('; ');
    bad.push({ line, id, reason });
  }
}

function toNumbers(rec: Record<string, string>, keys: string[]): Record<string, number | undefined> | string {
  const out: Record<string, number | undefined> = {};
  for (const k of keys) {
    const v = rec[k];
    if (v === undefined || v === '') {
      if (k === 'minMmi') {
        out[k] = undefined;
        continue;
      }
      return `${k}: missing`;
    }
    const n = Number(v);
    if (!Number.isFinite(n)) return `${k}: "${v}" is not a number`;
    out[k] = n;
  }
  return out;
}

/** Splits one CSV line (RFC 4180 quoting: a quoted field may contain commas and doubled quotes), with csv-parse. */
export function splitCsvLine(line: string): string[] {
  const cells = readCsv(line.replace(/\r?\n/g, ' '))[0]?.cells;
  return cells ?? [''];
}
