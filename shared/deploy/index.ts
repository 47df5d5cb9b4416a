/**
 * `quakectl deploy` and `destroy`: bundle → desired state → what exists → plan (printed) → confirm → converge.
 * The plan is computed the same way for `--dry-run`, so what it prints is what a real run does.
 */
import { bundleFunction } from '../bundle/index.ts';
import type { Clients } from '../infra/clients.ts';
import { type Profile, stateDir } from '../infra/config.ts';
import { ConfigError } from '../infra/errors.ts';
import { FUNCTION_ROLES, type FunctionRole, type ResourceNames, resourceNames } from '../infra/names.ts';
import { readStackState } from '../infra/stack-state.ts';
import { capFunctionEnv, capSettingsOfProfile } from '../notify/cap-config.ts';
import { confirm } from '../ops/confirm.ts';
import { otherTopicConsumers, readActual } from './actual.ts';
import { type AppliedItem, converge, destroyResources } from './converge.ts';
import { type BundleRef, deployedRoles, desiredState } from './desired.ts';
import { DeployBlockedError } from './errors.ts';
import { hasChanges, isChange, planDeploy, planDestroy, planSummary, skipKinds } from './plan.ts';
import { type DeploySettings, LOCAL_ROLE_ARN, senderAddress } from './settings.ts';
import type { Change, DesiredState, MappingSpec, Plan, PlanAction, ResourceKind } from './types.ts';

export type { AppliedItem } from './converge.ts';
export { DeployBlockedError } from './errors.ts';

export interface DeployContext {
  profile: Profile;
  clients: Clients;
}

export interface DeployOptions {
  dryRun?: boolean;
  yes?: boolean;
  roleArn?: string;
  /** Names override (tests give topics a unique name too). Default: from the profile's prefix. */
  names?: ResourceNames;
  settings?: DeploySettings;
  /** Prebuilt bundles (tests); default: bundle functions/<role>/index.ts. */
  bundles?: Partial<Record<FunctionRole, BundleRef>>;
  /** Called with the plan before anything changes (the CLI prints it here). */
  onPlan?: (plan: PlanView) => void;
  onItem?: (item: AppliedItem) => void;
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream;
  /**
   * Resource kinds the target cannot hold, with the reason: planned `skipped`, never read into a change, created or
   * deleted. For tests against an implementation that lacks an API (moto: self-managed Kafka event source mappings);
   * the CLI never sets it.
   */
  skip?: Partial<Record<ResourceKind, string>>;
}

export interface PlanViewItem {
  kind: string;
  name: string;
  action: PlanAction;
  changes: string[];
  note?: string;
}

export interface PlanView {
  profile: string;
  summary: Record<string, number>;
  items: PlanViewItem[];
}

export interface DeployResult extends PlanView {
  dryRun: boolean;
  applied: AppliedItem[];
  /** What could not be planned (dry run with Kafka unreachable); empty when everything was read. */
  warnings: string[];
}

/** Stands in for the execution role in destroy's desired state, which only names what to delete. */
const DESTROY_ROLE_ARN = 'arn:aws:iam::000000000000:role/quakectl-destroy-needs-no-role';

export function resolveRoleArn(profile: Profile, flag?: string): string {
  if (flag) return flag;
  if (profile.type === 'local') return LOCAL_ROLE_ARN;
  if (profile.roleArn) return profile.roleArn;
  throw new ConfigError(
    `profile "${profile.name}" has no execution role: pass --role-arn or set roleArn in the profile ` +
      '(a role Lambda can assume, allowed DynamoDB, SQS, Lambda invoke, Secrets Manager and CloudWatch Logs; see README)',
  );
}

export function brokersFor(profile: Profile, clients: Clients): string[] {
  return profile.type === 'aws' ? profile.kafka.brokers : clients.config.kafka.brokers;
}

async function bundleAll(roles: FunctionRole[]): Promise<Record<string, BundleRef>> {
  const built = await Promise.all(roles.map((r) => bundleFunction(r)));
  return Object.fromEntries(built.map((b) => [b.role, { codeSha256: b.codeSha256, zip: b.zip }]));
}

export async function computeDesired(
  ctx: DeployContext,
  opts: DeployOptions & { destroying?: boolean },
): Promise<DesiredState> {
  const { profile, clients } = ctx;
  const roleArn = resolveRoleArn(profile, opts.roleArn);
  const bundles = opts.bundles ?? (await bundleAll(deployedRoles(profile)));
  return desiredState({
    profile,
    names: opts.names ?? resourceNames(profile.prefix),
    brokers: brokersFor(profile, clients),
    roleArn,
    bundles,
    settings: opts.settings,
    allowPrivateTargets: clients.config.allowPrivateTargets,
    localAwsEndpoint: profile.type === 'local' ? clients.config.endpoints.sesv2 : undefined,
    destroying: opts.destroying,
    // Locally the feed's URL is the running stack's CAP server (local/cap-server.ts).
    capEnv: opts.destroying
      ? undefined
      : capFunctionEnv(
          capSettingsOfProfile(profile, profile.type === 'local' ? readStackState(stateDir(profile)) : undefined),
        ),
  });
}

