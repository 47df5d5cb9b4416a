/**
 * Lambda concurrency knobs: reserved (PutFunctionConcurrency) and provisioned on the alias `live`
 * (PutProvisionedConcurrencyConfig). Refusals are made here, before the call, with the numbers that forbid the change:
 * AWS keeps at least 100 executions of the account unreserved, provisioned cannot exceed reserved, numbers are
 * non-negative integers, the function must exist.
 */
import {
  DeleteFunctionConcurrencyCommand,
  DeleteProvisionedConcurrencyConfigCommand,
  GetAccountSettingsCommand,
  GetFunctionConcurrencyCommand,
  GetFunctionConfigurationCommand,
  GetProvisionedConcurrencyConfigCommand,
  type LambdaClient,
  PutFunctionConcurrencyCommand,
  PutProvisionedConcurrencyConfigCommand,
} from '@aws-sdk/client-lambda';
import { UsageError } from '../infra/errors.ts';
import { ScaleRefusedError, UnknownFunctionError } from './errors.ts';

/** AWS's rule: the account keeps this many concurrent executions unreserved. */
export const MIN_UNRESERVED = 100;

export interface FunctionConcurrency {
  function: string;
  exists: boolean;
  reserved: number | null;
  provisioned: number | null;
  provisionedAllocated: number | null;
  provisionedStatus?: string;
  provisionedModifiedAt?: string;
}

export interface AccountConcurrency {
  limit: number;
  unreserved: number;
}

function isNotFound(err: unknown): boolean {
  const name = (err as { name?: string }).name ?? '';
  return name === 'ResourceNotFoundException' || name === 'ProvisionedConcurrencyConfigNotFoundException';
}

export async function functionExists(lambda: LambdaClient, name: string): Promise<boolean> {
  try {
    await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

export async function requireFunction(lambda: LambdaClient, name: string): Promise<void> {
  if (!(await functionExists(lambda, name))) throw new UnknownFunctionError(name);
}

export async function accountConcurrency(lambda: LambdaClient): Promise<AccountConcurrency> {
  const out = await lambda.send(new GetAccountSettingsCommand({}));
  return {
    limit: out.AccountLimit?.ConcurrentExecutions ?? 1000,
    unreserved: out.AccountLimit?.UnreservedConcurrentExecutions ?? 1000,
  };
}

export async function getConcurrency(lambda: LambdaClient, name: string, alias: string): Promise<FunctionConcurrency> {
  const base: FunctionConcurrency = {
    function: name,
    exists: true,
    reserved: null,
    provisioned: null,
    provisionedAllocated: null,
  };
  try {
    const r = await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: name }));
    base.reserved = r.ReservedConcurrentExecutions ?? null;
  } catch (err) {
    if (isNotFound(err)) return { ...base, exists: false };
    throw err;
  }
  try {
    const p = await lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: name, Qualifier: alias }));
    base.provisioned = p.RequestedProvisionedConcurrentExecutions ?? null;
    base.provisionedAllocated = p.AllocatedProvisionedConcurrentExecutions ?? null;
    base.provisionedStatus = p.Status;
    base.provisionedModifiedAt = p.LastModified;
  } catch (err) {
    // No config (or no alias yet): no provisioned concurrency.
    if (!isNotFound(err)) throw err;
  }
  return base;
}

