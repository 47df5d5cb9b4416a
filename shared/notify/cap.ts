/**
 * CAP 1.2 (OASIS Common Alerting Protocol, Version 1.2, 1 July 2010; ITU-T X.1303) messages for an event's versions
 * and its retraction, and the Atom index (RFC 4287) that public-alert aggregators poll, each message linked as
 * `application/cap+xml`. Pure: no clock, no I/O; the same inputs give byte-identical documents, so regenerating a
 * directory rewrites nothing that changed meaning.
 *
 * One message per alerted version: the first `msgType` `Alert`, every later one `Update`, a retraction `Cancel`; an
 * Update or Cancel `references` every earlier message of the event (`sender,identifier,sent`, space-separated, CAP
 * 1.2 section 3.2.1). `status` `Actual`, or `Exercise` for drills (with a `note` saying so); `scope` `Public`.
 *
 * One `info` (`category` `Geo`, `event` "Earthquake", SAME `eventCode` `EQW`) per message:
 * - areas: one `circle` per intensity band (MMI VIII, VI, IV and the profile's lowest alerted MMI) around the
 *   epicentre, radius `intensityModelFor(quake).footprintRadiusKm(mmi, 0.5)` — the median footprint: inside it the
 *   predicted P(MMI ≥ band) is at least one half, which is what `certainty` `Likely` means (CAP: "p > ~50%").
 * - `severity` from the highest MMI predicted (at the epicentre): VIII+ `Extreme` (heavy damage), VI+ `Severe` (damage begins),
 *   IV+ `Moderate` (felt by most), else `Minor` (the MMI scale's descriptions; the project's own mapping).
 * - `urgency` `Immediate` while the shaking can still be under way (sent within `IMMEDIATE_WINDOW_S` of the origin),
 *   else `Past`; `responseType` `Shelter` (drop, cover, hold on) from MMI VI, `Monitor` below; a Cancel says
 *   `AllClear`, `Past`, `Minor`, `Unlikely`.
 * - `parameter`s: `OriginTime` (ISO 8601 UTC), `Magnitude`, `MagnitudeType`, `DepthKm`, `EventId`, `MaxPredictedMMI`.
 *
 * Times are CAP's dateTime form without fractions or `Z` ("2010-07-01T16:49:07+00:00", section 3.3.2).
 */
import { XMLBuilder } from 'fast-xml-parser';
import type { Quake } from '../quake/types.ts';
import { intensityModelFor } from '../seismo/index.ts';

export const CAP_NAMESPACE = 'urn:oasis:names:tc:emergency:cap:1.2';
export const CAP_MEDIA_TYPE = 'application/cap+xml';
/** Bands drawn as circles, strongest first (MMI). The profile's lowest alerted MMI is added when lower. */
export const CAP_BANDS = [8, 6, 4] as const;
/** Shaking can still be under way this long after the origin (s): surface waves of a large event last minutes. */
export const IMMEDIATE_WINDOW_S = 600;

export interface CapOptions {
  /** CAP `sender`: globally unique, no spaces, commas or `<`/`&` (an Internet domain or e-mail form). */
  sender: string;
  senderName?: string;
  /** Lowest MMI the system alerts (fanout.minSubscriberMmi); drawn as the outermost circle when below MMI IV. */
  minMmi?: number;
  /** Seconds a message stays current after it is sent (CAP `expires`); default one hour. */
  expiresS?: number;
  /** Base URL the documents are served from: each message's `web` and the Atom links use it. */
  baseUrl?: string;
}

/** What a later message needs to name an earlier one. */
export interface CapRef {
  sender: string;
  identifier: string;
  /** CAP dateTime string. */
  sent: string;
}

export interface CapMessage extends CapRef {
  msgType: 'Alert' | 'Update' | 'Cancel';
  status: 'Actual' | 'Exercise';
  eventId: string;
  headline: string;
  /** The document, UTF-8 XML. */
  xml: string;
}