export async function deploy(ctx: DeployContext, opts: DeployOptions = {}): Promise<DeployResult> {
  const desired = await computeDesired(ctx, opts);
  const warnings: string[] = [];
  const actual = await readActual(
    ctx.clients,
    desired,
    opts.dryRun ? { onKafkaUnreachable: (w) => warnings.push(w) } : {},
  );
  const plan = skipKinds(planDeploy(desired, actual), opts.skip);
  const view = planView(ctx.profile.name, plan);
  opts.onPlan?.(view);
  const blocked = plan.items.filter((i) => i.action === 'blocked');
  if (blocked.length > 0) {
    throw new DeployBlockedError(
      `deploy refuses ${blocked.length} change(s): ${blocked.map((b) => `${b.kind}/${b.name} (${b.note})`).join('; ')}`,
    );
  }
  // moto refuses mail from an unverified sender, as SES does: the local profile's sender is verified there (moto keeps
  // nothing across restarts, so on every deploy). On AWS verifying an identity is the operator's (DNS, inbox).
  const from = opts.settings?.notify?.email?.from;
  if (!opts.dryRun && ctx.profile.type === 'local' && from) {
    const { verifyLocalSender } = await import('../../local/channels.ts');
    await verifyLocalSender(await ctx.clients.sesv2(), senderAddress(from));
  }
  if (opts.dryRun || !hasChanges(plan)) return { ...view, dryRun: Boolean(opts.dryRun), applied: [], warnings };
  const changes = plan.items.filter((i) => isChange(i.action)).length;
  await confirm({
    action: `apply ${changes} change(s) to profile "${ctx.profile.name}"`,
    yes: opts.yes,
    local: ctx.profile.type === 'local',
    stdin: opts.stdin,
    stderr: opts.stderr,
  });
  const applied = await converge(ctx.clients, plan, { onItem: opts.onItem });
  return { ...view, dryRun: false, applied, warnings };
}

export async function destroy(ctx: DeployContext, opts: DeployOptions = {}): Promise<DeployResult> {
  // Every function role, whatever the profile enables now: destroy removes what any earlier deploy created.
  const bundles = Object.fromEntries(FUNCTION_ROLES.map((r) => [r, { codeSha256: '' }]));
  const profile = { ...ctx.profile, autoscaler: { enabled: true, schedule: 'rate(1 minute)' } } as Profile;
  // Deleting needs no execution role (only the names matter): a profile without roleArn must still be destroyable.
  const roleArn = opts.roleArn ?? (profile.type === 'aws' && profile.roleArn ? profile.roleArn : DESTROY_ROLE_ARN);
  const desired = await computeDesired({ ...ctx, profile }, { ...opts, roleArn, bundles, destroying: true });
  const actual = await readActual(ctx.clients, desired);
  const plan = skipKinds(await keepSharedTopics(ctx.clients, planDestroy(desired, actual), desired), opts.skip);
  const view = planView(ctx.profile.name, plan);
  opts.onPlan?.(view);
  if (opts.dryRun || plan.items.every((i) => i.action === 'skipped'))
    return { ...view, dryRun: Boolean(opts.dryRun), applied: [], warnings: [] };
  // Destroy deletes data (tables, dead letters): it asks even on the local profile, unless --yes.
  await confirm({
    action: `delete ${plan.items.filter((i) => i.action === 'delete').length} resource(s) of profile "${ctx.profile.name}"`,
    yes: opts.yes,
    alwaysAsk: true,
    stdin: opts.stdin,
    stderr: opts.stderr,
  });
  const deletions = { items: plan.items.filter((i) => i.action === 'delete') };
  const applied = await destroyResources(ctx.clients, deletions, { onItem: opts.onItem });
  return { ...view, dryRun: false, applied, warnings: [] };
}

/**
 * Topics have no prefix: systems with different prefixes on one broker share `quakes.events` and
 * `quakes.notifications`. While another system's mapping still reads the events topic, both topics are kept (reported
 * as skipped), never deleted under it.
 */
async function keepSharedTopics(clients: Clients, plan: Plan, desired: DesiredState): Promise<Plan> {
  const own = new Set(desired.resources.filter((r) => r.kind === 'function').map((r) => r.name));
  const events = desired.resources.find((r) => r.kind === 'mapping') as MappingSpec | undefined;
  const others = events ? await otherTopicConsumers(clients, events.topic, own) : [];
  if (others.length === 0) return plan;
  const note = `kept: shared with ${others.join(', ')} (another system on this broker)`;
  return { items: plan.items.map((i) => (i.kind === 'topic' ? { ...i, action: 'skipped' as const, note } : i)) };
}

export function planView(profile: string, plan: Plan): PlanView {
  return {
    profile,
    summary: planSummary(plan),
    items: plan.items.map((i) => ({
      kind: i.kind,
      name: i.name,
      action: i.action,
      changes: i.changes.map(describeChange),
      ...(i.note ? { note: i.note } : {}),
    })),
  };
}

/** One line per change; secrets in the environment are never printed, only which keys changed. */
export function describeChange(c: Change): string {
  if (c.field === 'code') return `code ${short(c.from)} → ${short(c.to)}`;
  if (c.field === 'env') {
    const from = (c.from ?? {}) as Record<string, string>;
    const to = (c.to ?? {}) as Record<string, string>;
    const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])].filter((k) => from[k] !== to[k]).sort();
    return `env ${keys.join(', ')}`;
  }
  return `${c.field} ${brief(c.from)} → ${brief(c.to)}`;
}

function short(v: unknown): string {
  return typeof v === 'string' && v ? `${v.slice(0, 8)}…` : 'none';
}

function brief(v: unknown): string {
  if (v === undefined || v === null) return 'none';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}
