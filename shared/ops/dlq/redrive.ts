/**
 * Redrive: each DLQ message goes back to where it failed, and is deleted only after that succeeded (at-least-once: a
 * crash mid-redrive leaves the message in the DLQ, to be redriven again; the receivers are idempotent by design).
 *
 * - Lambda DLQ message / destination record → synchronous Invoke of that function with the original payload.
 * - Kafka failure record → re-read the offsets from Kafka, re-invoke the consumer with a SelfManagedKafka event.
 * - Delivery batch → re-deliver through `redeliver` (shared/notify's Deliverer, secrets looked up again).
 * - CAP publication → publish the event's CAP feed again through `republishCap` (shared/ops/dlq/republish-cap.ts).
 * A failed redrive leaves the message in the DLQ with the new reason: a copy carrying the new reason is sent first,
 * then the original is deleted (send-before-delete, so nothing is lost between the two).
 * With no filter and a DLQ whose sources are SQS queues, SQS's own message move task does the work instead.
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import {
  DeleteMessageCommand,
  type Message,
  type MessageAttributeValue,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Kafka } from 'kafkajs';
import { errorMessage } from '../../infra/errors.ts';
import { type ResourceNames, resolveFunctionName } from '../../infra/names.ts';
import { selfManagedKafkaEvent } from '../kafka/event.ts';
import { type ReadRecord, readRange } from '../kafka/read-range.ts';
import { type DecodedMessage, type DeliveryBatch, decodeMessage } from './decode.ts';
import { deadLetterSources, type MoveProgress, runMoveTask } from './move-task.ts';
import { DLQ_FUNCTION, type DlqRef, queueDepth, receiveAll, release } from './queues.ts';

export interface RedriveDeps {
  sqs: SQSClient;
  lambda: LambdaClient;
  kafka: Kafka;
  names: ResourceNames;
  /** Brokers as the consumer's event source mapping knows them (the rebuilt event's bootstrapServers). */
  brokers: string[];
  /** Re-delivers a delivery-DLQ batch; resolves on success, rejects with the reason on failure. */
  redeliver?: (batch: DeliveryBatch) => Promise<unknown>;
  /** Publishes an event's CAP messages and the feed's index again; absent when the profile has no feed. */
  republishCap?: (eventId: string) => Promise<string>;
}

export interface RedriveOptions {
  eventId?: string;
  /** Only messages that failed at or after this time (epoch ms). */
  since?: number;
  max?: number;
  /** Redrives per second. */
  rate?: number;
  dryRun?: boolean;
  onItem?: (item: RedriveItem) => void;
  onProgress?: (p: MoveProgress) => void;
}

export interface RedriveItem {
  messageId: string;
  kind: DecodedMessage['kind'];
  outcome: 'redriven' | 'failed' | 'skipped' | 'would-redrive';
  detail?: string;
}

export interface RedriveResult {
  queue: string;
  mode: 'message-move-task' | 'redrive';
  dryRun: boolean;
  redriven: number;
  failed: number;
  skipped: number;
  items: RedriveItem[];
  moveTask?: MoveProgress;
}

export class RedriveError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RedriveError';
  }
}

/** How long a message stays invisible while quakectl holds it (long enough for a slow invoke). */
const HOLD_S = 300;

