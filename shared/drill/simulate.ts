/**
 * `quakectl simulate`: send a (drill) event through the producer Lambda — or straight to Kafka with the producer's
 * own code — then follow its record in the events table to completion and gather what the report needs.
 */
import { type EventRecord, getEvent } from '../events/index.ts';
import { subscriberLevel } from '../fanout/ledger.ts';
import type { Clients } from '../infra/clients.ts';
import { QuakectlError, ServiceUnavailableError } from '../infra/errors.ts';
import type { ResourceNames } from '../infra/names.ts';
import { ForwardError } from '../ingest/errors.ts';
import { FORWARD_BATCH, invokeProducer } from '../ingest/forward.ts';
import {
  createEventProducer,
  eventsTopic,
  type ProducerPayload,
  type ProducerResult,
  produceEvents,
} from '../ingest/index.ts';
import { sendInParts } from '../ingest/payload-cap.ts';
import type { Quake } from '../quake/types.ts';
import { cellMinDistanceKm, type SubscriberStore } from '../segments/index.ts';
import type { Subscriber } from '../segments/types.ts';
import { epicentralKm, intensityModelFor } from '../seismo/index.ts';
import type { EligibleSite } from './report.ts';

/** The producer refused every event, or the invocation failed. */
export class SimulateError extends QuakectlError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SimulateError';
  }
}

/**
 * Invokes the producer's alias `live` synchronously (shared/ingest's `invokeProducer`, the one way to invoke it): its
 * answer says which ids it accepted.
 */
export async function sendViaProducer(
  clients: Clients,
  names: ResourceNames,
  payload: ProducerPayload,
): Promise<ProducerResult> {
  const FunctionName = names.function('producer');
  try {
    // A replayed feed may hold thousands of events: stay under the producer's cap (shared/ingest/payload-cap.ts).
    return await sendInParts(
      payload,
      (part) => invokeProducer({ lambda: clients.lambda, functionName: FunctionName, qualifier: names.alias }, part),
      { size: FORWARD_BATCH },
    );
  } catch (err) {
    if (!(err instanceof ForwardError)) throw err;
    const cause = err.cause as Error | undefined;
    if (cause?.name === 'ResourceNotFoundException') {
      throw new SimulateError(`${FunctionName}:${names.alias} is not deployed: run quakectl deploy first`, {
        cause: err,
      });
    }
    if (err.retriable && cause) {
      throw new ServiceUnavailableError('lambda', `cannot invoke ${FunctionName}: ${cause.message}`, { cause: err });
    }
    throw new SimulateError(err.message, { cause: err });
  }
}

/** `--direct`: the producer's domain code run here, with this machine's Kafka and DynamoDB clients. */
export async function sendDirect(
  clients: Clients,
  names: ResourceNames,
  payload: ProducerPayload,
): Promise<ProducerResult> {
  const producer = createEventProducer(clients.kafka);
  await producer.connect();
  try {
    return await produceEvents(payload, {
      events: { ddb: clients.ddb, table: names.table('events') },
      producer,
      topic: eventsTopic(names.eventsTopic),
      canonical: new Map(),
    });
  } finally {
    await producer.disconnect().catch(() => {});
  }
}

export interface FollowOptions {
  timeoutMs?: number;
  pollMs?: number;
  onProgress?: (record: EventRecord | undefined, elapsedMs: number) => void;
  /** Resolves early when aborted (Ctrl-C): the record as last seen is returned. */
  signal?: AbortSignal;
}

export function isFinished(r: EventRecord | undefined): boolean {
  return r?.state === 'complete' || r?.state === 'skipped';
}

/** Polls the event's record until it is complete (or skipped), or the timeout passes. */
export async function followEvent(
  clients: Clients,
  names: ResourceNames,
  eventId: string,
  opts: FollowOptions = {},
): Promise<EventRecord | undefined> {
  const store = { ddb: clients.ddb, table: names.table('events') };
  const start = Date.now();
  const deadline = start + (opts.timeoutMs ?? 300_000);
  let record: EventRecord | undefined;
  while (!opts.signal?.aborted) {
    record = await getEvent(store, eventId);
    opts.onProgress?.(record, Date.now() - start);
    if (isFinished(record) || Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 200));
  }
  return record;
}

export interface FootprintCensus {
  /** Subscribers within the footprint radius (epicentral distance). */
  inFootprint: number;
  /** Subscribers whose predicted MMI reaches their own threshold: who must be notified. */
  eligible: EligibleSite[];
}

/**
 * Recomputes, independently of the pipeline's counters, who must be notified: every subscriber in the cells that
 * reach into the footprint, with the same intensity model and rule (MMI at or above the subscriber's minMmi).
 */
export async function footprintCensus(
  store: SubscriberStore,
  quake: Quake,
  radiusKm: number,
  /** The local receiver's base URL: subscribers whose webhook is elsewhere are marked `viaSink: false`. */
  sinkUrl?: string,
  /** fanout.alertProbability of the profile (default: the policy's default). */
  alertProbability?: number,
): Promise<FootprintCensus> {
  const model = intensityModelFor(quake);
  let inFootprint = 0;
  const eligible: EligibleSite[] = [];
  for (const s of await subscribersNear(store, quake, radiusKm)) {
    if (epicentralKm(quake, s) <= radiusKm) inFootprint++;
    // The worker's rule (the alert policy), recomputed here from the store, independently of the plan.
    if (subscriberLevel(model, s, { probability: alertProbability }).level !== 'none') {
      const viaSink = routedTo(s, sinkUrl);
      eligible.push({ id: s.id, lat: s.lat, lon: s.lon, ...(viaSink ? {} : { viaSink: false }) });
    }
  }
  return { inFootprint, eligible };
}

/** True when the subscriber's webhook is the receiver at `sinkUrl` (or no receiver is named). */
export function routedTo(s: Subscriber, sinkUrl: string | undefined): boolean {
  return (
    sinkUrl === undefined ||
    (s.channel.type === 'webhook' && (s.channel.target === sinkUrl || s.channel.target.startsWith(`${sinkUrl}/`)))
  );
}

/** Every subscriber in the cells that reach within `radiusKm` of the epicentre, read from the store (8 in parallel). */
export async function subscribersNear(store: SubscriberStore, quake: Quake, radiusKm: number): Promise<Subscriber[]> {
  const segments = (await store.allSegments()).filter(
    (s) => s.count > 0 && cellMinDistanceKm(s.cell, quake.lat, quake.lon) <= radiusKm,
  );
  const out: Subscriber[] = [];
  const queue = [...segments];
  const worker = async () => {
    for (let seg = queue.shift(); seg; seg = queue.shift()) out.push(...(await store.readSegment(seg.key)));
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return out;
}
