/**
 * QuakeML 1.2 (QuakeML BED 1.2, https://quake.ethz.ch/quakeml): the FDSN event web service's default format
 * (`format=xml`), what SeisComP-based national networks export and what ObsPy writes. Read with fast-xml-parser,
 * namespace prefixes removed, so every way servers write the namespaces reads the same: the BED namespace as the
 * default with a `q:` root (SeisComP, USGS, EMSC, ObsPy), a `bed:` prefix, or a default-namespace root.
 *
 * Per `eventParameters/event` (several per document), one outcome:
 * - origin = the one named by `preferredOriginID`, else the first; magnitude likewise (`preferredMagnitudeID`).
 * - id: ANSS `catalog:eventsource` + `catalog:eventid` (USGS), else the `eventid=` of the publicID, else the publicID's
 *   last path segment (`smi:org.gfz-potsdam.de/geofon/gfz2026abcd` → `gfz2026abcd`, the id the same server's FDSN text
 *   carries), else the whole publicID.
 * - `depth` is in METRES in QuakeML (km = m / 1000); absent → 10 km, `depthKnown: false`.
 * - version: `updatedAt` = the newest `creationInfo/creationTime` of the event, its origin and its magnitude (SeisComP
 *   keeps the event's creationTime when it adds origins, so the origin's is the one that moves); with none, a numeric
 *   `creationInfo/version` orders the versions of one id (origin time + version ms); else the origin time.
 * - status: `evaluationMode` manual, or `evaluationStatus` confirmed/reviewed/final → 'reviewed'; else 'automatic'.
 * - kind: `type` lower-cased, 'not reported' when absent.
 * - retraction: `type` `not existing`, or the origin's `evaluationStatus` `rejected` (the network withdrew it).
 * - source: the event's `creationInfo/agencyID` lower-cased ('niep', 'us', 'emsc'), else the origin's, else ANSS
 *   `catalog:datasource`, else the server (`ParseOptions.server`), else 'fdsn'.
 * A document that is not well-formed XML, has a DOCTYPE (QuakeML declares none; refusing it rules out entity
 * expansion) or holds no eventParameters is one rejection at index 0.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { FDSN_SOURCE } from './fdsn.ts';
import {
  eventKind,
  firstSource,
  isRecord,
  lowerText,
  NOT_EXISTING,
  normalizeLon,
  plainText,
  toEpochMs,
  toMagnitude,
  toNumber,
  UNKNOWN_DEPTH_KM,
} from './normalize.ts';
import { collectOutcomes, retractionOutcome } from './outcome.ts';
import { showValue, validateQuake } from './schema.ts';
import type { ItemOutcome, ParseOptions, ParseResult } from './types.ts';

type Node = Record<string, unknown>;

const ARRAY_TAGS = new Set(['eventParameters', 'event', 'origin', 'magnitude', 'description']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  htmlEntities: false,
  isArray: (name) => ARRAY_TAGS.has(name),
});

const NAMES = {
  originTime: 'origin/time/value',
  lat: 'origin/latitude/value',
  lon: 'origin/longitude/value',
  depthKm: 'origin/depth/value',
  magnitude: 'magnitude/mag/value',
  updatedAt: 'creationInfo/creationTime',
  id: 'event/@publicID',
} as const;

/** The local name of the document's root element, or undefined when the text is not XML. */
export function xmlRootName(text: string): string | undefined {
  let i = 0;
  for (;;) {
    const lt = text.indexOf('<', i);
    if (lt < 0) return undefined;
    const next = text[lt + 1];
    if (next === '?' || next === '!') {
      // Prolog, comment or DOCTYPE: skip to its end.
      const end = text.startsWith('<!--', lt) ? text.indexOf('-->', lt) : text.indexOf('>', lt);
      if (end < 0) return undefined;
      i = end + 1;
      continue;
    }
    let j = lt + 1;
    while (j < text.length && !/[\s/>]/.test(text[j])) j++;
    const qname = text.slice(lt + 1, j);
    return qname.includes(':') ? qname.slice(qname.indexOf(':') + 1) : qname;
  }
}

/** True when the text is an XML document whose root is QuakeML's (`quakeml`, or a bare `eventParameters`). */
export function looksLikeQuakeml(text: string): boolean {
  const root = xmlRootName(text);
  return root === 'quakeml' || root === 'eventParameters';
}

/** Parses a QuakeML 1.2 document. Never throws. */
export function parseQuakeml(input: string, opts: ParseOptions = {}): ParseResult {
  // An XML declaration must open the document: a BOM or blank lines before it would make it malformed.
  const text = input.replace(/^\uFEFF/, '').trim();
  const fail = (reason: string): ParseResult => ({ accepted: [], rejected: [{ index: 0, reason }] });
  if (/<!DOCTYPE/i.test(text))
    return fail('document: has a DOCTYPE; QuakeML declares none (refused: entity expansion)');
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    return fail(`document: not well-formed XML (line ${valid.err.line}, column ${valid.err.col}: ${valid.err.msg})`);
  }
  let doc: unknown;
  try {
    doc = parser.parse(text);
  } catch (err) {
    return fail(`document: ${err instanceof Error ? err.message : String(err)}`);
  }
  const root = isRecord(doc) ? (isRecord(doc.quakeml) ? doc.quakeml : doc) : undefined;
  const params = root && Array.isArray(root.eventParameters) ? root.eventParameters.filter(isRecord) : [];
  if (params.length === 0) {
    return fail(`eventParameters: missing, root <${showValue(xmlRootName(text))}> holds no QuakeML eventParameters`);
  }
  const events = params.flatMap((p) => (Array.isArray(p.event) ? p.event : []));
  return collectOutcomes(
    events,
    (e) => parseQuakemlEvent(e, opts),
    (e) => (isRecord(e) ? eventId(e) : ''),
  );
}

