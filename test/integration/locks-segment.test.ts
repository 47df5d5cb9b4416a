import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acquire,
  checkpoint,
  complete,
  fail,
  finish,
  get,
  getMany,
  handOff,
  heartbeat,
  LeaseLostError,
  LockHeldError,
  type LockStore,
  list,
  release,
  SegmentDoneError,
  StaleVersionError,
} from '../../shared/locks/index.ts';
import { type TestStack, testStack } from './pipeline-support.ts';

let stack: TestStack;
let store: LockStore;

beforeAll(async () => {
  stack = await testStack('locks', ['locks']);
  store = { ddb: stack.clients.ddb, table: stack.names.table('locks') };
});
afterAll(async () => stack?.cleanup());

describe('segment lock against DynamoDB (dynalite)', () => {
  it('ten workers racing for one segment: exactly one holds it', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        acquire(store, { eventId: 'race', segment: 'cellA#0', owner: `w${i}`, leaseMs: 30_000 }),
      ),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(9);
    for (const r of lost) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(LockHeldError);
    const winner = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquire>>>).value;
    expect(winner.version).toBe(1);
    expect(winner.cursor).toBeUndefined();
    expect(winner.takeover).toBe(false);
    const item = await get(store, 'race', 'cellA#0');
    expect(item?.owner).toBe(winner.owner);
    expect(item?.state).toBe('running');
  });

  it('an expired lease is taken over with its cursor, and the stale holder is refused', async () => {
    let now = 1_000_000;
    const timed: LockStore = { ...store, now: () => now };
    const a = await acquire(timed, { eventId: 'crash', segment: 'cellB#1', owner: 'A', leaseMs: 5000 });
    const cursor = JSON.stringify({ segment: 'cellB#1', subscriberId: 's-0099' });
    await checkpoint(timed, a, cursor, { delivered: 100, eligible: 100 }, 5000);
    // Still within A's (extended) lease: B cannot take it.
    now += 4000;
    await expect(acquire(timed, { eventId: 'crash', segment: 'cellB#1', owner: 'B', leaseMs: 5000 })).rejects.toThrow(
      LockHeldError,
    );
    // A "crashes"; its lease runs out.
    now += 1001;
    const b = await acquire(timed, { eventId: 'crash', segment: 'cellB#1', owner: 'B', leaseMs: 5000 });
    expect(b.version).toBe(a.version + 1);
    expect(b.cursor).toEqual(cursor);
    expect(b.delivered).toBe(100);
    expect(b.takeover).toBe(true);
    expect(b.attempts).toBe(2);
    // A wakes up: every write under its old lease is refused.
    await expect(
      checkpoint(timed, a, JSON.stringify({ segment: 'cellB#1', subscriberId: 's-0199' }), { delivered: 100 }, 5000),
    ).rejects.toThrow(LeaseLostError);
    await expect(heartbeat(timed, a, 5000)).rejects.toThrow(LeaseLostError);
    await expect(complete(timed, a)).rejects.toThrow(LeaseLostError);
    // B's writes go through, and the cursor is still the one A acknowledged.
    expect((await get(timed, 'crash', 'cellB#1'))?.cursor).toBe(cursor);
    await checkpoint(timed, b, undefined, { delivered: 50, failed: 2, eligible: 52 }, 5000);
    await complete(timed, b);
    const done = await get(timed, 'crash', 'cellB#1');
    expect(done?.state).toBe('done');
    expect(done?.delivered).toBe(150);
    expect(done?.failed).toBe(2);
    expect(done?.eligible).toBe(152);
    // A done segment is never acquired again, even long after its lease.
    now += 3_600_000;
    await expect(acquire(timed, { eventId: 'crash', segment: 'cellB#1', owner: 'C', leaseMs: 5000 })).rejects.toThrow(
      SegmentDoneError,
    );
  });

  it('the same owner with a stale version is refused (the version decides, not the owner id)', async () => {
    let now = 5_000_000;
    const timed: LockStore = { ...store, now: () => now };
    const first = await acquire(timed, { eventId: 'same', segment: 'c#0', owner: 'W', leaseMs: 1000 });
    now += 2000;
    const second = await acquire(timed, { eventId: 'same', segment: 'c#0', owner: 'W', leaseMs: 1000 });
    await expect(heartbeat(timed, first, 1000)).rejects.toThrow(LeaseLostError);
    await heartbeat(timed, second, 1000);
  });

  it('hand-off lets a successor acquire at once and resume from the cursor', async () => {
    let now = 7_000_000;
    const timed: LockStore = { ...store, now: () => now };
    const a = await acquire(timed, { eventId: 'domino', segment: 'd#0', owner: 'A', leaseMs: 60_000 });
    await checkpoint(timed, a, '{"p":1}', { delivered: 10 }, 60_000);
    await handOff(timed, a);
    now += 1;
    const b = await acquire(timed, { eventId: 'domino', segment: 'd#0', owner: 'A-hop1', leaseMs: 60_000 });
    expect(b.cursor).toBe('{"p":1}');
    expect(b.delivered).toBe(10);
    await expect(checkpoint(timed, a, '{"p":2}', { delivered: 10 }, 60_000)).rejects.toThrow(LeaseLostError);
  });

  it('finish adds the last batch and closes the unit in one write, under the lease only', async () => {
    let now = 8_000_000;
    const timed: LockStore = { ...store, now: () => now };
    const a = await acquire(timed, { eventId: 'fin', segment: 'u#0+3', owner: 'A', leaseMs: 1000 });
    await checkpoint(timed, a, '{"shard":2}', { delivered: 40, eligible: 41, failed: 1 }, 1000);
    now += 2000;
    const b = await acquire(timed, { eventId: 'fin', segment: 'u#0+3', owner: 'B', leaseMs: 1000 });
    await expect(finish(timed, a, { delivered: 5, eligible: 5 })).rejects.toThrow(LeaseLostError);
    await finish(timed, b, { delivered: 7, eligible: 8, failed: 1 });
    expect(b).toMatchObject({ delivered: 47, eligible: 49, failed: 2 });
    expect(await get(timed, 'fin', 'u#0+3')).toMatchObject({ state: 'done', delivered: 47, eligible: 49, failed: 2 });
    now += 10_000;
    await expect(acquire(timed, { eventId: 'fin', segment: 'u#0+3', owner: 'C', leaseMs: 1000 })).rejects.toThrow(
      SegmentDoneError,
    );
  });

  it('fail ends the lease at once so a sweep can retry; forced release is version-checked', async () => {
    let now = 9_000_000;
    const timed: LockStore = { ...store, now: () => now };
    const a = await acquire(timed, { eventId: 'ops', segment: 'x#0', owner: 'A', leaseMs: 60_000 });
    await fail(timed, a, 'subscribers read failed');
    now += 1;
    const b = await acquire(timed, { eventId: 'ops', segment: 'x#0', owner: 'B', leaseMs: 60_000 });
    expect((await get(timed, 'ops', 'x#0'))?.error).toBeUndefined();
    await expect(release(timed, b.pk, a.version)).rejects.toThrow(StaleVersionError);
    await release(timed, b.pk, b.version);
    await expect(checkpoint(timed, b, '{"k":1}', { delivered: 1 }, 60_000)).rejects.toThrow(LeaseLostError);
    const c = await acquire(timed, { eventId: 'ops', segment: 'x#0', owner: 'C', leaseMs: 60_000 });
    expect(c.version).toBe(b.version + 2);
  });

  it('list and getMany show the locks of an event', async () => {
    let now = 20_000_000;
    const timed: LockStore = { ...store, now: () => now };
    const l1 = await acquire(timed, { eventId: 'listed', segment: 'a#0', owner: 'A', leaseMs: 1000 });
    await acquire(timed, { eventId: 'listed', segment: 'b#0', owner: 'B', leaseMs: 10_000 });
    await checkpoint(timed, l1, undefined, { delivered: 3 }, 1000);
    await complete(timed, l1);
    await acquire(timed, { eventId: 'listed', segment: 'c#0', owner: 'C', leaseMs: 1000 });
    now += 2000;
    expect((await list(timed, { eventId: 'listed' })).map((l) => l.segment)).toEqual(['a#0', 'b#0', 'c#0']);
    expect((await list(timed, { eventId: 'listed', state: 'done' })).map((l) => l.segment)).toEqual(['a#0']);
    expect((await list(timed, { eventId: 'listed', lease: 'held' })).map((l) => l.segment)).toEqual(['b#0']);
    expect((await list(timed, { eventId: 'listed', lease: 'expired' })).map((l) => l.segment)).toEqual(['c#0']);
    const many = await getMany(timed, 'listed', ['a#0', 'b#0', 'c#0', 'never#0']);
    expect([...many.keys()].sort()).toEqual(['a#0', 'b#0', 'c#0']);
    expect(many.get('a#0')?.delivered).toBe(3);
  });
});
