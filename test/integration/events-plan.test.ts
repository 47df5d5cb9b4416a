/**
 * savePlan on the local stack (issue 11, item 4): a consumer that died between the plan item and the event write, then
 * planned again from a changed segments table, must record the stored plan's unit count — the one workers run —
 * or the event never completes (or completes early). Plans are also conditional on the revision read.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPlan, planKey, savePlan } from '../../shared/events/index.ts';
import { drillQuake } from './pipeline-fixtures.ts';
import { type TestStack, testStack } from './pipeline-support.ts';

let stack: TestStack;
const events = () => ({ ddb: stack.clients.ddb, table: stack.names.table('events') });

beforeAll(async () => {
  stack = await testStack('epl', ['events']);
});
afterAll(async () => {
  await stack?.cleanup();
});

const plan = (segments: string[], units: number[]) => ({
  strategy: 'geo' as const,
  segments,
  units,
  counts: segments.map(() => 10),
  distancesKm: segments.map((_, i) => i),
  radiusKm: 50,
  minMmi: 3,
  chains: 4,
});

describe('savePlan', () => {
  it('after a crash between its two writes, the event counts the stored plan, not the recomputed one', async () => {
    const q = drillQuake('epl-crash');
    // The first attempt wrote its plan item (3 units over 6 segments), then died before the event write.
    await stack.clients.ddb.send(
      new PutCommand({
        TableName: stack.names.table('events'),
        Item: {
          eventId: planKey(q.id, q.updatedAt),
          kind: 'plan',
          strategy: 'geo',
          plan: ['a', 'b', 'c', 'd', 'e', 'f'],
          planDistancesKm: [0, 1, 2, 3, 4, 5],
          planCounts: [1, 1, 1, 1, 1, 1],
          units: [0, 2, 5],
          createdAt: 1,
        },
      }),
    );
    // The retry planned again from a segments table that had changed: 4 units over 4 segments.
    const saved = await savePlan(events(), q, plan(['a', 'b', 'c', 'g'], [0, 1, 2, 3]));
    expect(saved).toMatchObject({ total: 3, chains: 3, revision: 1, state: 'planned' });
    expect((await getPlan(events(), saved!))?.units).toEqual([0, 2, 5]);
  });

  it('is conditional on the revision read: a plan saved meanwhile wins, the stale one is refused', async () => {
    const v1 = drillQuake('epl-rev');
    const first = await savePlan(events(), v1, plan(['a'], [0]));
    expect(first?.revision).toBe(1);
    const v2 = { ...v1, updatedAt: v1.updatedAt + 1000, magnitude: v1.magnitude + 0.5 };
    const v3 = { ...v1, updatedAt: v1.updatedAt + 2000, magnitude: v1.magnitude + 1 };
    expect((await savePlan(events(), v3, plan(['a'], [0]), { expectedRevision: 1 }))?.revision).toBe(2);
    // v2's consumer read revision 1 too, before v3 was planned.
    expect(await savePlan(events(), v2, plan(['a'], [0]), { expectedRevision: 1 })).toBeUndefined();
  });
});
