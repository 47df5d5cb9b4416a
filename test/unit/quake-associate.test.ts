import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  Associator,
  associateAll,
  dedupe,
  isAlertable,
  parseFeed,
  type Quake,
  replayFeed,
  supersedes,
} from '../../shared/quake/index.ts';

const FIX = join(import.meta.dirname, '../fixtures/quake');
const read = (f: string) => readFileSync(join(FIX, f), 'utf8');
const usgs = parseFeed(read('usgs-all_week-2023-04-07-cut.geojson')).accepted;
const emsc = parseFeed(read('emsc-websocket-pairs.jsonl')).accepted;
const u = (id: string) => usgs.find((q) => q.id === id)!;
const e = (id: string) => emsc.find((q) => q.id === id)!;

describe('association of USGS and EMSC solutions of the same earthquake', () => {
  it('Kuril M5.8 (USGS first): one event, canonical USGS id, both ids, newest solution kept', () => {
    const a = new Associator();
    expect(a.offer(u('us6000k2kk')).outcome).toBe('new');
    const r = a.offer(e('20230407_0000034'));
    expect(r.outcome).toBe('associated');
    expect(r.event.id).toBe('us6000k2kk');
    expect(r.event.source).toBe('usgs');
    expect(r.event.sourceIds).toEqual(['us6000k2kk', '20230407_0000034']);
    // This USGS version is the reviewed one of 15:03, newer than EMSC's 02:31 update: the USGS solution stays.
    expect(r.event).toMatchObject({ magnitude: 5.8, magType: 'mww', status: 'reviewed' });
    // An EMSC solution newer than the event's replaces the solution, never the id.
    const later = a.offer({ ...e('20230407_0000034'), updatedAt: r.event.updatedAt + 1 });
    expect(later).toMatchObject({ outcome: 'updated', event: { id: 'us6000k2kk', magnitude: 5.9, source: 'usgs' } });
    expect(a.size).toBe(1);
    expect(a.get('20230407_0000034')?.id).toBe('us6000k2kk');
  });

  it('EMSC first: the EMSC id stays canonical', () => {
    const a = new Associator();
    a.offer(e('20230407_0000071'));
    const r = a.offer(u('us6000k2m4'));
    expect(r.outcome).toBe('associated');
    expect(r.event.id).toBe('20230407_0000071');
    expect(r.event.sourceIds).toEqual(['20230407_0000071', 'us6000k2m4']);
  });

  it('Nicaragua M5.1 mww vs M5.0 mb, 0.7 s and ~9 km apart: associated', () => {
    const a = new Associator();
    a.offer(u('us6000k2b0'));
    expect(a.offer(e('20230406_0000052')).outcome).toBe('associated');
  });

  it('an event 300+ km away at the same time, and an aftershock 45 s later, stay separate', () => {
    const a = new Associator();
    a.offer(u('us6000k2kk'));
    a.offer(u('us6000k2m4'));
    expect(a.offer(e('20230407_0000035')).outcome).toBe('new');
    expect(a.offer(e('20230407_0000072')).outcome).toBe('new');
    expect(a.size).toBe(4);
  });

  it('thresholds: 10 s, 100 km, 0.8 magnitude units, each inclusive', () => {
    const base = u('us6000k2kk');
    const other = (d: Partial<Quake>): Quake => ({ ...base, id: 'x', source: 'emsc', sourceIds: ['x'], ...d });
    const a = new Associator();
    expect(a.matches(other({ originTime: base.originTime + 10_000 }), base)).toBe(true);
    expect(a.matches(other({ originTime: base.originTime + 10_001 }), base)).toBe(false);
    expect(a.matches(other({ lat: base.lat + 0.89 }), base)).toBe(true); // ≈ 99 km north
    expect(a.matches(other({ lat: base.lat + 0.91 }), base)).toBe(false); // ≈ 101 km
    expect(a.matches(other({ magnitude: base.magnitude + 0.8 }), base)).toBe(true);
    expect(a.matches(other({ magnitude: base.magnitude + 0.81 }), base)).toBe(false);
  });

  it('a source never associates with itself, a drill never with a real event', () => {
    const base = u('us6000k2kk');
    const a = new Associator();
    a.offer(base);
    expect(a.offer({ ...base, id: 'us6000zzzz', sourceIds: ['us6000zzzz'] }).outcome).toBe('new');
    expect(a.offer({ ...e('20230407_0000034'), drill: true }).outcome).toBe('new');
    // Even under the same id, a drill neither updates nor shadows the real event.
    const drill = a.offer({ ...base, drill: true, magnitude: 7.5, updatedAt: base.updatedAt + 1 });
    expect(drill.outcome).toBe('new');
    expect(a.get('us6000k2kk')?.magnitude).toBe(5.8);
    expect(a.get('us6000k2kk', true)?.magnitude).toBe(7.5);
  });

  it('the closest candidate wins when two qualify', () => {
    const base = u('us6000k2kk');
    const a = new Associator();
    a.offer(base);
    // Another USGS event (a source never associates with itself), 78 km and 8 s away: also within the thresholds.
    a.offer({ ...base, id: 'far', sourceIds: ['far'], lat: base.lat + 0.7, originTime: base.originTime + 8000 });
    expect(a.size).toBe(2);
    expect(a.offer(e('20230407_0000034')).event.id).toBe('us6000k2kk');
  });

  it('forgets events older than the retention window', () => {
    const a = new Associator({ retentionMs: 3600_000 });
    const kuril = u('us6000k2kk');
    a.offer({
      ...kuril,
      id: 'old',
      sourceIds: ['old'],
      originTime: kuril.originTime - 7200_000,
      updatedAt: kuril.originTime - 7000_000,
    });
    a.offer({
      ...kuril,
      id: 'recent',
      sourceIds: ['recent'],
      originTime: kuril.originTime - 7200_000 + 1,
      updatedAt: kuril.originTime,
    });
    a.offer(kuril);
    expect(a.get('old')).toBeUndefined();
    expect(a.get('recent')?.id).toBe('recent'); // updated within the window: kept
    expect(a.size).toBe(2);
  });
});