export async function redrive(deps: RedriveDeps, ref: DlqRef, opts: RedriveOptions = {}): Promise<RedriveResult> {
  const filtered = opts.eventId !== undefined || opts.since !== undefined || opts.max !== undefined;
  if (!filtered) {
    const sources = await deadLetterSources(deps.sqs, ref.url);
    if (sources.length > 0) return moveTask(deps, ref, opts);
  }
  const result: RedriveResult = {
    queue: ref.queue,
    mode: 'redrive',
    dryRun: Boolean(opts.dryRun),
    redriven: 0,
    failed: 0,
    skipped: 0,
    items: [],
  };
  const fallbackFn = ref.kind !== 'other' ? DLQ_FUNCTION[ref.kind] : undefined;
  const held: Message[] = [];
  const handled = new Set<string>();
  let attempted = 0;
  let lastStart = 0;
  // Messages that arrive while we redrive (a consumer re-parking a poison record, a function failing again) belong
  // to a later redrive: taking them now could loop for as long as the failure lasts.
  const startedAt = Date.now();
  const record = (item: RedriveItem) => {
    result.items.push(item);
    if (item.outcome === 'redriven') result.redriven++;
    else if (item.outcome === 'failed') result.failed++;
    else if (item.outcome === 'skipped') result.skipped++;
    opts.onItem?.(item);
  };
  try {
    for (;;) {
      if (opts.max !== undefined && attempted >= opts.max) break;
      const received = await receiveAll(deps.sqs, ref.url, { visibility: HOLD_S, max: 10 });
      if (received.length === 0) break;
      // Seen before (a re-queued copy of this run, or a held message back after its visibility): hold it, once more.
      for (const m of received) if (m.MessageId && handled.has(m.MessageId)) held.push(m);
      const batch = received.filter((m) => m.MessageId && !handled.has(m.MessageId));
      for (const m of batch) {
        handled.add(m.MessageId ?? '');
        const d = decodeMessage(m, fallbackFn ? deps.names.function(fallbackFn) : undefined);
        const skip =
          (d.sentAt !== undefined && d.sentAt > startedAt ? 'arrived during this redrive' : undefined) ??
          skipReason(d, opts) ??
          (d.kind === 'delivery' && !deps.redeliver ? 'no deliverer configured to re-deliver' : undefined) ??
          (d.kind === 'cap-publish' && !deps.republishCap ? 'the profile publishes no CAP feed' : undefined);
        if (skip || (opts.max !== undefined && attempted >= opts.max)) {
          held.push(m);
          record({ messageId: d.messageId, kind: d.kind, outcome: 'skipped', detail: skip ?? 'over --max' });
          continue;
        }
        if (opts.dryRun) {
          held.push(m);
          attempted++;
          record({ messageId: d.messageId, kind: d.kind, outcome: 'would-redrive', detail: describeTarget(d) });
          continue;
        }
        // Kafka batches can only be matched to an event after reading them.
        let records: ReadRecord[] | undefined;
        if (d.kind === 'kafka-batch' && opts.eventId !== undefined) {
          try {
            records = await readKafka(deps, d);
          } catch (err) {
            held.push(m);
            record({
              messageId: d.messageId,
              kind: d.kind,
              outcome: 'skipped',
              detail: `cannot read: ${errorMessage(err)}`,
            });
            continue;
          }
          if (!records.some((r) => r.key?.toString('utf8') === opts.eventId)) {
            held.push(m);
            record({ messageId: d.messageId, kind: d.kind, outcome: 'skipped', detail: 'event id not in batch' });
            continue;
          }
        }
        if (opts.rate && opts.rate > 0) {
          const wait = lastStart + 1000 / opts.rate - Date.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          lastStart = Date.now();
        }
        attempted++;
        try {
          const done = await redriveOne(deps, d, records);
          await deps.sqs.send(new DeleteMessageCommand({ QueueUrl: ref.url, ReceiptHandle: m.ReceiptHandle }));
          record({ messageId: d.messageId, kind: d.kind, outcome: 'redriven', detail: done ?? describeTarget(d) });
        } catch (err) {
          const reason = errorMessage(err);
          const remaining = (err as { remaining?: unknown[] }).remaining;
          const copyId = await requeueWithReason(deps.sqs, ref.url, m, d, reason, remaining);
          if (copyId) handled.add(copyId);
          record({ messageId: d.messageId, kind: d.kind, outcome: 'failed', detail: reason });
        }
      }
    }
  } finally {
    // Skipped and dry-run messages go back at once, untouched.
    await release(deps.sqs, ref.url, held).catch(() => {});
  }
  return result;
}

function skipReason(d: DecodedMessage, opts: RedriveOptions): string | undefined {
  if (opts.since !== undefined) {
    const at = d.firstFailureAt ?? d.sentAt;
    if (at !== undefined && at < opts.since) return `failed before --since (${new Date(at).toISOString()})`;
  }
  if (opts.eventId !== undefined && d.kind !== 'kafka-batch' && !d.eventIds.includes(opts.eventId)) {
    return `not event ${opts.eventId}`;
  }
  if (d.kind === 'unknown') return 'not a message quakectl can redrive (unknown shape)';
  return undefined;
}

function describeTarget(d: DecodedMessage): string {
  switch (d.kind) {
    case 'lambda-async':
    case 'lambda-destination':
      return `invoke ${d.function}`;
    case 'kafka-batch':
    case 'kafka-record':
      return `re-read ${d.kafka?.ranges.map((r) => `${r.topic}-${r.partition}@${r.firstOffset}..${r.lastOffset}`).join(', ')} → ${d.function}`;
    case 'delivery':
      return `re-deliver ${d.delivery?.notifications.length} notification(s) to ${d.delivery?.target}`;
    case 'cap-publish':
      return `republish the CAP feed of ${d.eventIds[0]}`;
    default:
      return '';
  }
}

/** `arn:aws:lambda:r:a:function:NAME[:qualifier]` → NAME[:qualifier] is what Invoke accepts; names pass through. */
export function invokeTarget(names: ResourceNames, fn: string): string {
  const m = /:function:(.+)$/.exec(fn);
  return m ? m[1] : resolveFunctionName(names, fn);
}

async function invoke(deps: RedriveDeps, fn: string, payload: unknown): Promise<void> {
  const out = await deps.lambda.send(
    new InvokeCommand({
      FunctionName: invokeTarget(deps.names, fn),
      InvocationType: 'RequestResponse',
      Payload: Buffer.from(JSON.stringify(payload ?? {})),
    }),
  );
  if (out.FunctionError) {
    const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
    let msg = text;
    try {
      const p = JSON.parse(text) as { errorType?: string; errorMessage?: string };
      msg = [p.errorType, p.errorMessage].filter(Boolean).join(': ') || text;
    } catch {
      // not JSON: keep the text
    }
    throw new RedriveError(`${out.FunctionError} error from ${fn}: ${msg}`.slice(0, 900));
  }
}

