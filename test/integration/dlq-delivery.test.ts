/**
 * Done-when of issue 7: a webhook receiver that fails → the delivery DLQ fills → `dlq list` shows the batches with
 * reasons → the receiver is healthy again → `dlq redrive` → every notification delivered once, the DLQ empty.
 * Everything real: the loopback sink, shared/notify's Deliverer, ElasticMQ, dynalite, the CLI as a process.
 */
import { CreateTableCommand, DeleteTableCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookSink, type WebhookSink } from '../../local/webhook-sink.ts';
import { resourceNames } from '../../shared/infra/names.ts';
import { tableDefinition } from '../../shared/infra/tables.ts';
import { Deliverer, type Notification } from '../../shared/notify/index.ts';
import type { DecodedMessage } from '../../shared/ops/dlq/decode.ts';
import type { RedriveResult } from '../../shared/ops/dlq/redrive.ts';
import { SubscriberStore } from '../../shared/segments/index.ts';
import { localClients, uniqueName } from '../helpers/stack.ts';
import { profileArgs, runCli, runJson } from './ops-cli.ts';

const clients = localClients();
const prefix = uniqueName('opsdlq');
const names = resourceNames(prefix);
const P = profileArgs(prefix);
const SECRET = 'sink-secret';
let sink: WebhookSink;
let dlqUrl: string;

const eventId = 'us7000dlq1';
const otherEvent = 'us7000dlq2';

function notification(subscriberId: string, ev = eventId): Notification {
  return {
    id: `${ev}:${subscriberId}:take-action`,
    kind: 'alert',
    subscriberId,
    eventId: ev,
    drill: true,
    level: 'take-action',
    mmi: 6.1,
    distanceKm: 42.5,
    secondsUntilShaking: 8.2,
    magnitude: 6.4,
    place: 'Vrancea, Romania',
    originTime: Date.now() - 5000,
    text: 'DRILL: strong shaking expected',
    locale: 'en',
    phase: 'warning',
    builtAt: Date.now() - 4000,
  };
}

const depth = async () =>
  Number(
    (await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['All'] }))).Attributes
      ?.ApproximateNumberOfMessages,
  );

beforeAll(async () => {
  sink = await startWebhookSink({ secrets: SECRET, failMode: { status: 503 } });
  dlqUrl = (await clients.sqs.send(new CreateQueueCommand({ QueueName: names.dlq('delivery') }))).QueueUrl ?? '';
  for (const t of ['subscribers', 'segments', 'events'] as const) {
    await clients.dynamodb.send(new CreateTableCommand(tableDefinition(names, t)));
    await waitUntilTableExists(
      { client: clients.dynamodb, maxWaitTime: 30, minDelay: 0.2, maxDelay: 1 },
      { TableName: names.table(t) },
    );
  }
  const store = new SubscriberStore(clients.ddb, names);
  const subs = Array.from({ length: 5 }, (_, i) => ({
    id: `sub${i}`,
    lat: 45.7 + i / 100,
    lon: 26.6,
    channel: { type: 'webhook' as const, target: `${sink.url}/hooks/ops`, secret: SECRET },
  }));
  const up = await store.upsert(subs);
  expect(up.rejected).toEqual([]);

  // The receiver fails: batches of 2 go to the DLQ after their retries.
  const deliverer = new Deliverer({
    sqs: clients.sqs,
    names,
    allowPrivateTargets: true,
    batchSize: 2,
    maxAttempts: 2,
    backoffBaseMs: 10,
    backoffMaxMs: 20,
  });
  const items = [
    ...subs.map((s) => ({ channel: s.channel, notification: notification(s.id) })),
    { channel: subs[0].channel, notification: notification('sub0', otherEvent) },
  ];
  const r = await deliverer.deliver(items);
  expect(r.delivered).toEqual([]);
  expect(r.dlq).toBe(6); // one message per notification: 5 of event 1, 1 of event 2 (a redrive is idempotent per id)
  expect(sink.received()).toEqual([]);
});

afterAll(async () => {
  await sink?.close();
  await clients.sqs.send(new DeleteQueueCommand({ QueueUrl: dlqUrl })).catch(() => {});
  for (const t of ['subscribers', 'segments', 'events'] as const) {
    await clients.dynamodb.send(new DeleteTableCommand({ TableName: names.table(t) })).catch(() => {});
  }
  clients.destroy();
});

