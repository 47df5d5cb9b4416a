/**
 * Publishes CAP messages (cap.ts) into a store (cap-store.ts: a directory locally, an S3 bucket on AWS): one
 * `<identifier>.xml` per message and `index.atom` (RFC 4287, newest first). The consumer publishes an event's messages
 * after it planned an alert or cancellation run (shared/fanout/consume.ts); `quakectl cap publish` does the same by
 * hand. Identifiers and documents are deterministic, so publishing the same event again rewrites the same bytes.
 *
 * Index protocol (several consumers publish at once, each for its own events, with no lock between them):
 *
 *   1. put every message document of the event            (whole objects: rename(2) / PutObject)
 *   2. L ← list the store's message names
 *   3. index ← the newest CAP_INDEX_MAX_ENTRIES of L, each entry read from its own document; put index
 *   4. L' ← list again; L' = L → done; else back to 3 with L ← L' (at most CAP_INDEX_MAX_ROUNDS, then
 *      CapIndexUnsettledError)
 *
 * The index is a function of the set of stored documents, never a read-modify-write of an earlier index or manifest,
 * so no publisher can drop another's entry for good: whichever index write lands last was followed by its writer's
 * listing (step 4), which holds every document whose publisher had finished step 1 before that listing, and the
 * writer rebuilt unless its index already had them all. That needs list-after-write consistency (a directory; S3
 * since December 2020). A document's entry is read once per process and cached: documents never change meaning.
 */
import { XMLParser } from 'fast-xml-parser';
import type { EventRecord } from '../events/types.ts';
import type { Quake } from '../quake/types.ts';
import { type CapMessage, type CapOptions, type CapRetraction, capAtomIndex, capMessagesForEvent } from './cap.ts';
import { CAP_INDEX_NAME, type CapStore } from './cap-store.ts';

/** One index entry: a message without its document. */
export type CapManifestEntry = Omit<CapMessage, 'xml'>;

/** The index lists this many messages, newest first (older documents stay in the store, linked from nowhere). */
export const CAP_INDEX_MAX_ENTRIES = 500;
/** Rebuilds of the index in one publish before it gives up (each round needs a new document to have appeared). */
export const CAP_INDEX_MAX_ROUNDS = 8;

export class CapIndexUnsettledError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CapIndexUnsettledError';
  }
}

/**
 * The versions an event alerted for (its plan runs in `alert` mode, oldest first; an event planned before runs were
 * kept: its planned version) and its retraction when the networks withdrew it. Events never planned (below the
 * alert threshold, skipped) give no versions and so no CAP message.
 */
export function capInputsOf(record: EventRecord): { versions: Quake[]; retraction?: CapRetraction } {
  const versions = (record.runs ?? []).filter((r) => r.mode === 'alert').map((r) => r.quake);
  if (versions.length === 0 && record.plannedQuake) versions.push(record.plannedQuake);
  const retraction =
    record.retractedAt !== undefined && record.retraction
      ? { reason: `${record.retraction.source}: ${record.retraction.reason}`, updatedAt: record.retraction.updatedAt }
      : undefined;
  return { versions, retraction };
}

/** The CAP messages of an event record (see capInputsOf). */
export function capMessagesForRecord(record: EventRecord, opts: CapOptions): CapMessage[] {
  const { versions, retraction } = capInputsOf(record);
  return capMessagesForEvent(versions, retraction, opts);
}

const MESSAGE_NAME = /^quakectl-.+-(\d+)\.xml$/;

/**
 * The `sent` time (epoch ms) a message name carries (cap.ts `capIdentifier`: the version's `updatedAt`, or the
 * retraction's), or undefined when the name is not one of ours.
 */
export function capSentOfName(name: string): number | undefined {
  const m = MESSAGE_NAME.exec(name);
  return m ? Number(m[1]) : undefined;
}

const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, isArray: (n) => n === 'parameter' });

