/**
 * The functions registry: definitions, published versions, aliases and per-function settings (reserved concurrency,
 * provisioned concurrency requests, event invoke configs). Follows Lambda's model: `$LATEST` is mutable, PublishVersion
 * snapshots it as an immutable numbered version (returning the newest version when nothing changed since), an alias
 * points at a version. Each function is one durable JSON file, `<state>/lambda/functions/<name>.json`, written on every
 * change, so definitions survive an emulator restart.
 */
import { join } from 'node:path';
import { functionArn } from './arns.ts';
import { ResourceConflictError, ResourceNotFoundError } from './errors.ts';
import { readJsonDir, removeFile, writeJsonDurable } from './persist.ts';

/** What FunctionConfiguration returns, for `$LATEST` or a published version. */
export interface FunctionConfig {
  FunctionName: string;
  FunctionArn: string;
  Runtime: string;
  Role: string;
  Handler: string;
  CodeSize: number;
  Description: string;
  Timeout: number;
  MemorySize: number;
  LastModified: string;
  CodeSha256: string;
  Version: string;
  Environment?: { Variables: Record<string, string> };
  DeadLetterConfig?: { TargetArn?: string };
  RevisionId: string;
  State: 'Active';
  LastUpdateStatus: 'Successful';
  PackageType: 'Zip';
  Architectures: string[];
  EphemeralStorage: { Size: number };
  TracingConfig: { Mode: string };
  LoggingConfig: { LogFormat: string; LogGroup: string };
}

export interface AliasConfig {
  AliasArn: string;
  Name: string;
  FunctionVersion: string;
  Description: string;
  RevisionId: string;
  /** A weighted alias: this share (0–1) of invocations runs the other version. */
  RoutingConfig?: { AdditionalVersionWeights?: Record<string, number> };
}

export interface EventInvokeConfig {
  MaximumRetryAttempts?: number;
  MaximumEventAgeInSeconds?: number;
  DestinationConfig?: { OnSuccess?: { Destination?: string }; OnFailure?: { Destination?: string } };
  LastModified: number;
}

export interface FunctionRecord {
  name: string;
  latest: FunctionConfig;
  versions: Record<string, FunctionConfig>;
  nextVersion: number;
  aliases: Record<string, AliasConfig>;
  reservedConcurrency?: number;
  /** Requested provisioned concurrency per qualifier (version number or alias name). */
  provisioned: Record<string, { requested: number; lastModified: string }>;
  eventInvokeConfigs: Record<string, EventInvokeConfig>;
}

/** A function resolved from a (name, qualifier) pair to the configuration that runs. */
export interface Resolved {
  record: FunctionRecord;
  /** `$LATEST` or a version number. */
  version: string;
  alias?: string;
  /** The qualifier as asked (alias name, version or `$LATEST`). */
  qualifier: string;
  config: FunctionConfig;
}

export function lambdaTimestamp(d = new Date()): string {
  return d.toISOString().replace('Z', '+0000');
}

export class FunctionRegistry {
  readonly #dir: string;
  readonly #functions = new Map<string, FunctionRecord>();

  constructor(stateDir: string) {
    this.#dir = join(stateDir, 'lambda', 'functions');
    for (const rec of readJsonDir<FunctionRecord>(this.#dir)) this.#functions.set(rec.name, rec);
  }

  all(): FunctionRecord[] {
    return [...this.#functions.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  find(name: string): FunctionRecord | undefined {
    return this.#functions.get(name);
  }

  get(name: string, qualifier?: string): FunctionRecord {
    const rec = this.#functions.get(name);
    if (!rec) throw new ResourceNotFoundError(`Function not found: ${functionArn(name, qualifier)}`);
    return rec;
  }

  create(config: FunctionConfig): FunctionRecord {
    if (this.#functions.has(config.FunctionName)) {
      throw new ResourceConflictError(`Function already exist: ${config.FunctionName}`);
    }
    const rec: FunctionRecord = {
      name: config.FunctionName,
      latest: config,
      versions: {},
      nextVersion: 1,
      aliases: {},
      provisioned: {},
      eventInvokeConfigs: {},
    };
    this.#functions.set(rec.name, rec);
    this.save(rec);
    return rec;
  }

  /** Resolves a qualifier: absent or `$LATEST`, a published version, or an alias. */
  /**
   * `route`: for an invocation, the random source that picks a weighted alias's version; without it (reads such as
   * GetFunctionConfiguration) an alias resolves to its own version.
   */
  resolve(name: string, qualifier?: string, route?: () => number): Resolved {
    const record = this.get(name, qualifier);
    if (!qualifier || qualifier === '$LATEST') {
      return { record, version: '$LATEST', qualifier: '$LATEST', config: record.latest };
    }
    const v = record.versions[qualifier];
    if (v) return { record, version: qualifier, qualifier, config: v };
    const alias = record.aliases[qualifier];
    if (alias) {
      const version = route ? routedVersion(alias, route) : alias.FunctionVersion;
      const config = version === '$LATEST' ? record.latest : record.versions[version];
      if (config) return { record, version, alias: qualifier, qualifier, config };
    }
    throw new ResourceNotFoundError(`Function not found: ${functionArn(name, qualifier)}`);
  }

  /** PublishVersion: a new immutable snapshot, unless `$LATEST` equals the newest version already. */
  publish(rec: FunctionRecord, description?: string): FunctionConfig {
    const newest = rec.versions[String(rec.nextVersion - 1)];
    if (newest && newest.CodeSha256 === rec.latest.CodeSha256 && sameConfig(newest, rec.latest)) return newest;
    const version = String(rec.nextVersion++);
    const snapshot: FunctionConfig = {
      ...structuredClone(rec.latest),
      Version: version,
      FunctionArn: functionArn(rec.name, version),
      Description: description ?? rec.latest.Description,
      RevisionId: crypto.randomUUID(),
    };
    rec.versions[version] = snapshot;
    this.save(rec);
    return snapshot;
  }

  delete(name: string): void {
    this.#functions.delete(name);
    removeFile(join(this.#dir, `${name}.json`));
  }

  save(rec: FunctionRecord): void {
    writeJsonDurable(join(this.#dir, `${rec.name}.json`), rec);
  }
}

/**
 * The version an invocation of a weighted alias runs: the additional version with probability equal to its weight,
 * else the alias's own version (AWS routes each invocation independently; X-Amz-Executed-Version says which ran).
 */
export function routedVersion(alias: AliasConfig, random: () => number = Math.random): string {
  const [extra] = Object.entries(alias.RoutingConfig?.AdditionalVersionWeights ?? {});
  if (extra && random() < extra[1]) return extra[0];
  return alias.FunctionVersion;
}

function sameConfig(a: FunctionConfig, b: FunctionConfig): boolean {
  const pick = (c: FunctionConfig) =>
    JSON.stringify([c.Runtime, c.Role, c.Handler, c.Timeout, c.MemorySize, c.Environment, c.DeadLetterConfig]);
  return pick(a) === pick(b);
}
