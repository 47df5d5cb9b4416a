/**
 * A revision-stream drill (`quakectl drill --scenario kahramanmaras-2023-stream`): the steps of a `StreamScenario`
 * are sent through the producer at their times — several agencies' solutions and revisions of one quake — then the one
 * event is followed until its last version was handled and its run complete, and the receiver's notifications are
 * checked per subscriber and level:
 *
 *   one event        every accepted version has one canonical id, and every notification carries it
 *   nobody skipped   every subscriber routed to the receiver whom the last planned version alerts holds a notification
 *                    at that level or higher
 *   once per level   no (subscriber, level) under two ids; a repeat of one id (the batch in flight when a run was
 *                    superseded, which receivers de-duplicate) is counted as `repeats`
 *   no stray level   every level received is one that some planned version gives that subscriber
 */
import { getEvent } from '../events/index.ts';
import type { EventRecord } from '../events/types.ts';
import { subscriberLevel } from '../fanout/ledger.ts';
import type { ProducerResult } from '../ingest/index.ts';
import type { Quake } from '../quake/types.ts';
import type { Subscriber } from '../segments/types.ts';
import { levelRises } from '../seismo/alert.ts';
import { intensityModelFor } from '../seismo/intensity.ts';
import { percentile, sArrivalAt } from './report.ts';
import { censusRadiusKm, type RunOptions } from './run.ts';
import { type StreamScenario, streamStepQuake } from './scenarios.ts';
import { routedTo, SimulateError, sendDirect, sendViaProducer, subscribersNear } from './simulate.ts';

export interface StreamReceiver {
  url?: string;
  receipts(): {
    notification: { id: string; eventId: string; subscriberId: string; level: string; kind?: string };
    receivedAt: number;
  }[];
  duplicates(): number;
}

export interface StreamStepResult {
  atS: number;
  source: string;
  id: string;
  magnitude: number;
  /** Canonical ids the producer published this step under (empty: superseded). */
  accepted: string[];
  superseded: number;
  associated: number;
}

export interface StreamReport {
  scenario: string;
  /** Distinct canonical ids accepted, and distinct event ids at the receiver. */
  eventIds: string[];
  oneEvent: boolean;
  steps: StreamStepResult[];
  /** Plan revisions the pipeline ran (one per version that could raise a level, or arrived mid-fan-out). */
  revisions: number;
  runs: { revision: number; magnitude: number; source: string }[];
  state: string;
  complete: boolean;
  /** Subscribers routed to the receiver that the last planned version alerts. */
  eligible: number;
  /** Distinct notifications at the receiver, per level. */
  delivered: number;
  byLevel: Record<string, number>;
  /** Subscribers with at least one notification. */
  alerted: number;
  /** Eligible subscribers without a notification at (or above) the last version's level. */
  missing: number;
  /** (subscriber, level) pairs received under more than one id. */
  levelTwice: number;
  /** Levels received that no planned version gives that subscriber. */
  strayLevels: number;
  /** The same notification id received again (receivers de-duplicate it). */
  repeats: number;
  /** From the first step's send. */
  firstDeliveryMs: number | null;
  p50DeliveryMs: number | null;
  lastDeliveryMs: number | null;
  /** Eligible subscribers whose first notification arrived before the S wave of the final solution. */
  notifiedBeforeShakingPct: number | null;
  passed: boolean;
}

export interface StreamRunOptions extends Omit<RunOptions, 'payload' | 'receiver'> {
  scenario: StreamScenario;
  detectionDelayS?: number;
  receiver?: StreamReceiver;
  onStep?: (step: StreamStepResult) => void;
}

