/**
 * The producer's priming steps (shared/infra/prime.ts): the requests and the code a payload's first event runs before
 * it is on Kafka (validation, the identity lookups, the conditional writes of acceptance), on a synthetic drill quake
 * and on keys that do not exist, so nothing is written. What each step stands for is named after the call it warms.
 * The producer's `msFromStart` (`produced` in its log) showed the identity step at 51–84 ms fresh against 23–40 ms warm
 * with only one event read and one refused update primed (docs/fanout-benchmark.md, "The cold path, step by step").
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { lookupCanonical } from '../events/identity.ts';
import { claimNext, type EventStore, getEvent } from '../events/store.ts';
import { PRIME_EVENT_ID, PRIME_REPEAT, PRIME_REVISION, type PrimeStep, primeRepeated } from '../infra/prime.ts';
import { isConditionFailed } from '../locks/errors.ts';
import type { Quake } from '../quake/types.ts';
import { collectQuakes } from './produce.ts';

/** A drill quake as a feed would carry it: validated by `collectQuakes`, never produced. */
function primeQuake(now: number): Quake {
  return {
    id: PRIME_EVENT_ID,
    sourceIds: [PRIME_EVENT_ID],
    source: 'quakectl',
    magType: 'mw',
    place: 'priming',
    status: 'automatic',
    kind: 'earthquake',
    drill: true,
    originTime: now - 5000,
    updatedAt: now,
    lat: 45.77,
    lon: 26.76,
    depthKm: 94,
    magnitude: 6,
  };
}

/**
 * A PutItem that its condition refuses whatever the table holds (the condition asks that the key both exists and does
 * not): the request, response and ConditionalCheckFailed path of the identity protocol's bucket and alias writes,
 * writing nothing even where an item with the prime id exists. Resolves when refused as expected; anything else is the
 * step's error.
 */
async function refusedPut(events: EventStore): Promise<void> {
  try {
    await events.ddb.send(
      new PutCommand({
        TableName: events.table,
        Item: { eventId: PRIME_EVENT_ID, kind: 'prime' },
        ConditionExpression: 'attribute_exists(eventId) AND attribute_not_exists(eventId)',
      }),
    );
  } catch (err) {
    if (isConditionFailed(err)) return;
    throw err;
  }
  throw new Error(`priming's refused PutItem of ${PRIME_EVENT_ID} was accepted`);
}

export interface ProducerPrimeDeps {
  events: EventStore;
  /** Connects the Kafka producer (the function's `connected()`): the connection the first produce uses. */
  connectKafka(): Promise<unknown>;
  now?: () => number;
}

/**
 * Producer: Kafka connection, payload validation, the identity lookup (BatchGetItem of aliases), a refused PutItem and
 * a refused UpdateItem (acceptance's and the identity protocol's conditional writes), an event read.
 */
export function producerPrimeSteps(deps: ProducerPrimeDeps): PrimeStep[] {
  const now = deps.now ?? Date.now;
  return [
    { name: 'kafka.connect', run: () => deps.connectKafka() },
    {
      name: 'payload.collect',
      run: async (ctx) => {
        for (let i = 0; i < PRIME_REPEAT; i++) {
          const t = now();
          const { quakes } = collectQuakes({ quakes: [primeQuake(t)] }, t);
          if (quakes.length !== 1) throw new Error('the priming quake did not validate');
          await ctx.slice();
        }
      },
    },
    {
      name: 'identity.lookup',
      run: (ctx) => primeRepeated(() => lookupCanonical(deps.events, [PRIME_EVENT_ID], true), ctx),
    },
    { name: 'events.conditional-put', run: (ctx) => primeRepeated(() => refusedPut(deps.events), ctx) },
    // Fails its condition (no event has revision 0): the conditional UpdateItem path of accepting a version.
    {
      name: 'events.conditional-update',
      run: (ctx) => primeRepeated(() => claimNext(deps.events, PRIME_EVENT_ID, PRIME_REVISION), ctx),
    },
    { name: 'events.get', run: (ctx) => primeRepeated(() => getEvent(deps.events, PRIME_EVENT_ID), ctx) },
  ];
}
