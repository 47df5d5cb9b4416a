/**
 * The CAP publisher (shared/notify/cap-publish.ts) on a real directory store: which versions an event record yields,
 * the index rebuilt from the stored documents, idempotent republishing, and concurrent publishers (a forced
 * interleaving that loses an entry without the re-listing of step 4, and many publishers at random delays).
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import type { EventRecord } from '../../shared/events/types.ts';
import {
  capEntryOf,
  capInputsOf,
  capMessagesForRecord,
  publishCap,
  publishEventCap,
} from '../../shared/notify/cap-publish.ts';
import { type CapStore, directoryCapStore } from '../../shared/notify/cap-store.ts';
import type { Quake } from '../../shared/quake/types.ts';

const q: Quake = {
  id: 'ev9',
  source: 'emsc',
  sourceIds: ['ev9'],
  originTime: Date.UTC(2026, 0, 1, 0, 0, 0),
  lat: 45.7,
  lon: 26.6,
  depthKm: 120,
  magnitude: 5.9,
  magType: 'mw',
  place: 'Vrancea',
  updatedAt: Date.UTC(2026, 0, 1, 0, 0, 20),
  status: 'automatic',
  kind: 'earthquake',
  drill: false,
};
const v2 = { ...q, magnitude: 6.1, updatedAt: q.updatedAt + 30_000 };
const opts = { sender: 'quakectl.test', baseUrl: 'https://alerts.example/cap' };

describe('capInputsOf', () => {
  it('takes the alert runs in order, not the cancel run, and the retraction when the event was withdrawn', () => {
    const record = {
      eventId: 'ev9',
      quake: v2,
      updatedAt: v2.updatedAt,
      runs: [
        { revision: 1, planKey: 'a', quake: q, mode: 'alert', strategy: 'geo' },
        { revision: 2, planKey: 'b', quake: v2, mode: 'alert', strategy: 'geo' },
        { revision: 3, planKey: 'c', quake: v2, mode: 'cancel', strategy: 'geo' },
      ],
      retractedAt: v2.updatedAt + 1000,
      retraction: { source: 'emsc', reason: 'action "delete"', updatedAt: v2.updatedAt + 900, acceptedAt: 0 },
    } as EventRecord;
    expect(capInputsOf(record)).toEqual({
      versions: [q, v2],
      retraction: { reason: 'emsc: action "delete"', updatedAt: v2.updatedAt + 900 },
    });
    expect(capMessagesForRecord(record, opts).map((m) => m.msgType)).toEqual(['Alert', 'Update', 'Cancel']);
  });

  it('an event planned before runs were kept gives its planned version; one never planned gives nothing', () => {
    expect(capInputsOf({ eventId: 'ev9', quake: q, updatedAt: 1, plannedQuake: q } as EventRecord).versions).toEqual([
      q,
    ]);
    expect(
      capMessagesForRecord({ eventId: 'ev9', quake: q, updatedAt: 1, state: 'skipped' } as EventRecord, opts),
    ).toEqual([]);
  });
});

const record = (quake: Quake, extra: Partial<EventRecord> = {}) =>
  ({ eventId: quake.id, quake, updatedAt: quake.updatedAt, plannedQuake: quake, ...extra }) as EventRecord;
const version = (id: string, n: number): Quake => ({
  ...q,
  id,
  sourceIds: [id],
  magnitude: 5 + n / 10,
  updatedAt: q.updatedAt + n * 1000,
});

/** The index's links, newest first. */
function indexLinks(dir: string): string[] {
  const feed = new XMLParser({ ignoreAttributes: false, isArray: (n) => n === 'entry' }).parse(
    readFileSync(join(dir, 'index.atom'), 'utf8'),
  ).feed;
  return (feed.entry ?? []).map((e: { link: { '@_href': string } }) => e.link['@_href']);
}

