import type { Message } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { resourceNames } from '../../shared/infra/names.ts';
import { decodeMessage, eventIdsOfPayload, parseTopicPartition } from '../../shared/ops/dlq/decode.ts';
import { invokeTarget } from '../../shared/ops/dlq/redrive.ts';
import { selfManagedKafkaEvent } from '../../shared/ops/kafka/event.ts';

const sent = { SentTimestamp: '1764150000000', ApproximateReceiveCount: '2' };

describe('DLQ decoding', () => {
  it('Lambda async DLQ: body is the event, attributes carry the error', () => {
    const m: Message = {
      MessageId: 'm1',
      Body: JSON.stringify({ eventId: 'us7000abcd', chain: 1, hop: 3 }),
      Attributes: sent,
      MessageAttributes: {
        RequestID: { DataType: 'String', StringValue: 'req-1' },
        ErrorCode: { DataType: 'Number', StringValue: '200' },
        ErrorMessage: { DataType: 'String', StringValue: 'boom' },
      },
    };
    expect(decodeMessage(m, 'quakectl-segment-worker')).toMatchObject({
      kind: 'lambda-async',
      function: 'quakectl-segment-worker',
      requestId: 'req-1',
      errorCode: '200',
      errorMessage: 'boom',
      attempts: 2,
      sentAt: 1764150000000,
      eventIds: ['us7000abcd'],
      payload: { eventId: 'us7000abcd', chain: 1, hop: 3 },
    });
  });

  it('Kafka ESM failure record: offsets per topic-partition', () => {
    const body = {
      requestContext: {
        requestId: 'r',
        functionArn: 'arn:aws:lambda:eu-central-1:123456789012:function:quakectl-consumer',
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 3,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: '2026-11-26T11:00:00.000Z',
      KafkaBatchInfo: {
        batchSize: 2,
        eventSourceArn: 'arn:aws:lambda:eu-central-1:123456789012:event-source-mapping:uuid',
        bootstrapServers: 'b1:9092',
        payloadSize: 900,
        recordsInfo: {
          'quakes.events-3': {
            firstRecordOffset: '15',
            lastRecordOffset: '16',
            firstRecordTimestamp: '2026-11-26T10:59:59.000Z',
            lastRecordTimestamp: '2026-11-26T10:59:59.500Z',
          },
        },
      },
    };
    const d = decodeMessage({ MessageId: 'k', Body: JSON.stringify(body), Attributes: sent });
    expect(d).toMatchObject({
      kind: 'kafka-batch',
      errorCode: 'RetryAttemptsExhausted',
      errorMessage: 'Unhandled',
      attempts: 3,
      firstFailureAt: Date.parse('2026-11-26T11:00:00.000Z'),
      kafka: { ranges: [{ topic: 'quakes.events', partition: 3, firstOffset: '15', lastOffset: '16' }], batchSize: 2 },
    });
    expect(invokeTarget(resourceNames('x'), d.function ?? '')).toBe('quakectl-consumer');
  });

  it('delivery batch', () => {
    const body = {
      kind: 'delivery',
      reason: 'HTTP 503',
      target: 'http://127.0.0.1:9/hook',
      eventId: 'ev1',
      attempts: 4,
      firstFailureAt: 1764150000123,
      notifications: [{ id: 'ev1:s1:take-action', subscriberId: 's1' }],
    };
    expect(decodeMessage({ MessageId: 'd', Body: JSON.stringify(body) })).toMatchObject({
      kind: 'delivery',
      errorMessage: 'HTTP 503',
      attempts: 4,
      firstFailureAt: 1764150000123,
      eventIds: ['ev1'],
      delivery: { target: 'http://127.0.0.1:9/hook', notifications: [{ id: 'ev1:s1:take-action' }] },
    });
  });

  it('destination record and a re-queued failure show the newer reason', () => {
    const body = {
      version: '1.0',
      timestamp: '2026-11-26T11:00:00.000Z',
      requestContext: {
        requestId: 'r',
        functionArn: 'arn:aws:lambda:r:1:function:quakectl-producer:$LATEST',
        condition: 'RetriesExhausted',
        approximateInvokeCount: 3,
      },
      requestPayload: { quakes: [{ id: 'q1' }], documents: ['{"id":"q2"}', 'not json'] },
      responseContext: { statusCode: 200, functionError: 'Unhandled' },
      responsePayload: { errorType: 'Error', errorMessage: 'kafka down' },
    };
    const d = decodeMessage({
      MessageId: 'x',
      Body: JSON.stringify(body),
      MessageAttributes: { QuakectlRedriveError: { DataType: 'String', StringValue: 'still down' } },
    });
    expect(d).toMatchObject({ kind: 'lambda-destination', eventIds: ['q1', 'q2'], errorMessage: 'still down' });
    expect(invokeTarget(resourceNames('x'), d.function ?? '')).toBe('quakectl-producer:$LATEST');
  });

  it('consumer poison record: one offset, the event id from the key', () => {
    const body = {
      kind: 'consumer',
      reason: 'value is not JSON',
      topic: 'quakes.events',
      partition: 4,
      offset: '77',
      timestamp: '1764150000000',
      key: Buffer.from('us7000poison').toString('base64'),
      value: Buffer.from('{{').toString('base64'),
    };
    expect(
      decodeMessage({ MessageId: 'p', Body: JSON.stringify(body), Attributes: sent }, 'quakectl-consumer'),
    ).toMatchObject({
      kind: 'kafka-record',
      function: 'quakectl-consumer',
      errorMessage: 'value is not JSON',
      eventIds: ['us7000poison'],
      kafka: { ranges: [{ topic: 'quakes.events', partition: 4, firstOffset: '77', lastOffset: '77' }] },
    });
  });

  it('a parked CAP publication: the event it concerns and why it failed', () => {
    const body = {
      kind: 'cap',
      reason: 'CAP publish failed: AccessDenied',
      eventId: 'us7000abcd',
      revision: 2,
      failedAt: 5,
    };
    expect(decodeMessage({ MessageId: 'm9', Body: JSON.stringify(body), Attributes: sent })).toMatchObject({
      kind: 'cap-publish',
      errorMessage: 'CAP publish failed: AccessDenied',
      firstFailureAt: 5,
      eventIds: ['us7000abcd'],
    });
  });

  it('unknown shapes and topic names with dashes', () => {
    expect(decodeMessage({ MessageId: 'u', Body: 'hello' }).kind).toBe('unknown');
    expect(parseTopicPartition('my-topic-name-12')).toEqual({ topic: 'my-topic-name', partition: 12 });
    expect(eventIdsOfPayload(null)).toEqual([]);
  });

  it('rebuilds the SelfManagedKafka event shape', () => {
    const ev = selfManagedKafkaEvent(
      ['b1:9092', 'b2:9092'],
      [
        {
          topic: 'quakes.events',
          partition: 3,
          offset: '15',
          timestamp: '1764150000000',
          key: Buffer.from('ev1'),
          value: Buffer.from('{"a":1}'),
          headers: { drill: Buffer.from('true') },
        },
      ],
    );
    expect(ev).toEqual({
      eventSource: 'SelfManagedKafka',
      bootstrapServers: 'b1:9092,b2:9092',
      records: {
        'quakes.events-3': [
          {
            topic: 'quakes.events',
            partition: 3,
            offset: 15,
            timestamp: 1764150000000,
            timestampType: 'CREATE_TIME',
            key: Buffer.from('ev1').toString('base64'),
            value: Buffer.from('{"a":1}').toString('base64'),
            headers: [{ drill: [116, 114, 117, 101] }],
          },
        ],
      },
    });
  });
});
