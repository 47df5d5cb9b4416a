export { collectQuakes, eventMessage, type ProduceDeps, produceEvents, retractionMessage } from './produce.ts';
export { createEventProducer, eventsTopic } from './producer.ts';
export { EVENT_SCHEMA, type EventMessage, type ProducerPayload, type ProducerResult } from './types.ts';