/** A network's withdrawal of the event (shared/events RetractionRecord has these). */
export interface CapRetraction {
  reason: string;
  /** Epoch ms the network retracted it: the Cancel's `sent`. */
  updatedAt: number;
}

const ROMAN = ['', 'I', 'II', 'III', 'IV', 'V', 'VI', 'VII', 'VIII', 'IX', 'X'];

/** CAP dateTime ("YYYY-MM-DDThh:mm:ss+00:00") of epoch ms, UTC, seconds truncated. Throws RangeError on NaN. */
export function capDateTime(ms: number): string {
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}+00:00`;
}

/** CAP forbids spaces, commas, `<` and `&` in identifiers and senders; anything outside a safe set becomes `-`. */
function token(s: string): string {
  return s.replace(/[^A-Za-z0-9._:@-]/g, '-');
}

/** Identifier of the message for one version (`updatedAt`) or the cancellation of an event. */
export function capIdentifier(eventId: string, updatedAt: number, cancel = false): string {
  return `quakectl-${token(eventId)}-${cancel ? 'cancel-' : ''}${updatedAt}`;
}

export type CapSeverity = 'Extreme' | 'Severe' | 'Moderate' | 'Minor';

/** CAP severity of a predicted MMI (see the module comment). */
export function severityForMmi(mmi: number): CapSeverity {
  if (mmi >= 8) return 'Extreme';
  if (mmi >= 6) return 'Severe';
  if (mmi >= 4) return 'Moderate';
  return 'Minor';
}

interface Band {
  mmi: number;
  radiusKm: number;
}

/** Median-footprint circles of the bands the event reaches, strongest first (radius > 0 only). */
export function intensityBands(quake: Quake, minMmi = 3): Band[] {
  const model = intensityModelFor(quake);
  const levels = [...CAP_BANDS, ...(minMmi < 4 ? [minMmi] : [])];
  return levels.map((mmi) => ({ mmi, radiusKm: model.footprintRadiusKm(mmi, 0.5) })).filter((b) => b.radiusKm > 0);
}

function mmiLabel(mmi: number): string {
  return Number.isInteger(mmi) ? ROMAN[mmi] : mmi.toFixed(1);
}

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  format: true,
  indentBy: '  ',
  suppressEmptyNode: true,
});

function describe(q: Quake): string {
  const depth = q.depthKnown === false ? 'depth not constrained' : `${Math.round(q.depthKm)} km deep`;
  const where = q.place ? ` near ${q.place}` : '';
  const mag = `magnitude ${q.magnitude.toFixed(1)}${q.magType ? ` (${q.magType})` : ''}`;
  return `An earthquake of ${mag} occurred at ${new Date(q.originTime).toISOString().slice(11, 19)} UTC${where}, ${depth}.`;
}

function info(
  q: Quake,
  bands: Band[],
  kind: { cancel: false; sentAt: number } | { cancel: true; reason: string },
  opts: CapOptions,
  identifier: string,
) {
  const maxMmi = intensityModelFor(q).predict(q.lat, q.lon);
  const headlineCore = `M${q.magnitude.toFixed(1)} earthquake${q.place ? ` — ${q.place}` : ''}`;
  const areas = bands.map((b) => ({
    areaDesc: `Predicted shaking MMI ${mmiLabel(b.mmi)} or more (median) within ${b.radiusKm.toFixed(0)} km of the epicentre`,
    circle: `${q.lat.toFixed(4)},${q.lon.toFixed(4)} ${b.radiusKm.toFixed(1)}`,
  }));
  const common = {
    language: 'en',
    category: 'Geo',
    event: 'Earthquake',
  };
  const params = [
    { valueName: 'EventId', value: q.id },
    { valueName: 'OriginTime', value: new Date(q.originTime).toISOString() },
    { valueName: 'Magnitude', value: q.magnitude.toFixed(1) },
    { valueName: 'MagnitudeType', value: q.magType || 'unknown' },
    { valueName: 'DepthKm', value: q.depthKnown === false ? 'unknown' : q.depthKm.toFixed(1) },
    { valueName: 'MaxPredictedMMI', value: maxMmi.toFixed(1) },
  ];
  const web = opts.baseUrl ? `${opts.baseUrl.replace(/\/$/, '')}/${identifier}.xml` : undefined;
  if (kind.cancel) {
    return {
      ...common,
      responseType: 'AllClear',
      urgency: 'Past',
      severity: 'Minor',
      certainty: 'Unlikely',
      eventCode: { valueName: 'SAME', value: 'EQW' },
      senderName: opts.senderName,
      headline: `CANCELLED: ${headlineCore}`,
      description: `The seismic network withdrew this event (${kind.reason}). ${describe(q)} Earlier alerts for it are cancelled.`,
      web,
      parameter: params,
      area: areas.length > 0 ? areas : undefined,
    };
  }
  const immediate = (kind.sentAt - q.originTime) / 1000 <= IMMEDIATE_WINDOW_S;
  const severity = severityForMmi(maxMmi);
  return {
    ...common,
    responseType: maxMmi >= 6 ? 'Shelter' : 'Monitor',
    urgency: immediate ? 'Immediate' : 'Past',
    severity,
    certainty: 'Likely',
    eventCode: { valueName: 'SAME', value: 'EQW' },
    onset: capDateTime(q.originTime),
    expires: capDateTime(kind.sentAt + (opts.expiresS ?? 3600) * 1000),
    senderName: opts.senderName,
    headline: headlineCore,
    description: `${describe(q)} Predicted shaking up to MMI ${mmiLabel(Math.round(maxMmi))} near the epicentre.`,
    instruction:
      maxMmi >= 6
        ? 'Drop, cover and hold on until the shaking stops. Stay away from windows and heavy furniture; do not run outside during the shaking.'
        : 'Shaking may be felt. No action is needed unless the shaking is strong: then drop, cover and hold on.',
    web,
    parameter: params,
    area: areas.length > 0 ? areas : undefined,
  };
}

function document(alert: Record<string, unknown>): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build({ alert: { '@_xmlns': CAP_NAMESPACE, ...alert } })}`;
}

