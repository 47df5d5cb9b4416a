/**
 * The plan: a pure diff of the desired state against what exists. No I/O, so it is unit-tested on plain data and
 * `deploy --dry-run` prints exactly what `deploy` would do.
 */
import { CREATE_ONLY, fields, IMMUTABLE } from './fields.ts';
import type { ActualResource, Change, DesiredState, Plan, PlanItem, ResourceSpec } from './types.ts';

export function resourceKey(r: { kind: string; name: string }): string {
  return `${r.kind}/${r.name}`;
}

export function diffFields(desired: Record<string, unknown>, actual: Record<string, unknown>): Change[] {
  const changes: Change[] = [];
  for (const [field, to] of Object.entries(desired)) {
    const from = actual[field];
    if (!sameValue(from, to)) changes.push({ field, from, to });
  }
  return changes;
}

export function planDeploy(desired: DesiredState, actual: ActualResource[]): Plan {
  const byKey = new Map(actual.map((a) => [resourceKey(a), a]));
  const items = desired.resources.map((spec) => planOne(spec, byKey.get(resourceKey(spec))));
  return { items };
}

function planOne(spec: ResourceSpec, actual: ActualResource | undefined): PlanItem {
  const base = { kind: spec.kind, name: spec.name, desired: spec, actual };
  if (spec.kind === 'schedule' && spec.skipped) return { ...base, action: 'skipped', changes: [], note: spec.skipped };
  if (actual?.unknown) return { ...base, action: 'unknown', changes: [], note: actual.unknown };
  if (!actual) return { ...base, action: 'create', changes: [] };
  const changes = diffFields(fields(spec), actual.fields);
  if (changes.length === 0) return { ...base, action: 'unchanged', changes };
  const immutable = changes.filter((c) => IMMUTABLE[spec.kind]?.includes(c.field));
  if (immutable.length > 0) {
    return {
      ...base,
      action: 'blocked',
      changes,
      note: `${immutable.map((c) => c.field).join(', ')} cannot change in place without losing data: delete it first`,
    };
  }
  if (spec.kind === 'topic' && (actual.fields.partitions as number) > spec.partitions) {
    return {
      ...base,
      action: 'blocked',
      changes,
      note: 'Kafka cannot reduce the partition count of a topic',
    };
  }
  const createOnly = changes.filter((c) => CREATE_ONLY[spec.kind]?.includes(c.field));
  if (createOnly.length > 0) {
    return { ...base, action: 'replace', changes, note: `${createOnly.map((c) => c.field).join(', ')} is create-only` };
  }
  return { ...base, action: 'update', changes };
}

/** The destroy plan: everything deploy manages that exists, in reverse convergence order. */
export function planDestroy(desired: DesiredState, actual: ActualResource[]): Plan {
  const byKey = new Map(actual.map((a) => [resourceKey(a), a]));
  const items: PlanItem[] = [];
  for (const spec of [...desired.resources].reverse()) {
    const a = byKey.get(resourceKey(spec));
    if (a) items.push({ kind: spec.kind, name: spec.name, action: 'delete', changes: [], desired: spec, actual: a });
  }
  return { items };
}

export function planSummary(plan: Plan): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of plan.items) counts[item.action] = (counts[item.action] ?? 0) + 1;
  return counts;
}

export function hasChanges(plan: Plan): boolean {
  return plan.items.some((i) => isChange(i.action));
}

/** Skipped items (what the local stack cannot run) are reported, never applied; unknown ones only in a dry run. */
export function isChange(action: PlanItem['action']): boolean {
  return action !== 'unchanged' && action !== 'skipped' && action !== 'unknown';
}

/**
 * Marks every item of the given kinds `skipped` with the reason: resources the target cannot hold (the moto tests:
 * moto has no self-managed Kafka event source mapping). Nothing of those kinds is then created, changed or deleted.
 */
export function skipKinds(plan: Plan, skip: Partial<Record<string, string>> = {}): Plan {
  return {
    items: plan.items.map((i) =>
      skip[i.kind] ? { ...i, action: 'skipped' as const, changes: [], note: skip[i.kind] } : i,
    ),
  };
}

/** Structural equality of JSON values; object key order does not matter. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  // null and undefined both mean "not set".
  if (a == null || b == null) return a == null && b == null;
  if (typeof a !== typeof b || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => sameValue(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) if (!sameValue(ao[k], bo[k])) return false;
  return true;
}
