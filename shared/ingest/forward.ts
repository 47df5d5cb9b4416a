/**
 * Where ingestion sends events: the producer Lambda (Invoke, RequestResponse, payload `{quakes:[…]}` per the producer
 * contract), or, with `--direct`, the producer's own domain code in this process (shared/ingest/produce.ts, written
 * by the pipeline), which validates, associates, drops superseded versions and produces to quakes.events. Both answer
 * with the producer's `ProducerResult`; neither re-implements producing.
 */
import { InvokeCommand, type InvokeCommandOutput, type LambdaClient } from '@aws-sdk/client-lambda';
import type { Quake, Retraction } from '../quake/types.ts';
import { ForwardError } from './errors.ts';
import { type ProduceDeps, produceEvents } from './produce.ts';
import type { ProducerPayload, ProducerResult } from './types.ts';

/** Sends quakes (and the retractions a feed published) to the producer; resolves with its answer. */
export type Forwarder = (quakes: Quake[], retractions?: Retraction[]) => Promise<ProducerResult>;

/** Lambda errors that another try cannot fix: the function, its permissions or the payload are wrong. */
const PERMANENT = new Set([
  'ResourceNotFoundException',
  'AccessDeniedException',
  'InvalidParameterValueException',
  'RequestTooLargeException',
  'UnrecognizedClientException',
  'InvalidRequestContentException',
  'KMSAccessDeniedException',
]);

export interface LambdaForwarderOptions {
  lambda: LambdaClient;
  /** Function name or ARN, with an optional `:alias`. */
  functionName: string;
  qualifier?: string;
  drill?: boolean;
}

/**
 * Events per producer call: far below Lambda's 6 MB RequestResponse payload, Kafka's 1 MB request default and the
 * producer's own cap (MAX_EVENTS_PER_PAYLOAD, payload-cap.ts).
 */
export const FORWARD_BATCH = 200;

/**
 * Splits a large batch (the first poll of a day- or week-long feed) into producer calls of at most `size` events,
 * in order, and sums their results (rejection indexes stay positions in the whole batch). A failure part-way throws:
 * the caller offers the whole batch again and the producer drops the parts already produced as superseded.
 */
export function inBatches(forward: Forwarder, size = FORWARD_BATCH): Forwarder {
  return async (quakes, retractions) => {
    if (quakes.length <= size) return forward(quakes, retractions);
    const total: ProducerResult = { accepted: [], rejected: [], superseded: 0, associated: 0 };
    for (let i = 0; i < quakes.length; i += size) {
      // Retractions ride with the last batch: after every version the payload carries.
      const last = i + size >= quakes.length;
      const r = await forward(quakes.slice(i, i + size), last ? retractions : undefined);
      total.accepted.push(...r.accepted);
      total.rejected.push(...r.rejected.map((x) => ({ ...x, index: x.index + i })));
      total.superseded += r.superseded;
      total.associated += r.associated;
      if (r.retracted) total.retracted = [...(total.retracted ?? []), ...r.retracted];
    }
    return total;
  };
}

export function lambdaForwarder(opts: LambdaForwarderOptions): Forwarder {
  return inBatches((quakes, retractions) =>
    invokeProducer(opts, {
      quakes,
      ...(retractions?.length ? { retractions } : {}),
      ...(opts.drill ? { drill: true } : {}),
    }),
  );
}

/**
 * The one way quakectl invokes the producer Lambda (ingest, replay, simulate): RequestResponse, so its answer says
 * which ids it accepted. Throws ForwardError; `cause.name` keeps the Lambda error (ResourceNotFoundException…), and a
 * failed invocation (FunctionError) is retriable: the producer fails only when producing to Kafka failed.
 */
export async function invokeProducer(
  opts: Omit<LambdaForwarderOptions, 'drill'>,
  payload: ProducerPayload,
): Promise<ProducerResult> {
  let out: InvokeCommandOutput;
  try {
    out = await opts.lambda.send(
      new InvokeCommand({
        FunctionName: opts.functionName,
        Qualifier: opts.qualifier,
        InvocationType: 'RequestResponse',
        Payload: new TextEncoder().encode(JSON.stringify(payload)),
      }),
    );
  } catch (err) {
    const name = (err as Error).name;
    throw new ForwardError(`invoke ${opts.functionName}: ${name}: ${(err as Error).message}`, {
      cause: err,
      retriable: !PERMANENT.has(name),
    });
  }
  const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
  if (out.FunctionError) {
    throw new ForwardError(`producer ${opts.functionName} failed (${out.FunctionError}): ${errorText(text)}`, {
      retriable: true,
    });
  }
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch (err) {
    throw new ForwardError(`producer ${opts.functionName} answered ${text.slice(0, 200)}`, {
      cause: err,
      retriable: false,
    });
  }
  // The producer refused the whole payload (payload-cap.ts): sending it again cannot help.
  const refused = (answer as { refused?: unknown } | null)?.refused;
  if (typeof refused === 'string')
    throw new ForwardError(`producer ${opts.functionName}: ${refused}`, { retriable: false });
  try {
    return asResult(answer);
  } catch (err) {
    throw new ForwardError(`producer ${opts.functionName} answered ${text.slice(0, 200)}`, {
      cause: err,
      retriable: false,
    });
  }
}

/** `--direct`: the producer's domain in this process (a connected producer, the events table, an associator). */
export function directForwarder(deps: ProduceDeps, drill = false): Forwarder {
  return inBatches(async (quakes, retractions) => {
    try {
      return await produceEvents(
        { quakes, ...(retractions?.length ? { retractions } : {}), ...(drill ? { drill: true } : {}) },
        deps,
      );
    } catch (err) {
      throw new ForwardError(`produce to ${deps.topic}: ${(err as Error).message}`, { cause: err, retriable: true });
    }
  });
}

function asResult(v: unknown): ProducerResult {
  const r = v as Partial<ProducerResult> | null;
  if (!r || !Array.isArray(r.accepted) || !Array.isArray(r.rejected)) {
    throw new Error('not a producer result');
  }
  return {
    accepted: r.accepted,
    rejected: r.rejected,
    superseded: r.superseded ?? 0,
    associated: r.associated ?? 0,
    ...(Array.isArray(r.retracted) ? { retracted: r.retracted } : {}),
  };
}

function errorText(payload: string): string {
  try {
    const e = JSON.parse(payload) as { errorType?: string; errorMessage?: string };
    return `${e.errorType ?? 'Error'}: ${e.errorMessage ?? payload}`;
  } catch {
    return payload.slice(0, 200);
  }
}
