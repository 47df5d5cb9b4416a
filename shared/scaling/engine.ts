/**
 * The scaling decision engine: pure. Rules + metrics + the time of each target's last change → one decision per
 * target, each carrying the metric values that caused it. `scale plan` prints these, `scale apply` and
 * functions/autoscaler make them. No I/O here (metrics.ts gathers, apply.ts acts).
 *
 * Order of a decision: raw desired from the metric → clamp to [min, max] (consumer: and the partition cap) → hold
 * when the metric is missing → limit the change to maxStep → hold while the cooldown of that direction runs.
 */
import type { ConsumerRule, ProvisionedRule, ScalingRules, WorkerRule } from './rules.ts';

export type Knob = 'reserved' | 'provisioned';

export interface FunctionMetrics {
  /** Reserved concurrency; null = none (uses the unreserved pool). */
  reserved: number | null;
  /** Provisioned concurrency requested on the alias; null = none. */
  provisioned: number | null;
  /** Concurrent executions in use (for utilisation); undefined = no data. */
  inUse?: number;
}

export interface ScalingMetrics {
  now: number;
  /** Partition count of the consumer's topic. */
  partitions: number;
  /** Lag per partition of the consumer's group (index = partition); undefined = no data. */
  lagByPartition?: number[];
  /** Segments not yet done across events in progress; undefined = no data. */
  pendingSegments?: number;
  eventsInProgress?: number;
  /** Keyed by the function name used in the rules. */
  functions: Record<string, FunctionMetrics>;
}

/** When each target (`<function>:<knob>`) last changed, epoch ms. */
export type ScalingHistory = Record<string, { at: number; value: number }>;

export interface Decision {
  target: 'consumer' | 'worker' | 'provisioned';
  function: string;
  knob: Knob;
  current: number | null;
  desired: number;
  action: 'scale-up' | 'scale-down' | 'set' | 'hold';
  reason: string;
  /** The metric values and bounds that produced this decision. */
  metrics: Record<string, number | boolean | null>;
}

export function targetKey(fn: string, knob: Knob): string {
  return `${fn}:${knob}`;
}

export function decide(rules: ScalingRules, m: ScalingMetrics, history: ScalingHistory = {}): Decision[] {
  const out: Decision[] = [];
  if (rules.consumer) out.push(decideConsumer(rules.consumer, m, history));
  if (rules.worker) out.push(decideWorker(rules.worker, m, history));
  for (const p of rules.provisioned) out.push(decideProvisioned(p, m, history));
  return out;
}

/** KEDA Kafka scaler arithmetic: instances for a lag, before cooldown and step. */
export function consumerInstances(
  rule: Pick<
    ConsumerRule,
    'lagPerInstance' | 'activationLag' | 'min' | 'max' | 'allowIdleConsumers' | 'limitToPartitionsWithLag'
  >,
  lagByPartition: number[],
  partitions: number,
): { desired: number; totalLag: number; cap: number; active: boolean } {
  const totalLag = lagByPartition.reduce((s, l) => s + Math.max(0, l), 0);
  const withLag = lagByPartition.filter((l) => l > 0).length;
  let cap = rule.max;
  if (!rule.allowIdleConsumers && partitions > 0) cap = Math.min(cap, partitions);
  if (rule.limitToPartitionsWithLag) cap = Math.min(cap, Math.max(withLag, 1));
  const active = totalLag > rule.activationLag;
  const raw = active ? Math.ceil(totalLag / rule.lagPerInstance) : rule.min;
  // The partition cap wins over min: a consumer per partition is the most Kafka can use.
  const desired = Math.min(Math.max(raw, rule.min), cap);
  return { desired, totalLag, cap, active };
}

function decideConsumer(rule: ConsumerRule, m: ScalingMetrics, history: ScalingHistory): Decision {
  const current = m.functions[rule.function]?.reserved ?? null;
  const base = { target: 'consumer' as const, function: rule.function, knob: 'reserved' as const, current };
  if (!m.lagByPartition) {
    return hold(base, 'no lag data for the consumer group', { partitions: m.partitions });
  }
  const { desired, totalLag, cap, active } = consumerInstances(rule, m.lagByPartition, m.partitions);
  const metrics = {
    totalLag,
    partitions: m.partitions,
    lagPerInstance: rule.lagPerInstance,
    activationLag: rule.activationLag,
    min: rule.min,
    max: rule.max,
    cap,
  };
  const why = active
    ? `ceil(lag ${totalLag} / ${rule.lagPerInstance}) = ${Math.ceil(totalLag / rule.lagPerInstance)}, within [${rule.min}, ${cap}]`
    : `lag ${totalLag} ≤ activation ${rule.activationLag}: min ${rule.min}`;
  return finish(base, desired, why, metrics, rule, m.now, history);
}