/** One `event` element, as fast-xml-parser gives it (namespace prefixes removed, attributes as `@_name`). */
export function parseQuakemlEvent(event: unknown, opts: ParseOptions = {}): ItemOutcome {
  if (!isRecord(event)) return { kind: 'rejection', reason: `event: ${showValue(event)} is not an element` };
  const id = eventId(event);
  const origin = preferred(event.origin, event.preferredOriginID);
  const magnitude = preferred(event.magnitude, event.preferredMagnitudeID);
  const eventInfo = child(event, 'creationInfo');
  const originInfo = child(origin, 'creationInfo');
  const source =
    firstSource(text(child(eventInfo, 'agencyID')), text(child(originInfo, 'agencyID')), event['@_datasource']) ||
    firstSource(opts.server) ||
    FDSN_SOURCE;
  const type = lowerText(text(event.type));
  const evaluationStatus = lowerText(text(child(origin, 'evaluationStatus')));
  const created = [eventInfo, originInfo, child(magnitude, 'creationInfo')]
    .map((info) => toEpochMs(text(child(info, 'creationTime'))))
    .filter(Number.isFinite);
  const newest = created.length > 0 ? Math.max(...created) : undefined;
  if (type === NOT_EXISTING || evaluationStatus === 'rejected') {
    const why = type === NOT_EXISTING ? `quakeml type "${NOT_EXISTING}"` : 'quakeml origin evaluationStatus "rejected"';
    return retractionOutcome(id, source, newest, why, opts);
  }
  if (!origin) return { kind: 'rejection', reason: 'origin: missing, the event has none' };
  if (!magnitude) return { kind: 'rejection', reason: 'magnitude: missing, the event has none' };
  const timeRaw = text(child(child(origin, 'time'), 'value'));
  const latRaw = text(child(child(origin, 'latitude'), 'value'));
  const lonRaw = text(child(child(origin, 'longitude'), 'value'));
  const depthRaw = text(child(child(origin, 'depth'), 'value'));
  const magRaw = text(child(child(magnitude, 'mag'), 'value'));
  const originTime = toEpochMs(timeRaw);
  const depthM = toNumber(depthRaw);
  const version = Number(text(child(eventInfo, 'version')) || text(child(originInfo, 'version')));
  const updatedAt =
    newest ?? (Number.isInteger(version) && version >= 0 && version < 1000 ? originTime + version : originTime);
  const mode = lowerText(text(child(origin, 'evaluationMode')));
  const reviewed = mode === 'manual' || ['confirmed', 'reviewed', 'final'].includes(evaluationStatus);
  const candidate = {
    id,
    source,
    sourceIds: id ? [id] : [],
    originTime,
    lat: toNumber(latRaw),
    lon: normalizeLon(toNumber(lonRaw)),
    depthKm: depthRaw === '' ? UNKNOWN_DEPTH_KM : Math.round(depthM) / 1000,
    ...(depthRaw === '' ? { depthKnown: false } : {}),
    magnitude: toMagnitude(magRaw),
    magType: lowerText(text(child(magnitude, 'type'))),
    place: place(event.description),
    updatedAt,
    status: reviewed ? 'reviewed' : 'automatic',
    kind: eventKind(type),
    drill: opts.drill === true,
  };
  const raw = {
    id: event['@_publicID'],
    originTime: timeRaw,
    lat: latRaw,
    lon: lonRaw,
    depthKm: depthRaw === '' ? undefined : `${depthRaw} m`,
    magnitude: magRaw,
  };
  const v = validateQuake(candidate, raw, NAMES, { now: opts.now });
  return v.ok ? { kind: 'quake', quake: v.quake } : { kind: 'rejection', reason: v.reason };
}

function eventId(event: Node): string {
  const src = plainText(event['@_eventsource']);
  const code = plainText(event['@_eventid']);
  if (src && code) return code.startsWith(src) ? code : `${src}${code}`;
  const publicId = plainText(event['@_publicID']);
  const query = /[?&]eventid=([^&#]+)/i.exec(publicId);
  if (query) return decodeURIComponentSafe(query[1]);
  const path = publicId.replace(/^(smi|quakeml):/i, '').replace(/[/#]+$/, '');
  const last = path.slice(path.lastIndexOf('/') + 1);
  return last || publicId;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The element whose publicID the reference names, else the first. */
function preferred(list: unknown, ref: unknown): Node | undefined {
  const items = Array.isArray(list) ? list.filter(isRecord) : [];
  const wanted = text(ref);
  return (wanted && items.find((o) => plainText(o['@_publicID']) === wanted)) || items[0];
}

/** An element's child (single), or undefined. */
function child(node: unknown, name: string): unknown {
  if (!isRecord(node)) return undefined;
  const v = node[name];
  return Array.isArray(v) ? v[0] : v;
}

/** An element's text content ('' when absent or not text). */
function text(node: unknown): string {
  if (typeof node === 'string') return node.trim();
  if (typeof node === 'number' || typeof node === 'boolean') return String(node);
  if (isRecord(node) && '#text' in node) return text(node['#text']);
  return '';
}

const PLACE_TYPES = ['earthquake name', 'region name', 'flinn-engdahl region', 'nearest cities'];

function place(descriptions: unknown): string {
  const list = (Array.isArray(descriptions) ? descriptions : [descriptions]).filter(isRecord);
  for (const t of PLACE_TYPES) {
    const d = list.find((x) => lowerText(text(x.type)) === t && text(x.text) !== '');
    if (d) return text(d.text);
  }
  return list.map((x) => text(x.text)).find((s) => s !== '') ?? '';
}
