/** The CAP directory publisher (shared/notify/cap-publish.ts): which versions an event record yields, merging, refusal. */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EventRecord } from '../../shared/events/types.ts';
import { capInputsOf, capMessagesForRecord, publishCapDirectory } from '../../shared/notify/cap-publish.ts';
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

describe('publishCapDirectory', () => {
  it('merges publications by identifier into one index and refuses a manifest it cannot read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quakectl-capdir-'));
    const record = { eventId: 'ev9', quake: q, updatedAt: 1, plannedQuake: q } as EventRecord;
    const first = await publishCapDirectory(dir, capMessagesForRecord(record, opts), opts);
    expect(first.indexed).toBe(1);
    const other = { ...q, id: 'ev10', sourceIds: ['ev10'] };
    const second = await publishCapDirectory(
      dir,
      capMessagesForRecord({ eventId: 'ev10', quake: other, updatedAt: 1, plannedQuake: other } as EventRecord, opts),
      opts,
    );
    expect(second.indexed).toBe(2);
    expect(readdirSync(dir).sort()).toEqual([
      'index.atom',
      'messages.json',
      'quakectl-ev10-1767225620000.xml',
      'quakectl-ev9-1767225620000.xml',
    ]);
    writeFileSync(join(dir, 'messages.json'), '{not json');
    const index = readFileSync(join(dir, 'index.atom'), 'utf8');
    await expect(publishCapDirectory(dir, [], opts)).rejects.toThrow(/messages\.json: not a CAP manifest/);
    expect(readFileSync(join(dir, 'index.atom'), 'utf8')).toBe(index);
  });
});
