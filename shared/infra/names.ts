/**
 * Names of every deployed resource, derived from one prefix so that several systems can share an account and quakectl
 * can resolve a role (`producer`) to its deployed name (`quakectl-producer`).
 */
export const FUNCTION_ROLES = ['producer', 'consumer', 'segment-worker', 'autoscaler'] as const;
export type FunctionRole = (typeof FUNCTION_ROLES)[number];

export const DLQ_KINDS = ['producer', 'consumer', 'worker', 'delivery'] as const;
export type DlqKind = (typeof DLQ_KINDS)[number];

export const TABLES = ['subscribers', 'segments', 'events', 'locks'] as const;
export type TableRole = (typeof TABLES)[number];

export interface ResourceNames {
  prefix: string;
  function(role: FunctionRole): string;
  table(role: TableRole): string;
  dlq(kind: DlqKind): string;
  eventsTopic: string;
  notificationsTopic: string;
  alias: string;
}

export function resourceNames(prefix = 'quakectl'): ResourceNames {
  const p = prefix.endsWith('-') || prefix === '' ? prefix : `${prefix}-`;
  return {
    prefix: p,
    function: (role) => `${p}${role}`,
    table: (role) => `${p}${role}`,
    dlq: (kind) => `${p}${kind}-dlq`,
    eventsTopic: 'quakes.events',
    notificationsTopic: 'quakes.notifications',
    alias: 'live',
  };
}

/** Resolves an operator's name for a function: a role (`consumer`) or an already prefixed name. */
export function resolveFunctionName(names: ResourceNames, nameOrRole: string): string {
  if ((FUNCTION_ROLES as readonly string[]).includes(nameOrRole)) return names.function(nameOrRole as FunctionRole);
  return nameOrRole;
}
