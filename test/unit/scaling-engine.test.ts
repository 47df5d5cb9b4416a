import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { consumerInstances, decide, type ScalingMetrics, targetKey } from '../../shared/scaling/engine.ts';
import { parseRules, RulesError, rulesJsonSchema } from '../../shared/scaling/rules.ts';

const rulesYaml = `
version: 1
consumer:
  lagPerInstance: 10
  activationLag: 5
  min: 1
  max: 8
  maxStep: 3
  cooldown: { up: 0, down: 120 }
worker:
  pendingSegmentsPerInstance: 4
  min: 2
  max: 50
provisioned:
  - function: producer
    targetUtilization: 0.7
    max: 20
`;

const metrics = (over: Partial<ScalingMetrics> = {}): ScalingMetrics => ({
  now: 1_000_000,
  partitions: 6,
  lagByPartition: [0, 0, 0, 0, 0, 0],
  pendingSegments: 0,
  functions: {
    consumer: { reserved: 1, provisioned: null },
    'segment-worker': { reserved: 2, provisioned: null },
    producer: { reserved: null, provisioned: 2, inUse: 7 },
  },
  ...over,
});

describe('scaling rules', () => {
  it('parses with defaults', () => {
    const r = parseRules(rulesYaml);
    expect(r.consumer).toMatchObject({ function: 'consumer', lagPerInstance: 10, allowIdleConsumers: false });
    expect(r.worker?.function).toBe('segment-worker');
    expect(r.provisioned[0]).toMatchObject({ min: 0, cooldown: { up: 0, down: 300 }, disableScaleIn: false });
  });

  it('refuses invalid files with the path of each problem', () => {
    expect(() => parseRules('version: 1\nconsumer: { lagPerInstance: -1, max: 2 }')).toThrow(/consumer.lagPerInstance/);
    expect(() => parseRules('version: 1\nworker: { pendingSegmentsPerInstance: 1, min: 5, max: 2 }')).toThrow(
      /min must not exceed max/,
    );
    expect(() => parseRules('version: 2')).toThrow(RulesError);
    expect(() => parseRules('version: 1\nconsumr: {}')).toThrow(/consumr|Unrecognized/);
    expect(() => parseRules('version: [1')).toThrow(/not valid YAML/);
  });

  it('ships a JSON schema equal to the zod one', () => {
    const file = JSON.parse(readFileSync(new URL('../../schemas/scaling-rules.schema.json', import.meta.url), 'utf8'));
    expect(file).toEqual(rulesJsonSchema());
  });

  it('the documented example in docs/scaling.md is valid', () => {
    const doc = readFileSync(new URL('../../docs/scaling.md', import.meta.url), 'utf8');
    const example = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(example).toBeTruthy();
    expect(() => parseRules(example ?? '')).not.toThrow();
  });
});