function references(earlier: readonly CapRef[]): string | undefined {
  return earlier.length > 0 ? earlier.map((r) => `${r.sender},${r.identifier},${r.sent}`).join(' ') : undefined;
}

/**
 * The CAP message of one alerted version of an event. `earlier`: the messages already published for the event,
 * oldest first (empty: this is the `Alert`, else an `Update` referencing them all). `sent` is the version's
 * `updatedAt` (the network's time of the solution), so the document is reproducible.
 */
export function capAlert(quake: Quake, earlier: readonly CapRef[], opts: CapOptions): CapMessage {
  const sentAt = quake.updatedAt;
  const identifier = capIdentifier(quake.id, quake.updatedAt);
  const sender = token(opts.sender);
  const sent = capDateTime(sentAt);
  const msgType = earlier.length === 0 ? 'Alert' : 'Update';
  const status = quake.drill ? 'Exercise' : 'Actual';
  const body = info(quake, intensityBands(quake, opts.minMmi), { cancel: false, sentAt }, opts, identifier);
  const xml = document({
    identifier,
    sender,
    sent,
    status,
    msgType,
    source: quake.source,
    scope: 'Public',
    note: quake.drill ? 'DRILL: a simulated earthquake (quakectl drill); no earthquake happened.' : undefined,
    references: references(earlier),
    info: body,
  });
  return { identifier, sender, sent, msgType, status, eventId: quake.id, headline: body.headline, xml };
}

/**
 * The `Cancel` of an event the networks withdrew: references every earlier message; `quake` is the version alerted
 * last (its areas are repeated so a gateway can clear them). Throws RangeError when there is nothing to cancel.
 */
