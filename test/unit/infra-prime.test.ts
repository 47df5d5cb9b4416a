/**
 * Init-phase priming (shared/infra/prime.ts): steps run together, an error is recorded and never thrown, a step that
 * does not answer cannot hold init past the bound, CPU work stops between its slices once the time is up, and only
 * environments initialised for provisioned concurrency prime.
 */
import { describe, expect, it } from 'vitest';
import { PRIME_REPEAT, primeEnvironment, primeRepeated, shouldPrime } from '../../shared/infra/prime.ts';

describe('primeEnvironment', () => {
  it('runs the steps concurrently: a step waiting for another one finishes', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => {
      release = r;
    });
    const r = await primeEnvironment(
      [
        { name: 'waits', run: () => released },
        { name: 'releases', run: () => release() },
      ],
      { timeoutMs: 5000 },
    );
    expect(r.unfinished).toEqual([]);
    expect(Object.keys(r.steps).sort()).toEqual(['releases', 'waits']);
    expect(r.steps.waits.error).toBeUndefined();
  });

  it('records an error (thrown or rejected) with its name instead of throwing', async () => {
    class ConditionalCheckFailedException extends Error {
      override name = 'ConditionalCheckFailedException';
    }
    const r = await primeEnvironment([
      {
        name: 'sync',
        run: () => {
          throw new TypeError('boom');
        },
      },
      { name: 'async', run: async () => Promise.reject(new ConditionalCheckFailedException('no such item')) },
      { name: 'fine', run: async () => 1 },
      {
        name: 'odd',
        run: () => {
          throw { code: 'E_ODD' };
        },
      },
    ]);
    expect(r.steps.odd.error).toBe('{"code":"E_ODD"}');
    expect(r.steps.sync.error).toBe('TypeError: boom');
    expect(r.steps.async.error).toBe('ConditionalCheckFailedException: no such item');
    expect(r.steps.fine).toEqual({ ms: expect.any(Number) });
  });

  it('returns after the bound with the steps still running named, whatever they do later', async () => {
    let t = 0;
    const r = await primeEnvironment(
      [
        { name: 'hangs', run: () => new Promise(() => {}) },
        { name: 'quick', run: () => undefined },
      ],
      { timeoutMs: 20, now: () => (t += 1) },
    );
    expect(r.unfinished).toEqual(['hangs']);
    expect(r.steps.quick).toBeDefined();
    expect(r.steps.hangs).toBeUndefined();
  });
});

describe('primeEnvironment with CPU work', () => {
  it('stops a step between its slices once the time is up, long before its work would end', async () => {
    const spin = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end) {
        // busy: what building synthetic notifications is to the event loop
      }
    };
    let slices = 0;
    const r = await primeEnvironment(
      [
        {
          name: 'cpu',
          run: async (ctx) => {
            for (let i = 0; i < 100; i++) {
              await ctx.slice();
              slices++;
              spin(10);
            }
          },
        },
      ],
      { timeoutMs: 50 },
    );
    // 100 slices of 10 ms would take a second; the bound stops the step after the slice in which 50 ms passed.
    expect(r.unfinished).toEqual(['cpu']);
    expect(slices).toBeLessThan(100);
  });
});

describe('shouldPrime', () => {
  it.each([
    [true, 'provisioned-concurrency', true],
    [true, 'on-demand', false],
    [true, undefined, false],
    [false, 'provisioned-concurrency', false],
  ])('setting %s, AWS_LAMBDA_INITIALIZATION_TYPE=%s → %s', (setting, type, expected) => {
    expect(shouldPrime(setting, type === undefined ? {} : { AWS_LAMBDA_INITIALIZATION_TYPE: type })).toBe(expected);
  });
});

describe('primeRepeated', () => {
  it('makes the call PRIME_REPEAT times in sequence; only the last failure is the step’s', async () => {
    let calls = 0;
    let inFlight = 0;
    let overlap = false;
    const call = async () => {
      calls++;
      inFlight++;
      if (inFlight > 1) overlap = true;
      await new Promise((r) => setTimeout(r, 2));
      inFlight--;
      if (calls < PRIME_REPEAT) throw new Error(`refused ${calls}`);
    };
    await primeRepeated(call, { slice: async () => {} });
    expect(calls).toBe(PRIME_REPEAT);
    expect(overlap).toBe(false);
    await expect(
      primeRepeated(async () => Promise.reject(new Error('last')), { slice: async () => {} }, 2),
    ).rejects.toThrow('last');
  });

  it('stops between calls when the priming time is up', async () => {
    let calls = 0;
    const r = await primeEnvironment(
      [
        {
          name: 'repeated',
          run: (ctx) =>
            primeRepeated(
              async () => {
                calls++;
                await new Promise((res) => setTimeout(res, 30));
              },
              ctx,
              1000,
            ),
        },
      ],
      { timeoutMs: 100 },
    );
    expect(r.unfinished).toEqual(['repeated']);
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThan(10);
  });
});
