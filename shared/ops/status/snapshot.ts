/**
 * `quakectl status`: one picture of the system, gathered in parallel, each section bounded in time so one dead
 * service cannot freeze the screen (its section says why instead). The same data feeds the plain text, `-o json`
 * and the live ink dashboard (cli/views).
 */

import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetAccountSettingsCommand, GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import type { Clients } from '../../infra/clients.ts';
import { errorMessage } from '../../infra/errors.ts';
import { FUNCTION_ROLES } from '../../infra/names.ts';
import { getConcurrency } from '../../scaling/concurrency.ts';
import { type DlqDepth, listDlqs } from '../dlq/queues.ts';
import { type ActiveEvent, eventsInProgress, type RecentEvent, recentDrills } from '../events.ts';
import { withAdmin } from '../kafka/admin.ts';
import { defaultConsumerGroup } from '../kafka/group.ts';
import { fetchGroupLag, type GroupLag } from '../kafka/lag.ts';
import {
  DEPLOY_FIX,
  isMissingResourceError,
  type MissingResource,
  missingStorage,
  type UnpublishedEvent,
  unpublishedEvents,
} from './deployment.ts';

export interface ServiceHealth {
  service: 'kafka' | 'sqs' | 'dynamodb' | 'lambda';
  healthy: boolean;
  latencyMs: number;
  detail?: string;
}

export interface FunctionStatus {
  role: string;
  function: string;
  deployed: boolean;
  state?: string;
  lastUpdateStatus?: string;
  reserved: number | null;
  provisioned: number | null;
  lastModified?: string;
}

export interface StatusSnapshot {
  at: number;
  profile: string;
  local: boolean;
  services: ServiceHealth[];
  functions: FunctionStatus[];
  lag?: GroupLag;
  dlqs: Array<Pick<DlqDepth, 'queue' | 'kind' | 'depth' | 'exists'>>;
  events: ActiveEvent[];
  drills: RecentEvent[];
  /** Resources `quakectl deploy` creates that do not exist; `fix` is then the command to run. */
  missing: MissingResource[];
  fix?: string;
  /** Accepted events never acknowledged by Kafka (published = false). */
  unpublished: UnpublishedEvent[];
  notes: string[];
}

export interface SnapshotOptions {
  profile: string;
  /** Per-section time limit. */
  timeoutMs?: number;
  /** Drills completed since (ms ago). */
  drillsWindowMs?: number;
  now?: number;
}

class SectionTimeout extends Error {}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(new SectionTimeout(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

async function probe(service: ServiceHealth['service'], f: () => Promise<unknown>, ms: number): Promise<ServiceHealth> {
  const start = performance.now();
  try {
    await within(f(), ms, service);
    return { service, healthy: true, latencyMs: Math.round(performance.now() - start) };
  } catch (err) {
    return { service, healthy: false, latencyMs: Math.round(performance.now() - start), detail: errorMessage(err) };
  }
}

export async function statusSnapshot(clients: Clients, opts: SnapshotOptions): Promise<StatusSnapshot> {
  const ms = opts.timeoutMs ?? 4000;
  const now = opts.now ?? Date.now();
  const names = clients.config.names;
  const notes: string[] = [];
  // Sections that failed because a resource does not exist: explained by `missing` below, not as raw notes.
  const missingNotes: string[] = [];
  const section = async <T>(what: string, f: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      return await within(f(), ms, what);
    } catch (err) {
      (isMissingResourceError(err) ? missingNotes : notes).push(`${what}: ${errorMessage(err)}`);
      return fallback;
    }
  };

  const [services, functions, lag, dlqs, events, drills, storage, unpublished] = await Promise.all([
    Promise.all([
      probe('kafka', () => withAdmin(clients.kafka, (a) => a.describeCluster()), ms),
      probe('sqs', () => clients.sqs.send(new ListQueuesCommand({ MaxResults: 1 })), ms),
      probe('dynamodb', () => clients.dynamodb.send(new ListTablesCommand({ Limit: 1 })), ms),
      probe('lambda', () => clients.lambda.send(new GetAccountSettingsCommand({})), ms),
    ]),
    section(
      'functions',
      () =>
        Promise.all(
          FUNCTION_ROLES.map(async (role): Promise<FunctionStatus> => {
            const fn = names.function(role);
            const c = await getConcurrency(clients.lambda, fn, names.alias);
            if (!c.exists) return { role, function: fn, deployed: false, reserved: null, provisioned: null };
            const cfg = await clients.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: fn }));
            return {
              role,
              function: fn,
              deployed: true,
              state: cfg.State,
              lastUpdateStatus: cfg.LastUpdateStatus,
              reserved: c.reserved,
              provisioned: c.provisioned,
              lastModified: cfg.LastModified,
            };
          }),
        ),
      [] as FunctionStatus[],
    ),
    section(
      'lag',
      async () => {
        const group = await defaultConsumerGroup(clients.lambda, names.function('consumer'), names.eventsTopic);
        return withAdmin(clients.kafka, (a) => fetchGroupLag(a, group, names.eventsTopic));
      },
      undefined as GroupLag | undefined,
    ),
    section(
      'dlqs',
      async () =>
        (await listDlqs(clients.sqs, names)).map(({ queue, kind, depth, exists }) => ({ queue, kind, depth, exists })),
      [] as StatusSnapshot['dlqs'],
    ),
    section('events', () => eventsInProgress(clients.ddb, names.table('events')), [] as ActiveEvent[]),
    section(
      'drills',
      () => recentDrills(clients.ddb, names.table('events'), now - (opts.drillsWindowMs ?? 24 * 3_600_000)),
      [] as RecentEvent[],
    ),
    section('resources', () => missingStorage(clients), [] as MissingResource[]),
    section('unpublished', () => unpublishedEvents(clients.ddb, names.table('events')), [] as UnpublishedEvent[]),
  ]);
  const missing: MissingResource[] = [
    ...storage,
    ...dlqs.filter((q) => !q.exists).map((q) => ({ kind: 'queue' as const, name: q.queue })),
    // The autoscaler is optional (deployed only with autoscaler.enabled): its absence is not a missing part.
    ...functions
      .filter((f) => !f.deployed && f.role !== 'autoscaler')
      .map((f) => ({ kind: 'function' as const, name: f.function })),
  ];
  // A "not found" that no missing resource explains (created or deleted between two calls) stays visible.
  if (missing.length === 0) notes.push(...missingNotes.map((n) => `${n} (run ${DEPLOY_FIX})`));
  return {
    at: now,
    profile: opts.profile,
    local: clients.config.local,
    services,
    functions,
    lag,
    dlqs,
    events,
    drills,
    missing,
    ...(missing.length > 0 ? { fix: DEPLOY_FIX } : {}),
    unpublished,
    notes,
  };
}
