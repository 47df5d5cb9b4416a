/**
 * The shared send rate (shared/notify/rate.ts) and the send journal (journal.ts) through DynamoDB (dynalite, the locks table), as segment workers use
 * it: four gates with their own clients — four processes — send 60 messages to one provider at 20 per second. No
 * sliding second may hold more than the rate, the item the gates share stays one per provider, and the windows'
 * counts it holds never exceed the capacity. Fails if the conditional claims are removed (each gate would then send
 * 20 per second on its own).
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients } from '../../shared/infra/clients.ts';
import { DynamoSendJournal } from '../../shared/notify/journal.ts';
import { DynamoRateStore, RateGate } from '../../shared/notify/rate.ts';
import { localServiceConfig } from '../helpers/stack.ts';
import { type TestStack, testStack } from './pipeline-support.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await testStack('rate', ['locks']);
});
afterAll(() => stack?.cleanup());

describe('DynamoRateStore', () => {
  it('four processes share 20 sends/s to one provider through one item', async () => {
    const table = stack.names.table('locks');
    const processes = [0, 1, 2, 3].map(() => createClients({ ...localServiceConfig(), names: stack.names }));
    const gates = processes.map((c) => new RateGate(new DynamoRateStore(c.ddb, table), { rates: { 'sns-sms': 20 } }));
    const times: number[] = [];
    const t0 = Date.now();
    await Promise.all(
      gates.map((g) =>
        Promise.all(
          Array.from({ length: 15 }, async () => {
            await g.take('sns-sms');
            times.push(Date.now());
          }),
        ),
      ),
    );
    for (const c of processes) c.destroy();
    times.sort((a, b) => a - b);
    expect(times).toHaveLength(60);
    for (const t of times) {
      expect(times.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(21);
    }
    // 60 sends at 20/s: at least two seconds after the first window.
    expect(times.at(-1)! - t0).toBeGreaterThanOrEqual(2000);
    const item = await stack.clients.ddb.send(new GetCommand({ TableName: table, Key: { pk: 'rate#sns-sms' } }));
    expect(item.Item?.taken).toBeLessThanOrEqual(20);
    expect(item.Item?.win).toBeGreaterThanOrEqual(Math.floor(t0 / 1000));
  });
});

describe('DynamoSendJournal', () => {
  it('a notification begun and done is skipped by every later holder; one begun but not done is sent again', async () => {
    const table = stack.names.table('locks');
    const a = new DynamoSendJournal(stack.clients.ddb, table);
    const b = new DynamoSendJournal(stack.clients.ddb, table);
    expect(await a.begin('ev:s1:take-action')).toBe('send');
    await a.done('ev:s1:take-action', '42');
    expect(await b.begin('ev:s1:take-action')).toBe('sent');
    // A holder that died between begin and done: the next one sends (the only window for a duplicate).
    expect(await a.begin('ev:s2:take-action')).toBe('send');
    expect(await b.begin('ev:s2:take-action')).toBe('send');
    const item = await stack.clients.ddb.send(
      new GetCommand({ TableName: table, Key: { pk: 'sent#ev:s2:take-action' } }),
    );
    expect(item.Item).toMatchObject({ state: 'sending', tries: 2 });
  });
});
