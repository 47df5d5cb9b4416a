import { describe, expect, it } from 'vitest';
import { originOutOfRange } from '../../shared/fanout/consume.ts';
import { decodeRecord, dlqMessage, type KafkaRecord, recordsByPartition } from '../../shared/fanout/index.ts';
import { eventMessage, retractionMessage } from '../../shared/ingest/index.ts';
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

describe('retraction records and origin ranges', () => {
  it('round-trips a retraction message; a malformed one is poison with a reason', () => {
    const m = retractionMessage(
      'us7000r1',
      { id: 'us7000r1', source: 'us', reason: 'usgs status "deleted"', updatedAt: 5, drill: true },
      99,
    );
    const d = decodeRecord(record(m));
    expect(d).toMatchObject({
      ok: true,
      kind: 'retraction',
      eventId: 'us7000r1',
      drill: true,
      source: 'us',
      acceptedAt: 99,
    });
    const bad = decodeRecord(
      record({ key: 'x', value: JSON.stringify({ schema: 1, kind: 'retraction' }), headers: {} }),
    );
    expect(bad).toMatchObject({ ok: false, reason: 'eventId: missing' });
    const other = decodeRecord(
      record({ key: 'x', value: JSON.stringify({ schema: 1, kind: 'erratum' }), headers: {} }),
    );
    expect(other).toMatchObject({ ok: false, reason: 'kind: "erratum" is not "version" or "retraction"' });
  });

  it('originOutOfRange: within [now − max age, now + 5 min] passes; otherwise the reason says how far', () => {
    const now = Date.UTC(2026, 10, 30, 9);
    expect(originOutOfRange(now - 3599_000, now, 3600)).toBeUndefined();
    expect(originOutOfRange(now + 299_000, now, 3600)).toBeUndefined();
    expect(originOutOfRange(now - 7200_000, now, 3600)).toBe(
      'origin 2.0 h old (older than fanout.maxEventAgeS 3600 s)',
    );
    expect(originOutOfRange(now + 3600_000, now, 3600)).toBe('origin 3600 s in the future (more than 300 s ahead)');
    expect(originOutOfRange(Date.UTC(1970, 0, 2), now, 3600)).toMatch(/^origin 57 y old/);
  });
});
