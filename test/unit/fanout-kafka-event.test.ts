import { describe, expect, it } from 'vitest';
import { decodeRecord, dlqMessage, type KafkaRecord, recordsByPartition } from '../../shared/fanout/index.ts';
import { eventMessage } from '../../shared/ingest/index.ts';
import { drillQuake } from '../integration/pipeline-fixtures.ts';

/** A record as the self-managed Kafka event source mapping delivers it (base64 key/value, byte-array headers). */
function record(msg: { key: string; value: string; headers: Record<string, string> }, offset = 0): KafkaRecord {
  return {
    topic: 'quakes.events',
    partition: 2,
    offset,
    timestamp: 1_700_000_000_000,
    timestampType: 'CREATE_TIME',
    key: Buffer.from(msg.key).toString('base64'),
    value: Buffer.from(msg.value).toString('base64'),
    headers: Object.entries(msg.headers).map(([k, v]) => ({ [k]: [...Buffer.from(v)] })),
  };
}

describe('decodeRecord', () => {
  it('round-trips what the producer writes', () => {
    const q = drillQuake('dec-1');
    const d = decodeRecord(record(eventMessage(q, 123)));
    expect(d.ok).toBe(true);
    if (!d.ok || d.kind !== 'version') throw new Error('expected a version');
    expect(d.quake).toEqual(q);
    expect(d.acceptedAt).toBe(123);
    expect(d.headers).toEqual({ source: 'drill', schema: '1', drill: 'true' });
  });

  it('turns every kind of poison into a reason, never a throw', () => {
    const q = drillQuake('dec-2');
    const good = eventMessage(q, 1);
    const cases: [KafkaRecord, RegExp][] = [
      [{ ...record(good), value: null }, /value: missing/],
      [record({ ...good, value: '{not json' }), /not JSON/],
      [record({ ...good, value: '42' }), /not an object/],
      [record({ ...good, value: JSON.stringify({ schema: 2, quake: q }) }), /schema: 2/],
      [record({ ...good, value: JSON.stringify({ schema: 1, quake: { ...q, lat: 123 } }) }), /lat/],
      [record({ ...good, value: JSON.stringify({ schema: 1, quake: { ...q, drill: false } }) }), /drill/],
    ];
    for (const [r, reason] of cases) {
      const d = decodeRecord(r);
      expect(d.ok).toBe(false);
      if (!d.ok) expect(d.reason).toMatch(reason);
    }
  });

  it('DLQ messages carry topic, partition, offset and reason', () => {
    const r = record({ key: 'k', value: 'x', headers: {} }, 17);
    expect(dlqMessage(r, 'bad')).toMatchObject({
      kind: 'consumer',
      topic: 'quakes.events',
      partition: 2,
      offset: 17,
      reason: 'bad',
    });
  });

  it('groups records by partition in offset order', () => {
    const a = record(eventMessage(drillQuake('a'), 1), 5);
    const b = record(eventMessage(drillQuake('b'), 1), 3);
    const c = { ...record(eventMessage(drillQuake('c'), 1), 1), partition: 0 };
    const parts = recordsByPartition({
      eventSource: 'SelfManagedKafka',
      records: { 'quakes.events-2': [a, b], 'quakes.events-0': [c] },
    });
    expect(parts.map((p) => p.map((r) => r.offset))).toEqual([[3, 5], [1]]);
  });
});