async function readKafka(deps: RedriveDeps, d: DecodedMessage): Promise<ReadRecord[]> {
  const out: ReadRecord[] = [];
  for (const r of d.kafka?.ranges ?? []) {
    out.push(...(await readRange(deps.kafka, r.topic, r.partition, r.firstOffset, r.lastOffset)));
  }
  return out;
}

/** Redrives one message; for a delivery batch, returns what became of its notifications. */
async function redriveOne(deps: RedriveDeps, d: DecodedMessage, records?: ReadRecord[]): Promise<string | undefined> {
  switch (d.kind) {
    case 'lambda-async':
    case 'lambda-destination': {
      if (!d.function) throw new RedriveError('no function known for this DLQ message');
      await invoke(deps, d.function, d.payload);
      return undefined;
    }
    case 'kafka-batch':
    case 'kafka-record': {
      const recs = records ?? (await readKafka(deps, d));
      if (recs.length === 0) throw new RedriveError('the failure record names no readable records');
      const fn = d.function ?? deps.names.function('consumer');
      await invoke(deps, fn, selfManagedKafkaEvent(deps.brokers, recs));
      return undefined;
    }
    case 'delivery': {
      if (!deps.redeliver) throw new RedriveError('no deliverer available to re-deliver notifications');
      const del = d.delivery;
      if (!del) throw new RedriveError('delivery message without a batch');
      const report = (await deps.redeliver({
        kind: 'delivery',
        reason: del.reason,
        target: del.target,
        eventId: del.eventId,
        attempts: d.attempts ?? 0,
        firstFailureAt: d.firstFailureAt ?? Date.now(),
        notifications: del.notifications,
      })) as { delivered?: string[]; gone?: string[]; dropped?: { reason: string }[] } | undefined;
      if (!report?.delivered) return undefined;
      const dropped = [...new Set((report.dropped ?? []).map((x) => x.reason))];
      return (
        `re-delivered ${report.delivered.length} to ${del.target}` +
        (report.gone?.length ? `, ${report.gone.length} subscriber(s) gone` : '') +
        (report.dropped?.length ? `, ${report.dropped.length} no longer owed (${dropped.join('; ')})` : '')
      );
    }
    case 'cap-publish': {
      if (!deps.republishCap) throw new RedriveError('the profile publishes no CAP feed');
      return deps.republishCap(d.eventIds[0]);
    }
    default:
      throw new RedriveError(`cannot redrive a message of kind ${d.kind}`);
  }
}

/** Sends a copy carrying the new failure reason, then deletes the original. Returns the copy's message id. */
async function requeueWithReason(
  sqs: SQSClient,
  url: string,
  m: Message,
  d: DecodedMessage,
  reason: string,
  remaining?: unknown[],
): Promise<string | undefined> {
  const attrs: Record<string, MessageAttributeValue> = {};
  for (const [k, v] of Object.entries(m.MessageAttributes ?? {})) {
    attrs[k] = { DataType: v.DataType, StringValue: v.StringValue, BinaryValue: v.BinaryValue };
  }
  attrs.QuakectlRedriveAttempts = { DataType: 'Number', StringValue: String((d.redriveAttempts ?? 0) + 1) };
  attrs.QuakectlRedriveError = { DataType: 'String', StringValue: reason.slice(0, 1000) };
  if (d.function) attrs.QuakectlFunction = { DataType: 'String', StringValue: d.function };
  let body = m.Body ?? '';
  if (d.kind === 'lambda-async') attrs.ErrorMessage = { DataType: 'String', StringValue: reason.slice(0, 1000) };
  if (d.kind === 'delivery') {
    const b = JSON.parse(body) as DeliveryBatch;
    // Only what is still undelivered goes back (a partial redrive delivered the rest).
    body = JSON.stringify({
      ...b,
      reason,
      attempts: (b.attempts ?? 0) + 1,
      notifications: remaining ?? b.notifications,
    });
  }
  try {
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body, MessageAttributes: attrs }));
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
    return sent.MessageId;
  } catch {
    // Could not record the new reason: the original stays (it becomes visible again after the hold).
    return undefined;
  }
}

async function moveTask(deps: RedriveDeps, ref: DlqRef, opts: RedriveOptions): Promise<RedriveResult> {
  const { depth, arn } = await queueDepth(deps.sqs, ref.url);
  const base: RedriveResult = {
    queue: ref.queue,
    mode: 'message-move-task',
    dryRun: Boolean(opts.dryRun),
    redriven: 0,
    failed: 0,
    skipped: 0,
    items: [],
  };
  if (opts.dryRun) return { ...base, moveTask: { status: 'NOT_STARTED', moved: 0, toMove: depth } };
  if (depth === 0) return { ...base, moveTask: { status: 'COMPLETED', moved: 0, toMove: 0 } };
  const p = await runMoveTask(deps.sqs, arn, { ratePerSec: opts.rate, onProgress: opts.onProgress });
  return { ...base, redriven: p.moved, moveTask: p };
}
