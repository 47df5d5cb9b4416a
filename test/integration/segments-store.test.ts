/**
 * SubscriberStore against dynalite: idempotent import, moving segment, shard split at maxSegmentSize (also under
 * concurrent importers), page reading with a cursor, the baseline Scan, resegmenting, and the import rate.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { cellToChildren, cellToLatLng } from 'h3-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchWriteAll } from '../../shared/segments/batch-write.ts';
import { areaCellFor } from '../../shared/segments/cells.ts';
import {
  cellFor,
  coveringCells,
  parseSegmentKey,
  type SubscriberInput,
  SubscriberStore,
  segmentKey,
} from '../../shared/segments/index.ts';
import { needsLayout } from '../../shared/segments/store.ts';
import { destination } from '../../shared/seismo/geodesy.ts';
import { type TestStack, testStack } from './pipeline-support.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await testStack('segs', ['subscribers', 'segments']);
});
afterAll(async () => stack?.cleanup());

/** Subscribers scattered within `radiusKm` of a point (deterministic). */
function around(prefix: string, n: number, lat: number, lon: number, radiusKm: number): SubscriberInput[] {
  return Array.from({ length: n }, (_, i) => {
    const [la, lo] = destination(lat, lon, (i * 137.508) % 360, radiusKm * Math.sqrt(((i * 7919) % n) / n));
    return { id: `${prefix}-${i}`, lat: la, lon: lo, channel: { type: 'log', target: 'test' } };
  });
}

async function allIdsOf(store: SubscriberStore, cell: string): Promise<string[]> {
  const ids: string[] = [];
  for (const s of await store.shardsOf(cell)) ids.push(...(await store.readSegment(s.key)).map((x) => x.id));
  return ids;
}