describe('delivery DLQ: list, redrive', () => {
  it('dlq list shows the depths and, for the queue, the batches with their reasons, without consuming them', async () => {
    const all = await runJson<Array<{ queue: string; kind: string; depth: number }>>([...P, 'dlq', 'list']);
    expect(all).toContainEqual({ queue: names.dlq('delivery'), kind: 'delivery', depth: 6 });
    expect(all.find((q) => q.kind === 'producer')).toEqual({
      queue: names.dlq('producer'),
      kind: 'producer',
      depth: 0,
    });

    const messages = await runJson<DecodedMessage[]>([...P, 'dlq', 'list', 'delivery']);
    expect(messages).toHaveLength(6);
    for (const m of messages) {
      expect(m.kind).toBe('delivery');
      expect(m.errorMessage).toMatch(/503/);
      expect(m.attempts).toBe(2);
      expect(m.firstFailureAt).toBeGreaterThan(Date.now() - 120_000);
      // The path is redacted (hook tokens live there); redrive re-reads the subscriber's channel, not this.
      expect(m.delivery?.target).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/…$/);
      expect(JSON.stringify(m)).not.toContain(SECRET);
    }
    expect(messages.flatMap((m) => m.delivery?.notifications.map((n) => n.id) ?? []).sort()).toHaveLength(6);
    // Peeking released them: all still visible.
    expect(await depth()).toBe(6);
    const one = await runJson<DecodedMessage>([...P, 'dlq', 'show', 'delivery', messages[0].messageId]);
    expect(one.messageId).toBe(messages[0].messageId);
  });

  it('a redrive while the receiver still fails leaves every batch in the DLQ with the new reason', async () => {
    sink.setFailing({ status: 500 });
    const run = await runCli([...P, 'dlq', 'redrive', 'delivery', '--event-id', eventId, '--yes', '-o', 'json']);
    expect(run.code).toBe(1);
    const r = JSON.parse(run.stdout) as RedriveResult;
    expect(r).toMatchObject({ mode: 'redrive', redriven: 0, failed: 5, skipped: 1 });
    expect(await depth()).toBe(6);
    const messages = await runJson<DecodedMessage[]>([...P, 'dlq', 'list', 'delivery']);
    const ofEvent = messages.filter((m) => m.eventIds.includes(eventId));
    expect(ofEvent.map((m) => [m.attempts, /500/.test(m.errorMessage ?? '')])).toEqual(
      Array.from({ length: 5 }, () => [3, true]),
    );
  });

  it('dry run changes nothing; the receiver healthy, redrive delivers every notification once and empties the DLQ', async () => {
    sink.setFailing(false);
    const dry = await runJson<RedriveResult>([...P, 'dlq', 'redrive', 'delivery', '--dry-run']);
    expect(dry.items.filter((i) => i.outcome === 'would-redrive')).toHaveLength(6);
    expect(sink.requests()).toBeGreaterThan(0);
    expect(sink.received()).toEqual([]);
    expect(await depth()).toBe(6);

    const r = await runCli([...P, 'dlq', 'redrive', 'delivery', '--rate', '20']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/redriven 6, failed 0, skipped 0/);
    expect(await depth()).toBe(0);
    const ids = sink.received().map((n) => n.id);
    expect(ids.sort()).toEqual(
      [
        ...['sub0', 'sub1', 'sub2', 'sub3', 'sub4'].map((s) => `${eventId}:${s}:take-action`),
        `${otherEvent}:sub0:take-action`,
      ].sort(),
    );
    expect(sink.duplicates()).toBe(0);
    expect(sink.badSignatures()).toBe(0);
  });

  it('a redrive hours later sends what happened, not "shaking in N s"; an alert of a retracted event is not sent', async () => {
    sink.reset();
    const threeHoursAgo = Date.now() - 3 * 3600_000;
    const quake = (id: string) => ({
      id,
      source: 'drill',
      sourceIds: [id],
      originTime: threeHoursAgo,
      lat: 45.72,
      lon: 26.6,
      depthKm: 94,
      magnitude: 6.4,
      magType: 'mw',
      place: 'Vrancea, Romania',
      updatedAt: threeHoursAgo,
      status: 'reviewed',
      kind: 'earthquake',
      drill: true,
    });
    const late = 'us7000late1';
    const gone = 'us7000late2';
    await clients.ddb.send(
      new PutCommand({
        TableName: names.table('events'),
        Item: { eventId: late, quake: quake(late), plannedQuake: quake(late), state: 'complete' },
      }),
    );
    await clients.ddb.send(
      new PutCommand({
        TableName: names.table('events'),
        Item: {
          eventId: gone,
          quake: quake(gone),
          plannedQuake: quake(gone),
          state: 'retracted',
          mode: 'cancel',
          retractedAt: threeHoursAgo + 600_000,
        },
      }),
    );
    const parked = (ev: string, sub: string): Notification => ({
      ...notification(sub, ev),
      originTime: threeHoursAgo,
      builtAt: threeHoursAgo + 20_000,
      secondsUntilShaking: 12,
      text: 'DRILL — THIS IS A TEST: Earthquake M6.4, 60 km away. Strong shaking expected in 12 s.',
    });
    for (const [ev, sub] of [
      [late, 'sub1'],
      [gone, 'sub2'],
    ]) {
      await clients.sqs.send(
        new SendMessageCommand({
          QueueUrl: dlqUrl,
          MessageBody: JSON.stringify({
            kind: 'delivery',
            reason: 'HTTP 503',
            target: `${sink.url}/hooks/ops`,
            eventId: ev,
            attempts: 4,
            firstFailureAt: threeHoursAgo + 20_000,
            notifications: [parked(ev, sub)],
          }),
          MessageAttributes: { kind: { DataType: 'String', StringValue: 'delivery' } },
        }),
      );
    }
    const r = await runJson<RedriveResult>([...P, 'dlq', 'redrive', 'delivery', '--yes']);
    expect(r).toMatchObject({ redriven: 2, failed: 0 });
    expect(r.items.map((i) => i.detail).join('\n')).toMatch(/no longer owed \(the event was retracted/);
    expect(await depth()).toBe(0);
    const got = sink.received();
    expect(got.map((n) => n.id)).toEqual([`${late}:sub1:take-action`]);
    expect(got[0]).toMatchObject({ phase: 'after', kind: 'alert' });
    expect(got[0].secondsUntilShaking).toBeLessThan(-3 * 3600 + 60);
    expect(got[0].text).toMatch(/The shaking has passed/);
    expect(got[0].text).not.toMatch(/expected in/);
  });
});