describe('versions', () => {
  const [create, update, replayed, older] = parseFeed(read('emsc-websocket-versions.jsonl')).accepted;

  it('newer updatedAt supersedes; equal or older is a no-op', () => {
    expect(supersedes(update, create)).toBe(true);
    expect(supersedes(replayed, create)).toBe(false);
    expect(supersedes(older, create)).toBe(false);
    expect(supersedes(create, update)).toBe(false);
    expect(supersedes({ ...update, id: 'other', sourceIds: ['other'] }, create)).toBe(false);
  });

  it('the Associator applies them in arrival order', () => {
    const a = new Associator();
    expect(a.offer(create).outcome).toBe('new');
    expect(a.offer(update)).toMatchObject({ outcome: 'updated', event: { magnitude: 1.6, depthKm: 8 } });
    expect(a.offer(replayed)).toMatchObject({ outcome: 'stale', event: { magnitude: 1.6 } });
    expect(a.offer(older)).toMatchObject({ outcome: 'stale', event: { magnitude: 1.6 } });
  });

  it('dedupe keeps the newest version of each id', () => {
    expect(dedupe([create, update, replayed, older])).toEqual([update]);
  });
});

describe('replay', () => {
  it('EMSC versions: one event (the newest), three superseded', () => {
    const r = replayFeed(read('emsc-websocket-versions.jsonl'));
    expect(r).toMatchObject({ superseded: 3, associated: 0, rejected: [] });
    expect(r.accepted).toHaveLength(1);
    expect(r.accepted[0].magnitude).toBe(1.6);
  });

  it('USGS + EMSC pairs together: three associated, accounting adds up', () => {
    const all = [...usgs, ...emsc];
    const r = associateAll(all);
    expect(r.associated).toBe(3);
    expect(r.events.length + r.superseded + r.associated).toBe(all.length);
    // Replays run in publication order: EMSC's 02:31 solution came before USGS's reviewed 15:03 one, so the EMSC id
    // is canonical and the newer USGS solution is the event's.
    const kuril = r.events.find((q) => q.sourceIds.includes('us6000k2kk'));
    expect(kuril).toMatchObject({ id: '20230407_0000034', source: 'emsc', magnitude: 5.8 });
    expect(kuril?.sourceIds).toEqual(['20230407_0000034', 'us6000k2kk']);
  });

  it('the real USGS cut has no duplicates', () => {
    const r = replayFeed(read('usgs-all_week-2023-04-07-cut.geojson'));
    expect(r).toMatchObject({ superseded: 0, associated: 0 });
    expect(r.accepted).toHaveLength(283);
  });
});

describe('isAlertable', () => {
  it('earthquakes at or above the minimum only', () => {
    expect(isAlertable(u('us6000k2kk'), 4)).toBe(true);
    expect(isAlertable(u('us6000k2kk'), 5.8)).toBe(true);
    expect(isAlertable(u('us6000k2kk'), 5.9)).toBe(false);
    for (const q of usgs.filter((x) => x.kind !== 'earthquake')) expect(isAlertable(q, -2)).toBe(false);
    expect(isAlertable(e('20230407_0000090'), 0)).toBe(false); // EMSC quarry blast
  });
});