describe('SubscriberStore', () => {
  it('imports idempotently: the same ids again are updates, counts unchanged', async () => {
    const store = new SubscriberStore(stack.clients.ddb, stack.names, { maxSegmentSize: 2000 });
    const subs = around('idem', 400, 44.43, 26.1, 1.5); // central Bucharest: one or two cells
    const first = await store.upsert(subs);
    expect(first).toMatchObject({ inserted: 400, updated: 0, moved: 0, rejected: [] });
    const again = await store.upsert(subs.map((s) => ({ ...s, minMmi: 4 })));
    expect(again).toMatchObject({ inserted: 0, updated: 400, moved: 0 });
    const cells = [...new Set(subs.map((s) => cellFor(s.lat, s.lon)))];
    const segs = await store.segmentsForCells(cells);
    expect(segs.reduce((a, s) => a + s.count, 0)).toBe(400);
    const ids = (await Promise.all(cells.map((c) => allIdsOf(store, c)))).flat().filter((id) => id.startsWith('idem-'));
    expect(ids).toHaveLength(400);
    expect(new Set(ids).size).toBe(400);
    expect((await store.get('idem-7'))?.minMmi).toBe(4);
  });

  it('moves a subscriber whose location changed cell, and moves its count', async () => {
    const store = new SubscriberStore(stack.clients.ddb, stack.names);
    const a = { id: 'mover', lat: 45.75, lon: 21.23, channel: { type: 'log' as const, target: 't' } }; // Timișoara
    const b = { ...a, lat: 47.16, lon: 27.59 }; // Iași
    await store.upsert([a]);
    const before = await store.get('mover');
    expect(parseSegmentKey(before!.segment).cell).toBe(cellFor(a.lat, a.lon));
    const r = await store.upsert([b]);
    expect(r).toMatchObject({ inserted: 0, updated: 0, moved: 1 });
    const after = await store.get('mover');
    expect(parseSegmentKey(after!.segment).cell).toBe(cellFor(b.lat, b.lon));
    expect(after).toMatchObject({ lat: b.lat, lon: b.lon });
    expect(await store.readSegment(before!.segment)).toEqual([]);
    const [oldSeg] = await store.shardsOf(cellFor(a.lat, a.lon));
    expect(oldSeg.count).toBe(0);
    expect((await store.segmentsForCells([cellFor(a.lat, a.lon)])).length).toBe(0);
    const [newSeg] = await store.segmentsForCells([cellFor(b.lat, b.lon)]);
    expect(newSeg.count).toBe(1);
  });

  it('heals a subscriber left in two segments by an interrupted move, and removes subscribers', async () => {
    const store = new SubscriberStore(stack.clients.ddb, stack.names);
    const a = { id: 'twice', lat: 46.07, lon: 23.58, channel: { type: 'log' as const, target: 't' } }; // Alba Iulia
    await store.upsert([a]);
    const home = (await store.get('twice'))!.segment;
    // A move that crashed after its put and before its delete: the same id in a second cell.
    const b = { ...a, lat: 47.65, lon: 26.25 }; // Suceava
    await store.upsert([b], { assumeNew: true });
    expect((await store.locate(['twice'])).strays?.get('twice')).toHaveLength(1);
    await store.upsert([b]);
    const where = await store.locate(['twice']);
    expect(where.strays).toBeUndefined();
    expect(parseSegmentKey(where.get('twice')!).cell).toBe(cellFor(b.lat, b.lon));
    expect(await store.readSegment(home)).toEqual([]);
    const [homeShard] = await store.shardsOf(parseSegmentKey(home).cell);
    expect(homeShard.count).toBe(0);

    expect(await store.remove(['twice', 'never-existed'])).toBe(1);
    expect(await store.get('twice')).toBeUndefined();
    const [bShard] = await store.shardsOf(cellFor(b.lat, b.lon));
    expect(bShard.count).toBe(0);
  });

  it('rejects invalid subscribers with reasons and writes the rest', async () => {
    const store = new SubscriberStore(stack.clients.ddb, stack.names);
    const r = await store.upsert([
      { id: 'ok-1', lat: 46.77, lon: 23.6, channel: { type: 'log', target: 'x' } },
      { id: 'bad-1', lat: 146, lon: 23.6, channel: { type: 'log', target: 'x' } } as SubscriberInput,
    ]);
    expect(r.inserted).toBe(1);
    expect(r.rejected).toEqual([{ index: 1, id: 'bad-1', reason: expect.stringContaining('lat') }]);
    expect(await store.get('bad-1')).toBeUndefined();
  });

  it('refuses webhook channels without a secret unless the store allows unsigned webhooks', async () => {
    const hook = { type: 'webhook' as const, target: 'https://hooks.example/q' };
    const rows: SubscriberInput[] = [
      { id: 'unsigned-1', lat: 46.77, lon: 23.6, channel: hook },
      { id: 'signed-1', lat: 46.77, lon: 23.6, channel: { ...hook, secret: 'k' } },
    ];
    const strict = await new SubscriberStore(stack.clients.ddb, stack.names).upsert(rows);
    expect(strict.inserted).toBe(1);
    expect(strict.rejected).toEqual([{ index: 0, id: 'unsigned-1', reason: expect.stringMatching(/needs a secret/) }]);
    expect(await new SubscriberStore(stack.clients.ddb, stack.names).get('unsigned-1')).toBeUndefined();
    const open = new SubscriberStore(stack.clients.ddb, stack.names, { allowUnsignedWebhooks: true });
    expect(await open.upsert(rows.slice(0, 1))).toMatchObject({ inserted: 1, rejected: [] });
  });

  it('splits a cell into shards of at most maxSegmentSize, also with concurrent importers', async () => {
    const store = new SubscriberStore(stack.clients.ddb, stack.names, { maxSegmentSize: 50 });
    const [lat, lon] = [45.65, 25.6]; // Brașov
    const cell = cellFor(lat, lon);
    const subs = around('split', 180, lat, lon, 0.3).filter((s) => cellFor(s.lat, s.lon) === cell);
    expect(subs.length).toBeGreaterThan(150);
    await store.upsert(subs);
    let shards = await store.shardsOf(cell);
    expect(shards.map((s) => s.count)).toEqual([50, 50, 50, subs.length - 150]);
    for (const s of shards) expect(await store.readSegment(s.key)).toHaveLength(s.count);

    // Two importers at once into the same cell: reservations are conditional, so no shard overfills.
    const more = around('split2', 300, lat, lon, 0.3).filter((s) => cellFor(s.lat, s.lon) === cell);
    const half = Math.floor(more.length / 2);
    await Promise.all([store.upsert(more.slice(0, half)), store.upsert(more.slice(half))]);
    shards = await store.shardsOf(cell);
    expect(shards.every((s) => s.count <= 50)).toBe(true);
    expect(shards.reduce((a, s) => a + s.count, 0)).toBe(subs.length + more.length);
    for (const s of shards) expect(await store.readSegment(s.key)).toHaveLength(s.count);
    expect(new Set(await allIdsOf(store, cell)).size).toBe(subs.length + more.length);
  });

  it('reads a segment page by page with a cursor', async () => {
    const store = new SubscriberStore(stack.clients.ddb, stack.names, { maxSegmentSize: 500 });
    const [lat, lon] = [44.18, 28.65]; // Constanța
    const cell = cellFor(lat, lon);
    const subs = around('page', 140, lat, lon, 0.2).filter((s) => cellFor(s.lat, s.lon) === cell);
    await store.upsert(subs);
    const [seg] = await store.segmentsForCells([cell]);
    const sizes: number[] = [];
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.readSegmentPage(seg.key, { cursor, limit: 50 });
      sizes.push(page.items.length);
      ids.push(...page.items.map((s) => s.id));
      if (page.cursor) expect(JSON.parse(page.cursor)).toMatchObject({ segment: seg.key });
      cursor = page.cursor;
    } while (cursor);
    expect(ids.length).toBe(subs.length);
    expect(new Set(ids)).toEqual(new Set(subs.map((s) => s.id)));
    expect(sizes.slice(0, 2)).toEqual([50, 50]);
    // A checkpointed cursor resumes exactly after its page.
    const p1 = await store.readSegmentPage(seg.key, { limit: 50 });
    const p2 = await store.readSegmentPage(seg.key, { limit: 50, cursor: p1.cursor });
    expect(p2.items.map((s) => s.id)).toEqual(ids.slice(50, 100));
    await expect(store.readSegmentPage(seg.key, { cursor: 'not json' })).rejects.toThrow(/invalid cursor/);
  });

  it('finds the segments of the cells covering a footprint, and the whole-table Scan sees everyone', async () => {
    const store = new SubscriberStore(stack.clients.ddb, stack.names);
    const cells = coveringCells(44.43, 26.1, 20);
    const segs = await store.segmentsForCells(cells);
    expect(segs.length).toBeGreaterThan(0);
    for (const s of segs) expect(cells).toContain(s.cell);
    const fromSegments = (await Promise.all(segs.map((s) => store.readSegment(s.key)))).flat().map((s) => s.id);
    expect(fromSegments.filter((id) => id.startsWith('idem-'))).toHaveLength(400);

    // Both lookups (Query per cell, Scan of the segments table) agree, on a footprint large enough to scan.
    const wide = coveringCells(45.5, 25.5, 300);
    const viaQuery = await store.segmentsForCells(wide, 'query');
    const viaScan = await store.segmentsForCells(wide, 'scan');
    expect(viaScan).toEqual(viaQuery);
    expect(viaScan.length).toBeGreaterThan(3);
    let t = performance.now();
    await store.segmentsForCells(wide, 'query');
    const queryMs = performance.now() - t;
    t = performance.now();
    await store.segmentsForCells(wide);
    console.log(
      `segmentsForCells over ${wide.length} cells: Query per cell ${queryMs.toFixed(0)} ms, auto (Scan) ${(performance.now() - t).toFixed(0)} ms`,
    );

    const stats = await store.stats();
    const seen: string[] = [];
    for (let segment = 0; segment < 3; segment++) {
      let cursor: string | undefined;
      do {
        const page = await store.scanPages({ segment, totalSegments: 3, cursor, limit: 100 });
        seen.push(...page.items.map((s) => s.id));
        cursor = page.cursor;
      } while (cursor);
    }
    expect(seen.length).toBe(stats.subscribers);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('resegments: merges shards a cell no longer needs and splits over-full ones, losing nobody', async () => {
    const store = new SubscriberStore(stack.clients.ddb, stack.names, { maxSegmentSize: 50 });
    const cell = cellFor(45.65, 25.6);
    const ids = new Set(await allIdsOf(store, cell));
    const merged = await store.resegment(200);
    expect(merged.cellsChanged).toBeGreaterThanOrEqual(1);
    let shards = await store.shardsOf(cell);
    const need = Math.ceil(ids.size / 200);
    // Equal runs of the layout order (±1).
    expect(shards.map((s) => s.count).reduce((a, b) => a + b, 0)).toBe(ids.size);
    for (const s of shards) expect(Math.abs(s.count - ids.size / need)).toBeLessThan(1);
    expect(new Set(await allIdsOf(store, cell))).toEqual(ids);

    const split = await store.resegment(30);
    expect(split.created).toBeGreaterThan(0);
    shards = await store.shardsOf(cell);
    expect(shards).toHaveLength(Math.ceil(ids.size / 30));
    expect(shards.every((s) => s.count <= 30)).toBe(true);
    const after = await allIdsOf(store, cell);
    expect(after).toHaveLength(ids.size);
    expect(new Set(after)).toEqual(ids);
    expect((await store.stats()).overfull).toBe(0);
  });

  it('measures the import rate (bulk, idempotent insert, idempotent re-import)', async () => {
    const store = new SubscriberStore(stack.clients.ddb, stack.names, { maxSegmentSize: 2000, concurrency: 16 });
    const n = 20_000;
    const subs = around('rate', n, 45.9, 25.0, 250);
    const rate = async (label: string, run: () => Promise<unknown>, count: number) => {
      const t = performance.now();
      const r = await run();
      const perS = Math.round((count / (performance.now() - t)) * 1000);
      console.log(
        `import rate against dynalite, ${label}: ${count} in ${Math.round(performance.now() - t)} ms = ${perS}/s`,
      );
      return r;
    };
    const bulk = await rate(
      'bulk (assumeNew)',
      () => store.importAll(subs.slice(0, n / 2), { assumeNew: true }),
      n / 2,
    );
    const idem = await rate('idempotent, new ids', () => store.importAll(subs.slice(n / 2)), n / 2);
    const again = await rate('idempotent, re-import of all', () => store.importAll(subs), n);
    expect(bulk).toMatchObject({ inserted: n / 2, updated: 0 });
    expect(idem).toMatchObject({ inserted: n / 2, updated: 0 });
    expect(again).toMatchObject({ inserted: 0, updated: n, moved: 0 });
    const mine = (await store.scanIndex()).size;
    expect(mine).toBe((await store.stats()).subscribers);
  });
});

describe('compact shards (issue 16)', () => {
  let own: TestStack;
  beforeAll(async () => {
    own = await testStack('segl', ['subscribers', 'segments']);
  });
  afterAll(async () => own?.cleanup());

  /** `n` subscribers scattered over one res-5 cell (within 6 km of its centre: inside its hexagon). */
  function inCell(prefix: string, n: number, cell: string): SubscriberInput[] {
    const [lat, lon] = cellToLatLng(cell);
    return around(prefix, n, lat, lon, 6).filter((s) => cellFor(s.lat, s.lon) === cell);
  }

  /** Each shard's recorded area must be exactly the res-7 cells of its members; returns the areas' sizes. */
  async function checkAreas(store: SubscriberStore, cell: string): Promise<{ sizes: number[]; union: number }> {
    const shards = await store.shardsOf(cell);
    const union = new Set<string>();
    const sizes: number[] = [];
    for (const s of shards) {
      const members = await store.readSegment(s.key);
      expect(s.count).toBe(members.length);
      const exact = new Set(members.map((m) => areaCellFor(m.lat, m.lon)));
      expect(new Set(s.area)).toEqual(exact);
      for (const c of exact) union.add(c);
      sizes.push(exact.size);
    }
    return { sizes, union: union.size };
  }

  it('a bulk import lays a cell out in runs of the space-filling order, each shard recording its res-7 area', async () => {
    const store = new SubscriberStore(own.clients.ddb, own.names, { maxSegmentSize: 200 });
    const cell = cellFor(41.02, 28.95); // İstanbul
    const subs = inCell('bulk', 3000, cell);
    expect(subs.length).toBeGreaterThan(2500);
    // Chunks smaller than the cell: the layout continues across chunks (the shard that last had room goes on).
    const r = await store.importAll(subs, { chunkSize: 700 });
    expect(r.inserted).toBe(subs.length);
    const shards = await store.shardsOf(cell);
    expect(shards).toHaveLength(Math.ceil(subs.length / 200));
    const { sizes, union } = await checkAreas(store, cell);
    // Arrival order would give every shard of 200 nearly all of the cell's ~49 res-7 cells; runs cover a few each.
    expect(union).toBeGreaterThan(30);
    const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
    expect(mean).toBeLessThan(union / 4);
    expect(needsLayout(shards, 200)).toBe(false);
  });

  it('resegment lays out a cell written before areas were recorded, exactly, losing nobody', async () => {
    const store = new SubscriberStore(own.clients.ddb, own.names, { maxSegmentSize: 250 });
    const cell = cellFor(44.43, 26.1); // Bucharest
    const subs = inCell('old', 1000, cell);
    // The layout before this change: shards filled in arrival order, counts without areas.
    const puts = subs.map((s, i) => ({
      PutRequest: {
        Item: {
          segment: segmentKey(cell, Math.floor(i / 250)),
          subscriberId: s.id,
          lat: s.lat,
          lon: s.lon,
          minMmi: 3,
          channel: s.channel,
          locale: 'en',
        },
      },
    }));
    await batchWriteAll(own.clients.ddb, own.names.table('subscribers'), puts);
    const need = Math.ceil(subs.length / 250);
    for (let shard = 0; shard < need; shard++) {
      const count = Math.min(250, subs.length - shard * 250);
      await own.clients.ddb.send(
        new PutCommand({ TableName: own.names.table('segments'), Item: { cell, shard, count, updatedAt: 1 } }),
      );
    }
    const before = await store.shardsOf(cell);
    expect(needsLayout(before, 250)).toBe(true);
    const r = await store.resegment();
    expect(r.cellsChanged).toBeGreaterThanOrEqual(1);
    expect(r.moved).toBeGreaterThan(subs.length / 2);
    const after = await store.shardsOf(cell);
    expect(after).toHaveLength(need);
    expect(needsLayout(after, 250)).toBe(false);
    const { sizes, union } = await checkAreas(store, cell);
    expect(Math.max(...sizes)).toBeLessThan(union / 2);
    expect(new Set(await allIdsOf(store, cell))).toEqual(new Set(subs.map((s) => s.id)));
    // Nothing left to do: a second run changes nothing.
    expect((await store.resegment()).cellsChanged).toBe(0);
  });

  it('a subscriber moved within its cell stays inside its shard’s recorded area (the planner’s bounds hold)', async () => {
    const store = new SubscriberStore(own.clients.ddb, own.names, { maxSegmentSize: 200 });
    const cell = cellFor(38.0, 23.73); // Athens
    await store.importAll(inCell('within', 800, cell));
    const [first] = await store.shardsOf(cell);
    const held = new Set(first.area);
    // A res-7 cell of the same res-5 cell that this shard's area does not hold: the subscriber's new home.
    const elsewhere = cellToChildren(cell, 7).find((c) => !held.has(c) && cellFor(...cellToLatLng(c)) === cell)!;
    const [lat, lon] = cellToLatLng(elsewhere);
    const mover = (await store.readSegment(first.key))[0];
    const r = await store.upsert([{ ...mover, lat, lon }]);
    expect(r).toMatchObject({ updated: 1, moved: 0 });
    expect((await store.get(mover.id))?.segment).toBe(first.key); // same cell: rewritten in place
    // The area must still hold every member's res-7 cell (a superset is allowed), or the plan's nearest/farthest
    // distances for this shard are not bounds of its subscribers'.
    const after = (await store.shardsOf(cell)).find((s) => s.key === first.key)!;
    for (const m of await store.readSegment(first.key)) expect(after.area).toContain(areaCellFor(m.lat, m.lon));
    // A shard without a recorded area (written before areas) stays without one: the planner keeps its whole cell.
    const legacyCell = cellFor(37.98, 23.4);
    const legacy = inCell('legacy-area', 1, legacyCell)[0];
    await own.clients.ddb.send(
      new PutCommand({ TableName: own.names.table('segments'), Item: { cell: legacyCell, shard: 0, count: 1 } }),
    );
    await batchWriteAll(own.clients.ddb, own.names.table('subscribers'), [
      {
        PutRequest: {
          Item: {
            segment: segmentKey(legacyCell, 0),
            subscriberId: legacy.id,
            lat: legacy.lat,
            lon: legacy.lon,
            minMmi: 3,
            channel: legacy.channel,
            locale: 'en',
          },
        },
      },
    ]);
    const [lat2, lon2] = cellToChildren(legacyCell, 7)
      .map((c) => cellToLatLng(c))
      .find(([a, b]) => cellFor(a, b) === legacyCell && areaCellFor(a, b) !== areaCellFor(legacy.lat, legacy.lon))!;
    expect(await store.upsert([{ ...legacy, lat: lat2, lon: lon2 }])).toMatchObject({ updated: 1, moved: 0 });
    expect((await store.shardsOf(legacyCell))[0].area).toBeUndefined();
  });

  it('a subscriber added later joins the shard with room whose area holds it, not the first with room', async () => {
    const setup = new SubscriberStore(own.clients.ddb, own.names, { maxSegmentSize: 200 });
    const cell = cellFor(45.76, 21.23); // Timișoara
    const subs = inCell('late', 600, cell);
    await setup.importAll(subs);
    // Room in every shard: 3 runs of ~200 under a limit of 260.
    const roomy = new SubscriberStore(own.clients.ddb, own.names, { maxSegmentSize: 260 });
    await roomy.resegment();
    const shards = await roomy.shardsOf(cell);
    expect(shards.length).toBeGreaterThanOrEqual(3);
    expect(shards.every((s) => s.count < 260)).toBe(true);
    const target = shards.at(-1)!;
    const home = (await roomy.readSegment(target.key))[0];
    // A new store (no memory of where it last wrote): reads the cell's shards and picks by area.
    const fresh = new SubscriberStore(own.clients.ddb, own.names, { maxSegmentSize: 260 });
    await fresh.upsert([{ id: 'late-new', lat: home.lat, lon: home.lon, channel: { type: 'log', target: 't' } }]);
    expect((await fresh.get('late-new'))?.segment).toBe(target.key);
    const { sizes } = await checkAreas(fresh, cell);
    expect(sizes.length).toBe(shards.length);
  });
});
