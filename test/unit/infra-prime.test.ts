/**
 * Init-phase priming (shared/infra/prime.ts): steps run together, an error is recorded and never thrown, a step that
 * does not answer cannot hold init past the bound.
 */
import { describe, expect, it } from 'vitest';
import { primeEnvironment } from '../../shared/infra/prime.ts';

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
    ]);
    expect(r.steps.sync.error).toBe('TypeError');
    expect(r.steps.async.error).toBe('ConditionalCheckFailedException');
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