export function capCancel(
  quake: Quake,
  retraction: CapRetraction,
  earlier: readonly CapRef[],
  opts: CapOptions,
): CapMessage {
  if (earlier.length === 0) throw new RangeError(`event ${quake.id}: no earlier CAP message to cancel`);
  const identifier = capIdentifier(quake.id, retraction.updatedAt, true);
  const sender = token(opts.sender);
  const sent = capDateTime(retraction.updatedAt);
  const status = quake.drill ? 'Exercise' : 'Actual';
  const body = info(
    quake,
    intensityBands(quake, opts.minMmi),
    { cancel: true, reason: retraction.reason },
    opts,
    identifier,
  );
  const xml = document({
    identifier,
    sender,
    sent,
    status,
    msgType: 'Cancel',
    source: quake.source,
    scope: 'Public',
    note: quake.drill ? 'DRILL: a simulated earthquake (quakectl drill); no earthquake happened.' : undefined,
    references: references(earlier),
    info: body,
  });
  return { identifier, sender, sent, msgType: 'Cancel', status, eventId: quake.id, headline: body.headline, xml };
}

/**
 * Every message of one event: an Alert for the first version, an Update per later version (each referencing all
 * before it), and a Cancel when `retraction` is given. Versions are taken in `updatedAt` order; repeats of one
 * `updatedAt` count once.
 */
export function capMessagesForEvent(
  versions: readonly Quake[],
  retraction: CapRetraction | undefined,
  opts: CapOptions,
): CapMessage[] {
  const seen = new Set<number>();
  const ordered = [...versions]
    .sort((a, b) => a.updatedAt - b.updatedAt)
    .filter((q) => !seen.has(q.updatedAt) && seen.add(q.updatedAt));
  const out: CapMessage[] = [];
  for (const q of ordered) out.push(capAlert(q, out, opts));
  if (retraction && ordered.length > 0) out.push(capCancel(ordered[ordered.length - 1], retraction, out, opts));
  return out;
}

function capToMs(sent: string): number {
  return Date.parse(sent);
}

/**
 * Atom 1.0 (RFC 4287) index of CAP messages, newest first: feed `id`/`title`/`updated` (the newest `sent`)/`author`,
 * one entry per message with its `id` (`urn:cap:<sender>:<identifier>`), headline as title, `updated`, and a `link`
 * of type `application/cap+xml` to `<baseUrl>/<identifier>.xml`.
 */
export function capAtomIndex(
  messages: readonly Omit<CapMessage, 'xml'>[],
  opts: { baseUrl: string; title?: string; sender: string },
) {
  const base = opts.baseUrl.replace(/\/$/, '');
  const sorted = [...messages].sort(
    (a, b) => capToMs(b.sent) - capToMs(a.sent) || (a.identifier < b.identifier ? 1 : -1),
  );
  const updated = sorted.length > 0 ? new Date(capToMs(sorted[0].sent)).toISOString() : new Date(0).toISOString();
  const feed = {
    feed: {
      '@_xmlns': 'http://www.w3.org/2005/Atom',
      id: `urn:cap:${token(opts.sender)}:index`,
      title: opts.title ?? 'quakectl earthquake alerts (CAP 1.2)',
      updated,
      author: { name: token(opts.sender) },
      link: { '@_rel': 'self', '@_href': `${base}/index.atom` },
      entry: sorted.map((m) => ({
        id: `urn:cap:${m.sender}:${m.identifier}`,
        title: `${m.status === 'Exercise' ? 'DRILL: ' : ''}${m.headline}`,
        updated: new Date(capToMs(m.sent)).toISOString(),
        link: { '@_rel': 'alternate', '@_type': CAP_MEDIA_TYPE, '@_href': `${base}/${m.identifier}.xml` },
        category: { '@_term': m.msgType },
      })),
    },
  };
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build(feed)}`;
}
