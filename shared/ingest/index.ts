export { collectQuakes, eventMessage, type ProduceDeps, produceEvents } from './produce.ts';
export { createEventProducer, eventsTopic } from './producer.ts';
export { EVENT_SCHEMA, type EventMessage, type ProducerPayload, type ProducerResult } from './types.ts';
