/**
 * Format detection and the one entry point, `parseFeed`. Never throws: whatever the input, it returns the events it
 * could read, the retractions it held, and a reason for each item it could not read (an undetectable input is one
 * rejection at index 0).
 *
 * Detection, in order: text starting with `<` is XML, QuakeML when its root is `quakeml` (any prefix) or
 * `eventParameters`; a JSON FeatureCollection is EMSC's FDSN `format=json` when its features are EMSC's
 * (`looksLikeEmscFeature`: `unid`, `evtype`, `lastupdate`, `flynn_region`…), else USGS GeoJSON; a JSON object with
 * `action`/`data`, an array or JSON Lines of them is the EMSC websocket; a Feature is EMSC's when it carries `unid`,
 * else USGS's; text whose first line is the FDSN header or has 13+ `|` columns (or is empty: HTTP 204) is FDSN text.
 */
import { looksLikeEmscFeature, parseEmscCollection, parseEmscItem, parseEmscMessages } from './emsc.ts';
import { parseFdsnText } from './fdsn.ts';
import { isRecord } from './normalize.ts';
import { collectOutcomes } from './outcome.ts';
import { looksLikeQuakeml, parseQuakeml, xmlRootName } from './quakeml.ts';
import { showValue } from './schema.ts';
import type { FeedFormat, ParseOptions, ParseResult } from './types.ts';
import { parseUsgsCollection, parseUsgsItem } from './usgs.ts';

export interface FeedParseResult extends ParseResult {
  /** The format parsed, or undefined when none could be detected. */
  format: FeedFormat | undefined;
}

export const FEED_FORMATS: readonly FeedFormat[] = [
  'usgs-geojson',
  'usgs-feature',
  'emsc-ws',
  'emsc-json',
  'fdsn-text',
  'quakeml',
];

/** The format of an already-decoded JSON value, or undefined. */
export function detectJsonFormat(value: unknown): FeedFormat | undefined {
  if (Array.isArray(value)) {
    return value.length === 0 || value.every((v) => isRecord(v) && ('action' in v || 'data' in v))
      ? 'emsc-ws'
      : undefined;
  }
  if (!isRecord(value)) return undefined;
  if (value.type === 'FeatureCollection') {
    // The envelope is the same for USGS and EMSC: the features tell them apart.
    return Array.isArray(value.features) && value.features.some(looksLikeEmscFeature) ? 'emsc-json' : 'usgs-geojson';
  }
  if ('action' in value && 'data' in value) return 'emsc-ws';
  if (value.type === 'Feature') {
    // An EMSC Feature outside its websocket envelope carries `unid`.
    return isRecord(value.properties) && 'unid' in value.properties ? 'emsc-ws' : 'usgs-feature';
  }
  return undefined;
}

type Decoded =
  | { kind: 'json'; value: unknown }
  | { kind: 'jsonl'; values: unknown[] }
  | { kind: 'xml'; text: string }
  | { kind: 'text'; text: string };

function decode(text: string): Decoded {
  const t = text.replace(/^\uFEFF/, '').trim();
  if (t.startsWith('<')) return { kind: 'xml', text: t };
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return { kind: 'json', value: JSON.parse(t) };
    } catch {
      // JSON Lines: one websocket message per line, as a listener would record them.
      const lines = t.split(/\r?\n/).filter((l) => l.trim() !== '');
      const values: unknown[] = [];
      for (const l of lines) {
        try {
          values.push(JSON.parse(l));
        } catch {
          values.push(undefined);
        }
      }
      if (values.some((v) => v !== undefined)) return { kind: 'jsonl', values };
    }
  }
  return { kind: 'text', text: t };
}

/** The format of raw feed text or a decoded JSON value, or undefined. An empty text is an empty FDSN result (204). */
export function detectFormat(input: unknown): FeedFormat | undefined {
  if (typeof input !== 'string') return detectJsonFormat(input);
  const d = decode(input);
  if (d.kind === 'json') return detectJsonFormat(d.value);
  if (d.kind === 'jsonl') return 'emsc-ws';
  if (d.kind === 'xml') return looksLikeQuakeml(d.text) ? 'quakeml' : undefined;
  if (d.text === '' || looksLikeFdsnText(d.text)) return 'fdsn-text';
  return undefined;
}

function looksLikeFdsnText(t: string): boolean {
  const first = t.split(/\r?\n/, 1)[0];
  return /^#\s*EventID\s*\|/i.test(first) || first.split('|').length >= 13;
}

/**
 * Parses a feed given as text (any supported format) or as a decoded JSON value. `retracted` is present only when
 * the input held retractions.
 */
export function parseFeed(input: unknown, opts: ParseOptions = {}): FeedParseResult {
  try {
    return parseUnsafe(input, opts);
  } catch (err) {
    // Parsers are written not to throw; this keeps one unforeseen input from sinking a consumer.
    return { format: undefined, accepted: [], rejected: [{ index: 0, reason: `input: ${errorText(err)}` }] };
  }
}

function parseUnsafe(input: unknown, opts: ParseOptions): FeedParseResult {
  let value: unknown = input;
  let lines: unknown[] | undefined;
  if (typeof input === 'string') {
    const d = decode(input);
    if (d.kind === 'xml') {
      if (opts.format === 'quakeml' || (!opts.format && looksLikeQuakeml(d.text))) {
        return { format: 'quakeml', ...parseQuakeml(d.text, opts) };
      }
      const root = xmlRootName(d.text);
      return unknownFormat(opts.format, root ? `an XML document with root <${root}>` : 'XML-like text');
    }
    if (d.kind === 'text') {
      if (opts.format === 'fdsn-text' || (!opts.format && (d.text === '' || looksLikeFdsnText(d.text)))) {
        return { format: 'fdsn-text', ...parseFdsnText(d.text, opts) };
      }
      return unknownFormat(opts.format, `text starting ${showValue(d.text.slice(0, 40))}`);
    }
    if (d.kind === 'jsonl') lines = d.values;
    else value = d.value;
  }
  if (lines) {
    if (opts.format && opts.format !== 'emsc-ws') return unknownFormat(opts.format, 'JSON Lines');
    return { format: 'emsc-ws', ...parseEmscMessages(lines, opts) };
  }
  const format = opts.format ?? detectJsonFormat(value);
  switch (format) {
    case 'usgs-geojson':
      return { format, ...parseUsgsCollection(value, opts) };
    case 'usgs-feature':
      return { format, ...collectOutcomes([value], (f) => parseUsgsItem(f, opts)) };
    case 'emsc-json':
      return { format, ...parseEmscCollection(value, opts) };
    case 'emsc-ws':
      return {
        format,
        ...(Array.isArray(value)
          ? parseEmscMessages(value, opts)
          : collectOutcomes([value], (m) => parseEmscItem(m, opts))),
      };
    case 'fdsn-text':
    case 'quakeml':
      return typeof value === 'string'
        ? { format, ...(format === 'quakeml' ? parseQuakeml(value, opts) : parseFdsnText(value, opts)) }
        : unknownFormat(format, `a JSON ${Array.isArray(value) ? 'array' : typeof value}`);
    default:
      return unknownFormat(
        undefined,
        `a JSON ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value}`,
      );
  }
}

function unknownFormat(wanted: FeedFormat | undefined, what: string): FeedParseResult {
  const reason = wanted
    ? `format: ${what} is not ${wanted}`
    : `format: ${what} is not a USGS GeoJSON feed or Feature, an EMSC websocket message or FDSN JSON, QuakeML, ` +
      'or FDSN event text';
  return { format: undefined, accepted: [], rejected: [{ index: 0, reason }] };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