function decideWorker(rule: WorkerRule, m: ScalingMetrics, history: ScalingHistory): Decision {
  const current = m.functions[rule.function]?.reserved ?? null;
  const base = { target: 'worker' as const, function: rule.function, knob: 'reserved' as const, current };
  if (m.pendingSegments === undefined) return hold(base, 'no data on pending segments', {});
  const raw = Math.ceil(m.pendingSegments / rule.pendingSegmentsPerInstance);
  const desired = clamp(raw, rule.min, rule.max);
  const metrics = {
    pendingSegments: m.pendingSegments,
    eventsInProgress: m.eventsInProgress ?? null,
    pendingSegmentsPerInstance: rule.pendingSegmentsPerInstance,
    min: rule.min,
    max: rule.max,
  };
  const why = `ceil(pending ${m.pendingSegments} / ${rule.pendingSegmentsPerInstance}) = ${raw}, within [${rule.min}, ${rule.max}]`;
  return finish(base, desired, why, metrics, rule, m.now, history);
}

function decideProvisioned(rule: ProvisionedRule, m: ScalingMetrics, history: ScalingHistory): Decision {
  const fm = m.functions[rule.function];
  const current = fm?.provisioned ?? null;
  const base = { target: 'provisioned' as const, function: rule.function, knob: 'provisioned' as const, current };
  if (fm?.inUse === undefined) return hold(base, 'no utilisation data (concurrent executions)', {});
  const inUse = fm.inUse;
  const utilization = current && current > 0 ? inUse / current : null;
  // Target tracking: capacity such that inUse / capacity = target. A small epsilon keeps 0.7*10/0.7 from becoming 11.
  const raw = Math.ceil(inUse / rule.targetUtilization - 1e-9);
  let desired = clamp(raw, rule.min, rule.max);
  const metrics = {
    inUse,
    utilization,
    targetUtilization: rule.targetUtilization,
    min: rule.min,
    max: rule.max,
  };
  let why = `ceil(in use ${inUse} / target ${rule.targetUtilization}) = ${raw}, within [${rule.min}, ${rule.max}]`;
  if (rule.disableScaleIn && current !== null && desired < current) {
    desired = current;
    why += '; scale-in disabled';
  }
  return finish(base, desired, why, metrics, rule, m.now, history);
}

type Base = Pick<Decision, 'target' | 'function' | 'knob' | 'current'>;

function hold(base: Base, reason: string, metrics: Decision['metrics']): Decision {
  return { ...base, desired: base.current ?? 0, action: 'hold', reason, metrics };
}

function finish(
  base: Base,
  wanted: number,
  why: string,
  metrics: Decision['metrics'],
  rule: { maxStep?: number; cooldown: { up: number; down: number } },
  now: number,
  history: ScalingHistory,
): Decision {
  const { current } = base;
  if (current === null) {
    // Nothing set yet: no step to limit, no cooldown to respect.
    return { ...base, desired: wanted, action: 'set', reason: why, metrics };
  }
  if (wanted === current) return { ...base, desired: current, action: 'hold', reason: `${why}: at target`, metrics };
  const up = wanted > current;
  const last = history[targetKey(base.function, base.knob)];
  const cooldownS = up ? rule.cooldown.up : rule.cooldown.down;
  if (last && now - last.at < cooldownS * 1000) {
    const left = Math.ceil((cooldownS * 1000 - (now - last.at)) / 1000);
    return {
      ...base,
      desired: current,
      action: 'hold',
      reason: `${why}: would ${up ? 'scale up' : 'scale down'} to ${wanted}, cooldown ${cooldownS}s (${left}s left)`,
      metrics: { ...metrics, wanted, cooldownLeftS: left },
    };
  }
  let desired = wanted;
  let reason = why;
  if (rule.maxStep !== undefined && Math.abs(wanted - current) > rule.maxStep) {
    desired = up ? current + rule.maxStep : current - rule.maxStep;
    reason = `${why}: limited to a step of ${rule.maxStep} (wanted ${wanted})`;
  }
  return { ...base, desired, action: up ? 'scale-up' : 'scale-down', reason, metrics: { ...metrics, wanted } };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), hi);
}
