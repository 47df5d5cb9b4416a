/**
 * Pure parts of the Lambda emulator: function-name parsing as Lambda accepts names, concurrency accounting (reserved,
 * unreserved pool, the 100-unreserved floor), the REPORT line and the SelfManagedKafka record shape.
 */
import { describe, expect, it } from 'vitest';
import { functionArn, parseFunctionName, parseSqsArn } from '../../local/lambda/arns.ts';
import { Concurrency } from '../../local/lambda/concurrency.ts';
import { TooManyRequestsError, ValidationError } from '../../local/lambda/errors.ts';
import { kafkaRecord } from '../../local/lambda/esm-kafka.ts';
import { logTail } from '../../local/lambda/invoker.ts';
import { reportLine } from '../../local/lambda/logging.ts';
import { routedVersion } from '../../local/lambda/registry.ts';

describe('function names', () => {
  it('accepts names, partial and full ARNs, with qualifiers', () => {
    expect(parseFunctionName('fn')).toEqual({ name: 'fn', qualifier: undefined });
    expect(parseFunctionName('fn:live')).toEqual({ name: 'fn', qualifier: 'live' });
    expect(parseFunctionName('000000000000:function:fn:3')).toEqual({ name: 'fn', qualifier: '3' });
    expect(parseFunctionName(functionArn('fn', '$LATEST'))).toEqual({ name: 'fn', qualifier: '$LATEST' });
    expect(parseFunctionName('fn', 'live')).toEqual({ name: 'fn', qualifier: 'live' });
  });

  it('refuses a malformed name and disagreeing qualifiers', () => {
    expect(() => parseFunctionName('bad name')).toThrow(ValidationError);
    expect(() => parseFunctionName('fn:1', '2')).toThrow(/does not match/);
  });

  it('parses SQS ARNs', () => {
    expect(parseSqsArn('arn:aws:sqs:us-east-1:000000000000:q-dlq')).toEqual({
      region: 'us-east-1',
      account: '000000000000',
      name: 'q-dlq',
    });
    expect(parseSqsArn('arn:aws:sns:us-east-1:000000000000:t')).toBeUndefined();
  });
});

describe('concurrency', () => {
  it('throttles a function at its reservation with the reserved Reason', () => {
    const c = new Concurrency(1000);
    c.setReserved('a', 1);
    c.acquire('a');
    expect(() => c.acquire('a')).toThrow(TooManyRequestsError);
    try {
      c.acquire('a');
    } catch (e) {
      expect((e as TooManyRequestsError).reason).toBe('ReservedFunctionConcurrentInvocationLimitExceeded');
      expect((e as TooManyRequestsError).status).toBe(429);
    }
    c.release('a');
    c.acquire('a');
  });

  it('shares the unreserved pool among unreserved functions', () => {
    const c = new Concurrency(150);
    c.checkReservation('big', 50);
    c.setReserved('big', 50);
    expect(c.unreserved()).toBe(100);
    for (let i = 0; i < 100; i++) c.acquire(i % 2 ? 'x' : 'y');
    expect(() => c.acquire('z')).toThrow(expect.objectContaining({ reason: 'ConcurrentInvocationLimitExceeded' }));
    c.release('x');
    c.acquire('z');
  });

  it('keeps at least 100 unreserved', () => {
    const c = new Concurrency(1000);
    expect(() => c.checkReservation('a', 901)).toThrow(/minimum value of \[100\]/);
    c.checkReservation('a', 900);
  });

  it('releases into the right pool when a reservation changes mid-flight', () => {
    const c = new Concurrency(200);
    c.acquire('a');
    c.setReserved('a', 10);
    c.release('a');
    for (let i = 0; i < 190; i++) c.acquire('b');
    expect(() => c.acquire('b')).toThrow(TooManyRequestsError);
  });
});

describe('log lines', () => {
  it('formats REPORT like Lambda, with Init Duration only on a cold start', () => {
    const warm = reportLine({ requestId: 'r', durationMs: 1.234, memoryMb: 128, maxMemoryMb: 60 });
    expect(warm).toBe(
      'REPORT RequestId: r\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 60 MB',
    );
    expect(reportLine({ requestId: 'r', durationMs: 1, memoryMb: 128, maxMemoryMb: 60, initMs: 80.5 })).toMatch(
      /\tInit Duration: 80.50 ms$/,
    );
  });

  it('keeps the last 4 KB for LogType Tail', () => {
    const lines = Array.from({ length: 200 }, (_, i) => `line ${i} ${'x'.repeat(40)}`);
    const tail = Buffer.from(logTail(lines), 'base64').toString();
    expect(Buffer.byteLength(tail)).toBe(4096);
    expect(tail.endsWith(`line 199 ${'x'.repeat(40)}\n`)).toBe(true);
  });
});

describe('SelfManagedKafka record', () => {
  it('encodes key and value in base64 and headers as byte arrays', () => {
    const r = kafkaRecord('quakes', 2, {
      key: Buffer.from('k'),
      value: Buffer.from('{"a":1}'),
      timestamp: '1545084650987',
      attributes: 0,
      offset: '15',
      headers: { h: Buffer.from('he'), multi: ['a', 'b'] },
    } as never);
    expect(r).toEqual({
      topic: 'quakes',
      partition: 2,
      offset: 15,
      timestamp: 1545084650987,
      timestampType: 'CREATE_TIME',
      key: Buffer.from('k').toString('base64'),
      value: Buffer.from('{"a":1}').toString('base64'),
      headers: [{ h: [104, 101] }, { multi: [97] }, { multi: [98] }],
    });
  });
});

describe('weighted alias routing', () => {
  const alias = (weights?: Record<string, number>) => ({
    AliasArn: 'arn:aws:lambda:us-east-1:000000000000:function:f:live',
    Name: 'live',
    FunctionVersion: '1',
    Description: '',
    RevisionId: 'r',
    ...(weights ? { RoutingConfig: { AdditionalVersionWeights: weights } } : {}),
  });

  it('runs the additional version with probability equal to its weight', () => {
    // A uniform sequence of 1,000 draws: exactly the weight's share goes to version 2.
    let i = 0;
    const uniform = () => (i++ % 1000) / 1000;
    const runs = Array.from({ length: 1000 }, () => routedVersion(alias({ '2': 0.25 }), uniform));
    expect(runs.filter((v) => v === '2')).toHaveLength(250);
    expect(runs.filter((v) => v === '1')).toHaveLength(750);
  });

  it('without routing, or at weight 0, always the alias version', () => {
    expect(routedVersion(alias(), () => 0)).toBe('1');
    expect(routedVersion(alias({ '2': 0 }), () => 0)).toBe('1');
    expect(routedVersion(alias({ '2': 1 }), () => 0.999)).toBe('2');
  });
});
