import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeGroupLag, partitionLag } from '../../shared/ops/kafka/lag.ts';
import { decodeValue } from '../../shared/ops/kafka/tail.ts';

describe('kafka lag', () => {
  it('is high minus committed, and high minus low when nothing is committed', () => {
    const lag = computeGroupLag(
      'g',
      't',
      [
        { partition: 1, low: '0', high: '10' },
        { partition: 0, low: '5', high: '7' },
        { partition: 2, low: '3', high: '3' },
      ],
      new Map([
        [1, '4'],
        [0, '-1'],
      ]),
    );
    expect(lag).toEqual({
      group: 'g',
      topic: 't',
      total: 8,
      partitions: [
        { partition: 0, committed: null, high: '7', lag: 2 },
        { partition: 1, committed: '4', high: '10', lag: 6 },
        { partition: 2, committed: null, high: '3', lag: 0 },
      ],
    });
  });

  it('stays exact beyond 2^53 offsets (strings, BigInt)', () => {
    // 2^60 + 7 − (2^60 + 2): Number arithmetic would give 8 or 0 here.
    expect(partitionLag('1152921504606846978', '0', '1152921504606846983')).toBe(5n);
  });

  it('is never negative and equals BigInt subtraction', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 62n }), fc.bigInt({ min: 0n, max: 2n ** 62n }), (c, h) => {
        const lag = partitionLag(c.toString(), '0', h.toString());
        expect(lag).toBe(h > c ? h - c : 0n);
      }),
    );
  });
});

describe('kafka tail decoding', () => {
  it('decodes a quake event value', () => {
    const v = Buffer.from(
      JSON.stringify({ schema: 1, acceptedAt: 5, quake: { id: 'us1', magnitude: 6.1, place: 'X', drill: true } }),
    );
    expect(decodeValue(v)).toEqual({
      quake: {
        id: 'us1',
        magnitude: 6.1,
        place: 'X',
        drill: true,
        originTime: undefined,
        depthKm: undefined,
        status: undefined,
      },
      acceptedAt: 5,
    });
  });
  it('keeps non-quake values', () => {
    expect(decodeValue(Buffer.from('plain'))).toEqual({ value: 'plain' });
    expect(decodeValue(Buffer.from('{"a":1}'))).toEqual({ value: { a: 1 } });
  });
});
