/**
 * `gatherReport` against the local stack: a segment worker runs in-process (real DynamoDB tables, real webhook
 * delivery to a loopback sink that refuses every request, a real SQS delivery DLQ), so the report has to find what
 * the system recorded: per-unit failed counts from the locks, the parked batches in the delivery DLQ with their
 * reason, unit-completion delivery times without a receiver, and cold starts from function logs written by the
 * emulator's own log writer.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FunctionLogs, reportLine } from '../../local/lambda/logging.ts';
import { startWebhookSink, type WebhookSink } from '../../local/webhook-sink.ts';
import { type EventStore, getEvent, savePlan } from '../../shared/events/index.ts';
import { planFanout, runSegmentWorker } from '../../shared/fanout/index.ts';
import { Deliverer } from '../../shared/notify/index.ts';
import { coldStarts, EventNotFoundError, gatherReport } from '../../shared/report/gather.ts';
import { coveringCells, SubscriberStore } from '../../shared/segments/index.ts';
import { drillQuake, expectedIds, population } from './pipeline-fixtures.ts';
import { type TestStack, testStack } from './pipeline-support.ts';

const SECRET = 'report-gather-secret';
let stack: TestStack;
let sink: WebhookSink;

beforeAll(async () => {
  stack = await testStack('rep', ['subscribers', 'segments', 'events', 'locks'], ['delivery']);
  sink = await startWebhookSink({ secrets: SECRET, failMode: { status: 503 } });
});
afterAll(async () => {
  await sink?.close();
  await stack?.cleanup();
});

describe('gatherReport', () => {
  it('reports failed deliveries from the locks and the delivery DLQ, and cold starts from the logs', async () => {
    const { ddb } = stack.clients;
    const store = new SubscriberStore(ddb, stack.names, { maxSegmentSize: 100 });
    const events: EventStore = { ddb, table: stack.names.table('events') };
    const subs = population({ count: 150, maxKm: 60, target: `${sink.url}/hooks/r`, secret: SECRET, seed: 7 });
    await store.upsert(subs);
    const quake = drillQuake(`rep-${randomBytes(3).toString('hex')}`);
    const plan = await planFanout(quake, {
      minSubscriberMmi: 3,
      coveringCells,
      segmentsForCells: (cells) => store.segmentsForCells(cells),
    });
    await savePlan(events, quake, { ...plan, segments: plan.segments, chains: 1 });
    const deliverer = new Deliverer({ sqs: stack.clients.sqs, names: stack.names, allowPrivateTargets: true });
    const started = Date.now();
    const result = await runSegmentWorker(
      {
        events,
        locks: { ddb, table: stack.names.table('locks') },
        subscribers: store,
        deliver: (items) => deliverer.deliver(items),
        invokeSuccessor: async () => {},
        remainingMs: () => 600_000,
        owner: 'report-test',
        leaseMs: 60_000,
        pageSize: 100,
        reserveMs: 1000,
      },
      { eventId: quake.id, chain: 0, hop: 0 },
    );
    expect(result.completedEvent).toBe(true);
    const eligible = expectedIds(quake, subs);
    expect(eligible.size).toBeGreaterThan(20);

    // Function logs as the emulator writes them: two invocations of the worker, one of them cold.
    const logDir = await mkdtemp(join(tmpdir(), 'quakectl-logs-'));
    const logs = new FunctionLogs(logDir);
    const fn = stack.names.function('segment-worker');
    const at = started + 10;
    for (const [requestId, initMs] of [
      ['a', 412.5],
      ['b', undefined],
    ] as const) {
      logs.append(fn, {
        timestamp: at,
        logStreamName: 's',
        requestId,
        message: reportLine({ requestId, durationMs: 900, memoryMb: 1024, maxMemoryMb: 90, initMs }),
      });
    }
    logs.append(fn, { timestamp: at, logStreamName: 's', requestId: 'a', message: 'START RequestId: a' });
    await logs.close();

    const record = await getEvent(events, quake.id);
    const data = await gatherReport({
      clients: stack.clients,
      names: stack.names,
      eventId: quake.id,
      store,
      logs: { kind: 'local', stateDir: logDir },
    });
    expect(data.state).toBe('complete');
    expect(data.deliveryTimes).toBe('unit-done');
    expect(data.totals.eligible).toBe(eligible.size);
    expect(data.totals.countedFailed).toBe(eligible.size);
    expect(data.totals.countedDelivered).toBe(0);
    expect(data.units.reduce((a, u) => a + u.failed, 0)).toBe(eligible.size);
    expect(data.units.every((u) => u.state === 'done')).toBe(true);
    // Every notification went to the DLQ: nobody was delivered, whatever time the units finished.
    for (const p of data.points) expect(p.deliveredS).toBeNull();
    expect(data.totals.delivered).toBe(0);
    expect(data.totals.missing).toBe(eligible.size);
    // One row per (queue, kind, reason): every parked notification of this event, whatever the batching.
    expect(data.dlq).toHaveLength(1);
    expect(data.dlq[0].messages).toBeGreaterThan(0);
    const parked = data.dlq.reduce((a, r) => a + r.notifications, 0);
    expect(parked).toBe(eligible.size);
    expect(data.dlq.every((r) => r.kind === 'delivery' && r.message === 'delivery' && /503/.test(r.reason))).toBe(true);
    // No delivery (all went to the DLQ): no first notification whose path could have been cold.
    expect(data.cold).toEqual([
      { function: stack.names.function('consumer'), invocations: 0, cold: 0, maxInitMs: null, coldBeforeFirst: 0 },
      { function: fn, invocations: 2, cold: 1, maxInitMs: 412.5, coldBeforeFirst: 0 },
    ]);
    // The cold invocation started (REPORT time − Duration − Init Duration) before a first delivery at `at`, and after
    // one just before that start.
    const source = { kind: 'local' as const, stateDir: logDir };
    const coldFor = async (firstDeliveryAt: number) =>
      (await coldStarts(source, stack.names, { ...record!, firstDeliveryAt }, Date.now()))[1].coldBeforeFirst;
    expect(await coldFor(at)).toBe(1);
    expect(await coldFor(at - 900 - 412.5 - 1)).toBe(0);
    expect(record?.failed).toBe(eligible.size);
    // The DLQ was only peeked: the messages are still there for `quakectl dlq redrive`.
    const again = await gatherReport({ clients: stack.clients, names: stack.names, eventId: quake.id });
    expect(again.dlq.reduce((a, r) => a + r.notifications, 0)).toBe(eligible.size);
    await expect(
      gatherReport({ clients: stack.clients, names: stack.names, eventId: 'no-such-event' }),
    ).rejects.toThrow(EventNotFoundError);
  });
});
