/**
 * Fan-out parallelism P, maxSegmentSize and the expected rate at run time. The functions read them from
 * `QUAKECTL_FANOUT` (JSON of FanoutSettings, parsed by shared/infra/function-env.ts), which `deploy` sets from the
 * profile. `scale set` changes that variable on every deployed function that has it (read-modify-write of the whole
 * environment: UpdateFunctionConfiguration replaces it) and then makes it the one that runs: a version is published
 * and the alias (`live`, what every caller invokes) moved to it, as deploy does; provisioned concurrency follows the
 * alias to the new version (Lambda developer guide, "Configuring provisioned concurrency"), and the change waits until
 * it is READY again. The profile stays the deployed baseline: a later deploy writes the profile's values back.
 */
import {
  GetAliasCommand,
  GetFunctionConfigurationCommand,
  type LambdaClient,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import type { FanoutSettings } from '../infra/config.ts';
import { FUNCTION_ROLES, type ResourceNames } from '../infra/names.ts';
import { waitProvisionedReady } from './concurrency.ts';

export interface FunctionFanout {
  function: string;
  fanout: Partial<FanoutSettings>;
}

/**
 * Deployed functions and the QUAKECTL_FANOUT each one runs with: its alias's version (`names.alias`), or `$LATEST`
 * for a function without the alias. Missing functions are left out.
 */
export async function readFanout(lambda: LambdaClient, names: ResourceNames): Promise<FunctionFanout[]> {
  const out: FunctionFanout[] = [];
  for (const role of FUNCTION_ROLES) {
    const fn = names.function(role);
    try {
      const c = await lambda
        .send(new GetFunctionConfigurationCommand({ FunctionName: fn, Qualifier: names.alias }))
        .catch((err: Error) => {
          if (err.name !== 'ResourceNotFoundException') throw err;
          return lambda.send(new GetFunctionConfigurationCommand({ FunctionName: fn }));
        });
      const raw = c.Environment?.Variables?.QUAKECTL_FANOUT;
      out.push({ function: fn, fanout: raw ? (JSON.parse(raw) as Partial<FanoutSettings>) : {} });
    } catch (err) {
      if ((err as { name?: string }).name !== 'ResourceNotFoundException') throw err;
    }
  }
  return out;
}

/** The effective settings: the consumer's (it starts the chains), else the profile's. */
export function effectiveFanout(fns: FunctionFanout[], names: ResourceNames, profile: FanoutSettings): FanoutSettings {
  const consumer = fns.find((f) => f.function === names.function('consumer'));
  return { ...profile, ...(consumer?.fanout ?? {}) };
}

export async function updateFanout(
  lambda: LambdaClient,
  names: ResourceNames,
  profile: FanoutSettings,
  patch: Partial<FanoutSettings>,
): Promise<string[]> {
  const changed: string[] = [];
  for (const f of await readFanout(lambda, names)) {
    const cfg = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: f.function }));
    const vars = { ...(cfg.Environment?.Variables ?? {}) };
    const next = { ...profile, ...f.fanout, ...patch };
    vars.QUAKECTL_FANOUT = JSON.stringify(next);
    await waitUpdated(lambda, f.function);
    await lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: f.function, Environment: { Variables: vars } }),
    );
    await waitUpdated(lambda, f.function);
    await publishToAlias(lambda, f.function, names.alias);
    changed.push(f.function);
  }
  return changed;
}

/**
 * Publishes `$LATEST` as a version and moves `alias` to it (no alias: `$LATEST` is what runs, nothing to move); with
 * provisioned concurrency on the alias, waits until it is READY on the new version (throws on FAILED or after
 * `timeoutMs`). CodeSha256 guards against publishing code that changed meanwhile (PublishVersion, Lambda API reference).
 */
async function publishToAlias(lambda: LambdaClient, fn: string, alias: string, timeoutMs = 10 * 60_000) {
  try {
    await lambda.send(new GetAliasCommand({ FunctionName: fn, Name: alias }));
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException') return;
    throw err;
  }
  const latest = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: fn }));
  const v = await lambda.send(new PublishVersionCommand({ FunctionName: fn, CodeSha256: latest.CodeSha256 }));
  await lambda.send(new UpdateAliasCommand({ FunctionName: fn, Name: alias, FunctionVersion: v.Version }));
  try {
    await waitProvisionedReady(lambda, fn, alias, { timeoutMs });
  } catch (err) {
    throw new Error(`${fn}:${alias}: ${(err as Error).message}`, { cause: err });
  }
}

/** AWS refuses a configuration update while the previous one is in progress (ResourceConflictException). */
async function waitUpdated(lambda: LambdaClient, fn: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: fn }));
    if (c.LastUpdateStatus !== 'InProgress') return;
    if (Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}
