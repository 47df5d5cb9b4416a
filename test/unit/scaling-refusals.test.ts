import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lockRow, releaseRefusal, splitRunId } from '../../shared/ops/locks/view.ts';
import { MIN_UNRESERVED, provisionedRefusal, reservedRefusal } from '../../shared/scaling/concurrency.ts';

const account = { limit: 1000, unreserved: 900 };

describe('concurrency refusals (before any API call)', () => {
  it('reserving more than the account leaves: refused with the numbers', () => {
    // 900 unreserved now, this function holds 50: at most 900 + 50 − 100 = 850.
    expect(reservedRefusal('f', 850, 50, null, account)).toBeUndefined();
    expect(reservedRefusal('f', 851, 50, null, account)).toMatch(
      /cannot reserve 851 for f: the account allows 1000 .* 900 are unreserved now and 100 must stay unreserved, so at most 850/,
    );
  });

  it('property: a reservation is allowed exactly when ≥ 100 stay unreserved', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3000 }),
        fc.integer({ min: 0, max: 500 }),
        fc.integer({ min: 0, max: 3000 }),
        (unreserved, current, n) => {
          const ok = reservedRefusal('f', n, current, null, { limit: 3000, unreserved }) === undefined;
          expect(ok).toBe(unreserved - (n - current) >= MIN_UNRESERVED);
        },
      ),
    );
  });

  it('reserved below provisioned, provisioned above reserved: refused', () => {
    expect(reservedRefusal('f', 3, 10, 5, account)).toMatch(/below its provisioned concurrency 5/);
    expect(provisionedRefusal('f', 6, 5, null, account)).toMatch(/above its reserved concurrency 5/);
    expect(provisionedRefusal('f', 5, 5, null, account)).toBeUndefined();
    expect(provisionedRefusal('f', 801, null, null, account)).toMatch(/only 800 of the account's unreserved/);
  });
});

describe('lock release rule', () => {
  const item = (leaseUntil: number, state: 'running' | 'done' | 'failed' = 'running') => ({
    pk: 'ev~r2#cell#0',
    eventId: 'ev~r2',
    segment: 'cell#0',
    owner: 'w1',
    leaseUntil,
    version: 3,
    cursor: { segment: 'cell#0', subscriberId: 's9' } as unknown as string,
    state,
    attempts: 2,
    delivered: 10,
    updatedAt: 0,
  });

  it('expired: allowed; live: only forced; done: never', () => {
    const now = 10_000;
    expect(releaseRefusal(lockRow(item(now - 1), now), false)).toBeUndefined();
    expect(releaseRefusal(lockRow(item(now + 5000), now), false)).toMatch(/live for another 5 s .* --force/);
    expect(releaseRefusal(lockRow(item(now + 5000), now), true)).toBeUndefined();
    expect(releaseRefusal(lockRow(item(now - 1, 'done'), now), true)).toMatch(/is done/);
    expect(lockRow(item(now - 1, 'failed'), now).stale).toBe(true);
  });

  it('shows the event without its plan revision and the cursor as JSON', () => {
    const r = lockRow(item(0), 1);
    expect(r).toMatchObject({ event: 'ev', revision: 2, cursor: '{"segment":"cell#0","subscriberId":"s9"}' });
    expect(splitRunId('us7000abc')).toEqual({ event: 'us7000abc', revision: 1 });
  });
});