export function checkCount(flag: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} must be a non-negative integer (got ${n})`);
}

/** Pure: the refusal for reserving `n` on a function currently reserving `current`, or undefined. */
export function reservedRefusal(
  fn: string,
  n: number,
  current: number | null,
  provisioned: number | null,
  account: AccountConcurrency,
): string | undefined {
  const allowed = account.unreserved + (current ?? 0) - MIN_UNRESERVED;
  if (n > allowed) {
    return (
      `cannot reserve ${n} for ${fn}: the account allows ${account.limit} concurrent executions, ` +
      `${account.unreserved} are unreserved now and ${MIN_UNRESERVED} must stay unreserved, so at most ${Math.max(0, allowed)}`
    );
  }
  if (provisioned !== null && n < provisioned) {
    return `cannot reserve ${n} for ${fn}: below its provisioned concurrency ${provisioned} (lower that first)`;
  }
  return undefined;
}

/** Pure: the refusal for provisioning `n`, or undefined. */
export function provisionedRefusal(
  fn: string,
  n: number,
  reserved: number | null,
  currentProvisioned: number | null,
  account: AccountConcurrency,
): string | undefined {
  if (reserved !== null && n > reserved) {
    return `cannot provision ${n} for ${fn}: above its reserved concurrency ${reserved} (raise that first)`;
  }
  const allowed = account.unreserved + (currentProvisioned ?? 0) - MIN_UNRESERVED;
  if (reserved === null && n > allowed) {
    return `cannot provision ${n} for ${fn}: only ${Math.max(0, allowed)} of the account's unreserved concurrency may be used (${MIN_UNRESERVED} must stay free)`;
  }
  return undefined;
}

export async function setReserved(lambda: LambdaClient, fn: string, n: number | null, alias: string): Promise<void> {
  const cur = await getConcurrency(lambda, fn, alias);
  if (!cur.exists) throw new UnknownFunctionError(fn);
  if (n === null) {
    await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: fn }));
    return;
  }
  checkCount('--reserved', n);
  const refusal = reservedRefusal(fn, n, cur.reserved, cur.provisioned, await accountConcurrency(lambda));
  if (refusal) throw new ScaleRefusedError(refusal);
  await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: fn, ReservedConcurrentExecutions: n }));
}

export async function setProvisioned(lambda: LambdaClient, fn: string, n: number, alias: string): Promise<void> {
  checkCount('--provisioned', n);
  const cur = await getConcurrency(lambda, fn, alias);
  if (!cur.exists) throw new UnknownFunctionError(fn);
  if (n === 0) {
    if (cur.provisioned !== null) {
      await lambda.send(new DeleteProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: alias }));
    }
    return;
  }
  const refusal = provisionedRefusal(fn, n, cur.reserved, cur.provisioned, await accountConcurrency(lambda));
  if (refusal) throw new ScaleRefusedError(refusal);
  try {
    await lambda.send(
      new PutProvisionedConcurrencyConfigCommand({
        FunctionName: fn,
        Qualifier: alias,
        ProvisionedConcurrentExecutions: n,
      }),
    );
  } catch (err) {
    if (isNotFound(err)) {
      throw new ScaleRefusedError(`cannot provision ${fn}: it has no alias "${alias}" (deploy publishes it)`, {
        cause: err,
      });
    }
    throw err;
  }
}

/**
 * Waits until provisioned concurrency on `fn:alias` is READY (allocation runs in the background after
 * PutProvisionedConcurrencyConfig or after the alias moves to a new version: Status IN_PROGRESS → READY, or FAILED
 * with a reason; Lambda developer guide, "Configuring provisioned concurrency"). Returns 'none' when the alias has no
 * configuration: AWS's 404 (ProvisionedConcurrencyConfigNotFoundException, ResourceNotFoundException), or a 404 from
 * an endpoint without this API (moto answers with an HTML page the SDK cannot parse). Throws Error on FAILED (with
 * AWS's reason) or when not READY within `timeoutMs` (default 10 minutes).
 */
export async function waitProvisionedReady(
  lambda: LambdaClient,
  fn: string,
  alias: string,
  opts: { timeoutMs?: number; pollMs?: number } = {},
): Promise<'none' | 'ready'> {
  const timeoutMs = opts.timeoutMs ?? 10 * 60_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let status: string | undefined;
    let reason: string | undefined;
    try {
      const c = await lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: alias }));
      status = c.Status;
      reason = c.StatusReason;
    } catch (err) {
      if (isNotFound(err)) return 'none';
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return 'none';
      throw err;
    }
    if (status === 'READY') return 'ready';
    if (status === 'FAILED') throw new Error(`provisioned concurrency failed: ${reason ?? 'no reason given'}`);
    if (Date.now() > deadline) throw new Error(`provisioned concurrency not READY within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 500));
  }
}
