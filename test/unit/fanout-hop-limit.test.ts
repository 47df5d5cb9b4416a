/**
 * The domino's hop limit (issue 11): a chain that reaches `maxHops` parks its payload in the worker DLQ with the
 * reason, and reads or writes nothing else. Pure: the check precedes every service call, which these deps refuse.
 */
import { describe, expect, it } from 'vitest';
import type { WorkerDeps } from '../../shared/fanout/types.ts';
import { DEFAULT_MAX_HOPS, runSegmentWorker } from '../../shared/fanout/worker.ts';

const refuse = () => {
  throw new Error('no service call expected');
};

function deps(parked: { reason: string; hop: number }[], maxHops?: number): WorkerDeps {
  return {
    events: { ddb: { send: refuse } as never, table: 'events' },
    locks: { ddb: { send: refuse } as never, table: 'locks' },
    subscribers: { readSegmentPage: refuse, scanPages: refuse },
    deliver: refuse,
    invokeSuccessor: refuse,
    remainingMs: () => 60_000,
    owner: 'test',
    leaseMs: 30_000,
    pageSize: 100,
    reserveMs: 10_000,
    maxHops,
    parkChain: async (payload, reason) => {
      parked.push({ reason, hop: payload.hop });
    },
  };
}

describe('hop limit', () => {
  it('parks the chain at the limit and does nothing else', async () => {
    const parked: { reason: string; hop: number }[] = [];
    const r = await runSegmentWorker(deps(parked, 5), { eventId: 'e1', chain: 2, hop: 5, revision: 1 });
    expect(r.outcome).toBe('hop-limit');
    expect(parked).toEqual([
      { hop: 5, reason: 'chain 2 reached the hop limit (5 ≥ 5): parked instead of invoking again' },
    ]);
  });

  it('defaults to 50 hops; below the limit the worker goes on to read the event', async () => {
    expect(DEFAULT_MAX_HOPS).toBe(50);
    const parked: { reason: string; hop: number }[] = [];
    await expect(runSegmentWorker(deps(parked), { eventId: 'e1', chain: 0, hop: 49 })).rejects.toThrow(
      'no service call expected',
    );
    expect(parked).toEqual([]);
    await runSegmentWorker(deps(parked), { eventId: 'e1', chain: 0, hop: 50 });
    expect(parked).toHaveLength(1);
  });
});