/** The index entry of a CAP document, or undefined when it is not a CAP 1.2 alert with what the index needs. */
export function capEntryOf(xml: string): CapManifestEntry | undefined {
  let alert: Record<string, unknown> | undefined;
  try {
    alert = (parser.parse(xml) as { alert?: Record<string, unknown> }).alert;
  } catch {
    return undefined;
  }
  if (!alert) return undefined;
  const info = (Array.isArray(alert.info) ? alert.info[0] : alert.info) as Record<string, unknown> | undefined;
  const params = (info?.parameter ?? []) as { valueName?: string; value?: string }[];
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const entry = {
    identifier: str(alert.identifier),
    sender: str(alert.sender),
    sent: str(alert.sent),
    msgType: str(alert.msgType),
    status: str(alert.status),
    eventId: params.find((p) => p.valueName === 'EventId')?.value,
    headline: str(info?.headline) ?? '',
  };
  if (!entry.identifier || !entry.sender || !entry.sent || !entry.eventId) return undefined;
  if (!['Alert', 'Update', 'Cancel'].includes(entry.msgType ?? '')) return undefined;
  if (!['Actual', 'Exercise'].includes(entry.status ?? '')) return undefined;
  return entry as CapManifestEntry;
}

const ENTRY_CACHE_MAX = 5000;
const entryCache = new Map<string, CapManifestEntry>();

async function entryFor(store: CapStore, name: string): Promise<CapManifestEntry | undefined> {
  const key = `${store.location}\n${name}`;
  const cached = entryCache.get(key);
  if (cached) return cached;
  const xml = await store.get(name);
  const entry = xml === undefined ? undefined : capEntryOf(xml);
  if (entry) {
    if (entryCache.size >= ENTRY_CACHE_MAX) entryCache.delete(entryCache.keys().next().value as string);
    entryCache.set(key, entry);
  }
  return entry;
}

export interface IndexOptions {
  /** Where the store is served: the index's links and its `self`. */
  baseUrl: string;
  sender: string;
  title?: string;
}

function messageNames(names: readonly string[]): string[] {
  return names.filter((n) => capSentOfName(n) !== undefined).sort();
}

/**
 * Rebuilds `index.atom` from the documents in the store (the module comment's steps 2–4). Returns the number of
 * messages listed and the rounds it took. Errors: the store's; CapIndexUnsettledError when the listing still changed
 * after CAP_INDEX_MAX_ROUNDS rebuilds.
 */
export async function rebuildCapIndex(
  store: CapStore,
  opts: IndexOptions,
): Promise<{ indexed: number; stored: number; rounds: number }> {
  let names = messageNames(await store.list());
  for (let round = 1; round <= CAP_INDEX_MAX_ROUNDS; round++) {
    const newest = [...names]
      .sort((a, b) => (capSentOfName(b) ?? 0) - (capSentOfName(a) ?? 0) || (a < b ? 1 : a > b ? -1 : 0))
      .slice(0, CAP_INDEX_MAX_ENTRIES);
    const entries = (await Promise.all(newest.map((n) => entryFor(store, n)))).filter(
      (e): e is CapManifestEntry => e !== undefined,
    );
    await store.put(CAP_INDEX_NAME, capAtomIndex(entries, opts), 'index');
    const after = messageNames(await store.list());
    if (after.length === names.length && after.every((n, i) => n === names[i])) {
      return { indexed: entries.length, stored: names.length, rounds: round };
    }
    names = after;
  }
  throw new CapIndexUnsettledError(
    `${store.location}: CAP documents kept appearing during ${CAP_INDEX_MAX_ROUNDS} index rebuilds; publish again`,
  );
}

export interface PublishResult {
  location: string;
  /** Names of the messages given, in order. */
  names: string[];
  /** Messages the index lists now. */
  indexed: number;
  /** Messages in the store. */
  stored: number;
  index: string;
  rounds: number;
}

/** Writes `messages` into the store, then rebuilds the index (see rebuildCapIndex). Errors: the store's. */
export async function publishCap(
  store: CapStore,
  messages: readonly CapMessage[],
  opts: IndexOptions,
): Promise<PublishResult> {
  const names = messages.map((m) => `${m.identifier}.xml`);
  await Promise.all(messages.map((m, i) => store.put(names[i], m.xml, 'message')));
  const { indexed, stored, rounds } = await rebuildCapIndex(store, opts);
  return { location: store.location, names, indexed, stored, index: CAP_INDEX_NAME, rounds };
}

/**
 * Every CAP message of one event record (Alert, Updates, Cancel: capMessagesForRecord) published with the index.
 * Publishing the whole event each time makes a later publish repair an earlier one that failed.
 */
export async function publishEventCap(
  store: CapStore,
  record: EventRecord,
  opts: CapOptions & IndexOptions,
): Promise<PublishResult & { messages: CapManifestEntry[] }> {
  const messages = capMessagesForRecord(record, opts);
  const result = await publishCap(store, messages, opts);
  return { ...result, messages: messages.map(({ xml: _xml, ...entry }) => entry) };
}