/** Sends the stream, follows its event, and reports. Throws SimulateError when the producer accepts nothing. */
export async function runStream(opts: StreamRunOptions): Promise<StreamReport> {
  const { clients, names, scenario } = opts;
  const send = (payload: { quakes: Quake[]; drill: true }) =>
    opts.direct ? sendDirect(clients, names, payload) : sendViaProducer(clients, names, payload);
  const startedAt = Date.now();
  const runTag = startedAt.toString(36);
  const duplicatesBefore = opts.receiver?.duplicates() ?? 0;
  const steps: StreamStepResult[] = [];
  for (const step of scenario.steps) {
    const wait = startedAt + step.atS * 1000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const q = streamStepQuake(step, scenario, {
      startedAt,
      sentAt: Date.now(),
      detectionDelayS: opts.detectionDelayS,
      runTag,
    });
    const r: ProducerResult = await send({ quakes: [q], drill: true });
    const result = {
      atS: step.atS,
      source: step.source,
      id: q.id,
      magnitude: q.magnitude,
      accepted: r.accepted,
      superseded: r.superseded,
      associated: r.associated,
    };
    steps.push(result);
    opts.onStep?.(result);
  }
  const accepted = [...new Set(steps.flatMap((s) => s.accepted))];
  if (accepted.length === 0) throw new SimulateError('the producer accepted no version of the stream');
  const eventId = accepted[0];
  const record = await followStream(opts, eventId);
  const runs = (record?.runs ?? []).filter((r) => r.mode === 'alert');
  const final = record?.plannedQuake;
  const report: StreamReport = {
    scenario: scenario.name,
    eventIds: accepted,
    oneEvent: accepted.length === 1,
    steps,
    revisions: record?.revision ?? 0,
    runs: runs.map((r) => ({ revision: r.revision, magnitude: r.quake.magnitude, source: r.quake.source })),
    state: record?.state ?? 'not-planned',
    complete: record?.state === 'complete',
    eligible: 0,
    delivered: 0,
    byLevel: {},
    alerted: 0,
    missing: 0,
    levelTwice: 0,
    strayLevels: 0,
    repeats: (opts.receiver?.duplicates() ?? duplicatesBefore) - duplicatesBefore,
    firstDeliveryMs: null,
    p50DeliveryMs: null,
    lastDeliveryMs: null,
    notifiedBeforeShakingPct: null,
    passed: false,
  };
  if (!final || !opts.receiver) {
    report.passed = report.oneEvent && report.complete;
    return report;
  }
  const ids = new Set(steps.map((s) => s.id).concat(accepted));
  const receipts = opts.receiver.receipts().filter((r) => ids.has(r.notification.eventId));
  for (const r of receipts) if (!accepted.includes(r.notification.eventId)) report.oneEvent = false;
  const models = runs.map((r) => intensityModelFor(r.quake));
  const finalModel = intensityModelFor(final);
  const subs = await subscribersNear(opts.store, final, censusRadiusKm(final));
  const byId = new Map<string, Subscriber>(subs.map((s) => [s.id, s]));
  const got = new Map<string, { levels: Map<string, string>; first: number }>();
  for (const r of receipts) {
    const n = r.notification;
    if (n.kind === 'cancel') continue;
    const g = got.get(n.subscriberId) ?? { levels: new Map<string, string>(), first: r.receivedAt };
    const other = g.levels.get(n.level);
    if (other !== undefined && other !== n.id) report.levelTwice++;
    g.levels.set(n.level, n.id);
    g.first = Math.min(g.first, r.receivedAt);
    got.set(n.subscriberId, g);
    report.byLevel[n.level] = (report.byLevel[n.level] ?? 0) + 1;
    report.delivered++;
    const s = byId.get(n.subscriberId);
    if (s && !models.some((m) => subscriberLevel(m, s).level === n.level)) report.strayLevels++;
  }
  report.alerted = got.size;
  let before = 0;
  for (const s of subs) {
    if (!routedTo(s, opts.receiver.url)) continue;
    const { level } = subscriberLevel(finalModel, s);
    if (level === 'none') continue;
    report.eligible++;
    const g = got.get(s.id);
    const top = g
      ? [...g.levels.keys()].reduce((a, b) => (levelRises(a as never, b as never) ? b : a), 'none')
      : 'none';
    if (!g || levelRises(top as never, level)) report.missing++;
    else if (g.first < sArrivalAt(final, s)) before++;
  }
  const latencies = receipts.map((r) => r.receivedAt - startedAt).sort((a, b) => a - b);
  report.firstDeliveryMs = latencies[0] ?? null;
  report.p50DeliveryMs = percentile(latencies, 50);
  report.lastDeliveryMs = latencies.at(-1) ?? null;
  report.notifiedBeforeShakingPct = report.eligible ? Math.round((1000 * before) / report.eligible) / 10 : null;
  report.passed =
    report.oneEvent && report.complete && report.missing === 0 && report.levelTwice === 0 && report.strayLevels === 0;
  return report;
}

/** Waits until the event's last accepted version was handled and its run is complete (or the timeout passes). */
async function followStream(opts: StreamRunOptions, eventId: string): Promise<EventRecord | undefined> {
  const store = { ddb: opts.clients.ddb, table: opts.names.table('events') };
  const deadline = Date.now() + (opts.timeoutMs ?? 300_000);
  let record: EventRecord | undefined;
  while (!opts.signal?.aborted) {
    record = await getEvent(store, eventId);
    const settled = record?.handledUpdatedAt !== undefined && record.handledUpdatedAt >= record.updatedAt;
    if (settled && (record?.state === 'complete' || record?.state === 'skipped')) break;
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return record;
}