describe('publishCap (directory store)', () => {
  it('indexes what the store holds, ignores foreign files, and republishes the same bytes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quakectl-capdir-'));
    const store = directoryCapStore(dir);
    const first = await publishEventCap(store, record(q), opts);
    expect(first.indexed).toBe(1);
    writeFileSync(join(dir, 'notes.txt'), 'not CAP');
    writeFileSync(join(dir, 'quakectl-broken-1.xml'), '<alert>no identifier</alert>');
    const other = version('ev10', 0);
    const second = await publishEventCap(store, record(other), opts);
    expect(second).toMatchObject({ indexed: 2, stored: 3, rounds: 1 });
    expect(readdirSync(dir).sort()).toEqual([
      'index.atom',
      'notes.txt',
      'quakectl-broken-1.xml',
      'quakectl-ev10-1767225620000.xml',
      'quakectl-ev9-1767225620000.xml',
    ]);
    const before = readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8'));
    await publishEventCap(store, record(q), opts);
    expect(readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8'))).toEqual(before);
    expect(indexLinks(dir)).toEqual([
      'https://alerts.example/cap/quakectl-ev9-1767225620000.xml',
      'https://alerts.example/cap/quakectl-ev10-1767225620000.xml',
    ]);
  });

  it('reads each entry back from its document', () => {
    const [m] = capMessagesForRecord(record(q), opts);
    const { xml: _xml, ...entry } = m;
    expect(capEntryOf(m.xml)).toEqual(entry);
    expect(capEntryOf('<feed/>')).toBeUndefined();
  });

  it('a publisher whose index write lands after another publisher rebuilds it: no entry lost', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quakectl-capdir-'));
    const plain = directoryCapStore(dir);
    const v1 = record(version('ev-race', 1));
    // v2 of the same event: its record lists both runs, so it carries the Alert and its Update.
    const v2q = version('ev-race', 2);
    const v2 = record(v2q, {
      runs: [
        { revision: 1, planKey: 'a', quake: v1.plannedQuake!, mode: 'alert', strategy: 'geo' },
        { revision: 2, planKey: 'b', quake: v2q, mode: 'alert', strategy: 'geo' },
      ],
    } as Partial<EventRecord>);
    const other = record(version('ev-other', 3));
    // A has listed the store (its own Alert only) when it is about to write its index: B and C publish in full
    // then, and A's index write lands last, stale.
    let gateUsed = false;
    const gated: CapStore = {
      ...plain,
      async put(name, body, kind) {
        if (kind === 'index' && !gateUsed) {
          gateUsed = true;
          await publishEventCap(plain, v2, opts);
          await publishEventCap(plain, other, opts);
        }
        return plain.put(name, body, kind);
      },
    };
    const a = await publishEventCap(gated, v1, opts);
    expect(gateUsed).toBe(true);
    expect(a.rounds).toBe(2);
    expect(indexLinks(dir)).toEqual([
      'https://alerts.example/cap/quakectl-ev-other-1767225623000.xml',
      'https://alerts.example/cap/quakectl-ev-race-1767225622000.xml',
      'https://alerts.example/cap/quakectl-ev-race-1767225621000.xml',
    ]);
  });

  it('many publishers at once, each store call delayed at random: the index ends with every message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quakectl-capdir-'));
    const plain = directoryCapStore(dir);
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const delay = () => new Promise((r) => setTimeout(r, Math.floor(random() * 15)));
    const jittery: CapStore = {
      location: plain.location,
      put: (n, b, k) => delay().then(() => plain.put(n, b, k)),
      get: (n) => delay().then(() => plain.get(n)),
      list: () => delay().then(() => plain.list()),
    };
    const records = Array.from({ length: 16 }, (_, i) => record(version(`ev-many-${i}`, i)));
    await Promise.all(records.map((r) => publishEventCap(jittery, r, opts)));
    expect(indexLinks(dir)).toHaveLength(16);
    expect(new Set(indexLinks(dir))).toEqual(
      new Set(records.map((r) => `https://alerts.example/cap/quakectl-${r.eventId}-${r.plannedQuake!.updatedAt}.xml`)),
    );
  });

  it('a store error is the publish error (nothing swallowed)', async () => {
    const failing: CapStore = {
      location: 'x',
      put: async () => {
        throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      },
      get: async () => undefined,
      list: async () => [],
    };
    await expect(publishCap(failing, capMessagesForRecord(record(q), opts), opts)).rejects.toThrow(/no space/);
  });
});
