/**
 * Event identity in DynamoDB (shared/events/identity.ts) on the local stack: producers racing on one quake agree on
 * one canonical id, whatever the order; a source never merges with itself; drills stay in their own id space.
 * Each "producer" has its own DynamoDB client, as separate Lambda environments do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lookupCanonical, registerSolution, resolveIdentity } from '../../shared/events/identity.ts';
import { createClients } from '../../shared/infra/clients.ts';
import type { Quake } from '../../shared/quake/types.ts';
import { localServiceConfig } from '../helpers/stack.ts';
import { type TestStack, testStack } from './pipeline-support.ts';

let stack: TestStack;
const producers: ReturnType<typeof createClients>[] = [];

beforeAll(async () => {
  stack = await testStack('idn', ['events']);
  for (let i = 0; i < 6; i++) producers.push(createClients({ ...localServiceConfig(), names: stack.names }));
});
afterAll(async () => {
  for (const p of producers) p.destroy();
  await stack?.cleanup();
});

const store = (i: number) => ({ ddb: producers[i % producers.length].ddb, table: stack.names.table('events') });

let seq = 0;
function report(source: string, id: string, over: Partial<Quake> = {}): Quake {
  const t = Date.UTC(2026, 10, 30, 8, 14, 27) + seq * 3600_000;
  return {
    id,
    source,
    sourceIds: [id],
    originTime: t,
    lat: 37.21,
    lon: 36.93,
    depthKm: 10,
    magnitude: 6.0,
    magType: 'mw',
    place: 'Türkiye',
    updatedAt: t + 60_000,
    status: 'automatic',
    kind: 'earthquake',
    drill: false,
    ...over,
  };
}

describe('event identity in DynamoDB', () => {
  it('two sources of one quake resolved by two producers at once become one event (repeated, either order)', async () => {
    for (let round = 0; round < 8; round++) {
      seq++;
      const us = report('us', `us7000r${seq}`, { lat: 37.2488, lon: 36.9712, depthKm: 12.5, magnitude: 6.1 });
      const emsc = report('emsc-rts', `20261130_00${seq}`, { originTime: us.originTime + 1300 });
      const pair = round % 2 === 0 ? [us, emsc] : [emsc, us];
      const [a, b] = await Promise.all(pair.map((q, i) => resolveIdentity(store(i), q)));
      expect(a.canonicalId).toBe(b.canonicalId);
      expect([a.outcome, b.outcome].sort()).toEqual(['associated', 'new']);
      // Every id now maps to the one event, from any producer.
      for (const q of pair) expect((await lookupCanonical(store(5), [q.id], false))?.canonicalId).toBe(a.canonicalId);
    }
  });

  it('many producers, five sources and every report twice: one canonical id, the same for all (repeated)', async () => {
    const sources = ['us', 'emsc-rts', 'afad', 'ga', 'geofon'];
    for (let round = 0; round < 6; round++) {
      seq++;
      const reports = sources.map((s, i) =>
        report(s, `${s}-${seq}`, {
          originTime: Date.UTC(2026, 10, 30, 8, 14, 27) + seq * 3600_000 + i * 1500,
          lat: 37.2 + i * 0.05,
          magnitude: 6.0 + (i % 3) * 0.1,
        }),
      );
      const results = await Promise.all([...reports, ...reports].map((q, i) => resolveIdentity(store(i), q)));
      expect(new Set(results.map((r) => r.canonicalId)).size).toBe(1);
      // And every id now resolves to it, from any producer.
      for (const q of reports) {
        expect((await lookupCanonical(store(0), [q.id], false))?.canonicalId).toBe(results[0].canonicalId);
      }
    }
  });

  it('an aftershock sequence (20 reports of one network 0.6 s apart) resolved by many producers at once: 20 events', async () => {
    seq++;
    const t0 = Date.UTC(2026, 10, 30, 8, 14, 27) + seq * 3600_000;
    const reports = Array.from({ length: 20 }, (_, i) =>
      report('afad', `afad-as-${seq}-${i}`, { originTime: t0 + i * 600, magnitude: 4 + (i % 5) * 0.1 }),
    );
    const results = await Promise.all(reports.map((q, i) => resolveIdentity(store(i), q)));
    expect(results.map((r) => r.canonicalId)).toEqual(reports.map((q) => q.id));
  });

  it('the same network twice within seconds is two events; a drill never joins a real event', async () => {
    seq++;
    const a = await resolveIdentity(store(0), report('us', `us-a-${seq}`));
    const b = await resolveIdentity(store(1), report('us', `us-b-${seq}`));
    expect(a.canonicalId).not.toBe(b.canonicalId);
    const drill = await resolveIdentity(store(2), report('emsc', `em-${seq}`, { drill: true }));
    expect(drill).toMatchObject({ outcome: 'new', canonicalId: `em-${seq}` });
    // A real report of the same id is not the drill's: ids live in separate spaces.
    expect(await lookupCanonical(store(3), [`em-${seq}`], false)).toBeUndefined();
  });

  it('a later version of a known id keeps its canonical id even when its origin moved out of the window', async () => {
    seq++;
    const first = await resolveIdentity(store(0), report('us', `us-m-${seq}`));
    const other = await resolveIdentity(store(1), report('emsc', `em-m-${seq}`));
    expect(other.canonicalId).toBe(first.canonicalId);
    const moved = report('emsc', `em-m-${seq}`, {
      originTime: Date.UTC(2026, 10, 30, 8, 14, 27) + seq * 3600_000 + 40_000,
    });
    expect(await resolveIdentity(store(2), moved)).toMatchObject({ outcome: 'known', canonicalId: first.canonicalId });
  });

  it('a later agency is matched against the latest solution: an automatic M6.2 revised to M7.0 joins an M7.4', async () => {
    seq++;
    const v1 = report('us', `us-g-${seq}`, { magnitude: 6.2 });
    const first = await resolveIdentity(store(0), v1);
    // A first sighting 1.2 units apart would not associate: 7.4 − 6.2 > 0.8.
    const v2 = { ...v1, magnitude: 7.0, updatedAt: v1.updatedAt + 60_000 };
    expect(await resolveIdentity(store(1), v2)).toMatchObject({ outcome: 'known' });
    await registerSolution(store(1), v2, first);
    // 7.4 − 7.0 = 0.4; and 7.4 − 6.6 (0.8000000000000007 in floating point) counts as 0.8.
    const afad = await resolveIdentity(store(2), report('afad', `afad-g-${seq}`, { magnitude: 7.4, lat: 37.288 }));
    expect(afad).toMatchObject({ outcome: 'associated', canonicalId: first.canonicalId });
    const emsc = await resolveIdentity(store(3), report('emsc', `em-g-${seq}`, { magnitude: 6.6 }));
    expect(emsc.canonicalId).toBe(first.canonicalId);
  });

  it('reports that differ beyond the thresholds stay apart (time, distance, magnitude)', async () => {
    seq++;
    const base = await resolveIdentity(store(0), report('us', `us-t-${seq}`));
    const t0 = Date.UTC(2026, 10, 30, 8, 14, 27) + seq * 3600_000;
    const late = await resolveIdentity(store(1), report('emsc', `em-t-${seq}`, { originTime: t0 + 10_500 }));
    const far = await resolveIdentity(store(2), report('afad', `af-t-${seq}`, { lat: 38.3 }));
    const small = await resolveIdentity(store(3), report('ga', `ga-t-${seq}`, { magnitude: 5.1 }));
    for (const r of [late, far, small]) {
      expect(r.outcome).toBe('new');
      expect(r.canonicalId).not.toBe(base.canonicalId);
    }
  });
});
