export {
  collectQuakes,
  eventMessage,
  type ProduceDeps,
  produceEvents,
  republishStranded,
  retractionMessage,
  type SweepResult,
} from './produce.ts';
export { createEventProducer, eventsTopic } from './producer.ts';
export { EVENT_SCHEMA, type EventMessage, type ProducerPayload, type ProducerResult } from './types.ts';