describe('scaling decisions', () => {
  const rules = parseRules(rulesYaml);

  it('consumer: ceil(lag / lagPerInstance), stepped and explained', () => {
    const [c] = decide(rules, metrics({ lagByPartition: [20, 20, 5, 0, 0, 0] }));
    // ceil(45/10) = 5; current 1, maxStep 3 → 4
    expect(c).toMatchObject({ target: 'consumer', current: 1, desired: 4, action: 'scale-up' });
    expect(c.metrics).toMatchObject({ totalLag: 45, partitions: 6, wanted: 5 });
    expect(c.reason).toMatch(/step of 3/);
  });

  it('consumer: below the activation threshold goes to min, after the scale-down cooldown', () => {
    const m = metrics({ lagByPartition: [3, 0, 0, 0, 0, 0] });
    m.functions.consumer.reserved = 4;
    const hist = { [targetKey('consumer', 'reserved')]: { at: m.now - 60_000, value: 4 } };
    expect(decide(rules, m, hist)[0]).toMatchObject({ action: 'hold', desired: 4, metrics: { cooldownLeftS: 60 } });
    expect(decide(rules, { ...m, now: m.now + 60_000 }, hist)[0]).toMatchObject({ action: 'scale-down', desired: 1 });
  });

  it('worker: from pending segments', () => {
    const d = decide(rules, metrics({ pendingSegments: 37 }))[1];
    expect(d).toMatchObject({ target: 'worker', desired: 10, action: 'scale-up', metrics: { pendingSegments: 37 } });
  });

  it('provisioned: target tracking on utilisation', () => {
    const d = decide(rules, metrics())[2];
    // 7 in use at target 0.7 → 10
    expect(d).toMatchObject({ function: 'producer', knob: 'provisioned', current: 2, desired: 10, action: 'scale-up' });
    expect(d.metrics.utilization).toBe(3.5);
  });

  it('holds without metrics', () => {
    const m = metrics({ lagByPartition: undefined, pendingSegments: undefined });
    m.functions.producer.inUse = undefined;
    expect(decide(rules, m).map((d) => d.action)).toEqual(['hold', 'hold', 'hold']);
  });

  const ruleArb = fc
    .record({
      lagPerInstance: fc.integer({ min: 1, max: 1000 }),
      activationLag: fc.integer({ min: 0, max: 100 }),
      min: fc.integer({ min: 1, max: 20 }),
      span: fc.integer({ min: 0, max: 100 }),
      allowIdleConsumers: fc.boolean(),
      limitToPartitionsWithLag: fc.boolean(),
    })
    .map(({ span, ...r }) => ({ ...r, max: r.min + span }));
  const lagsArb = fc.array(fc.integer({ min: 0, max: 100_000 }), { minLength: 1, maxLength: 64 });

  it('property: within [min, max] and never above the partition count', () => {
    fc.assert(
      fc.property(ruleArb, lagsArb, (rule, lags) => {
        const { desired } = consumerInstances(rule, lags, lags.length);
        expect(desired).toBeLessThanOrEqual(rule.max);
        if (!rule.allowIdleConsumers) expect(desired).toBeLessThanOrEqual(lags.length);
        if (rule.limitToPartitionsWithLag) {
          expect(desired).toBeLessThanOrEqual(Math.max(1, lags.filter((l) => l > 0).length));
        }
        const cap = Math.min(
          rule.max,
          rule.allowIdleConsumers ? Number.POSITIVE_INFINITY : lags.length,
          rule.limitToPartitionsWithLag ? Math.max(1, lags.filter((l) => l > 0).length) : Number.POSITIVE_INFINITY,
        );
        expect(desired).toBeGreaterThanOrEqual(Math.min(rule.min, cap));
        expect(desired).toBeGreaterThanOrEqual(1);
      }),
    );
  });

  it('property: more lag never means fewer consumers', () => {
    fc.assert(
      fc.property(ruleArb, lagsArb, fc.nat({ max: 63 }), fc.integer({ min: 1, max: 100_000 }), (rule, lags, i, add) => {
        const more = [...lags];
        const j = i % lags.length;
        // Adding lag to a partition that already has lag keeps the partitions-with-lag cap fixed.
        more[j] += lags[j] > 0 || !rule.limitToPartitionsWithLag ? add : 0;
        const a = consumerInstances(rule, lags, lags.length).desired;
        const b = consumerInstances(rule, more, lags.length).desired;
        expect(b).toBeGreaterThanOrEqual(a);
      }),
    );
  });

  it('property: a decision moves at most maxStep and only after its cooldown', () => {
    fc.assert(
      fc.property(
        lagsArb,
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 300_000 }),
        (lags, current, step, since) => {
          const r = parseRules(
            `version: 1\nconsumer: { lagPerInstance: 7, max: 30, maxStep: ${step}, cooldown: { up: 60, down: 120 } }`,
          );
          const m = metrics({ lagByPartition: lags, partitions: 64 });
          m.functions.consumer.reserved = current;
          const d = decide(r, m, { 'consumer:reserved': { at: m.now - since, value: current } })[0];
          expect(Math.abs(d.desired - current)).toBeLessThanOrEqual(step);
          if (d.desired > current) expect(since).toBeGreaterThanOrEqual(60_000);
          if (d.desired < current) expect(since).toBeGreaterThanOrEqual(120_000);
        },
      ),
    );
  });
});
