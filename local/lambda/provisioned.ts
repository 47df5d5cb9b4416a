/**
 * Provisioned concurrency, as Lambda runs it: a config on a published version or an alias (never `$LATEST`), answered
 * 202 with Status IN_PROGRESS while the environments initialise, then READY with Allocated = Available = Requested
 * (FAILED with a StatusReason if initialisation fails). An alias's config follows the alias when it moves to another
 * version. Requested configs are persisted with the function and re-provisioned when the emulator starts.
 */
import { functionArn } from './arns.ts';
import type { CodeStore } from './code-store.ts';
import type { Concurrency } from './concurrency.ts';
import type { EnvironmentPool } from './environment-pool.ts';
import { InvalidParameterValueError, ProvisionedConcurrencyConfigNotFoundError, ValidationError } from './errors.ts';
import { type FunctionRecord, type FunctionRegistry, lambdaTimestamp } from './registry.ts';

type Status = 'IN_PROGRESS' | 'READY' | 'FAILED';

export class Provisioned {
  readonly #registry: FunctionRegistry;
  readonly #pool: EnvironmentPool;
  readonly #code: CodeStore;
  readonly #concurrency: Concurrency;
  readonly #status = new Map<string, { status: Status; reason?: string; generation: number }>();

  constructor(deps: { registry: FunctionRegistry; pool: EnvironmentPool; code: CodeStore; concurrency: Concurrency }) {
    this.#registry = deps.registry;
    this.#pool = deps.pool;
    this.#code = deps.code;
    this.#concurrency = deps.concurrency;
  }

  /** Re-provisions every persisted config (emulator start). */
  restore(): void {
    for (const rec of this.#registry.all()) {
      for (const q of Object.keys(rec.provisioned)) this.#start(rec, q);
    }
  }

  put(rec: FunctionRecord, qualifier: string | undefined, requested: number) {
    if (!qualifier || qualifier === '$LATEST') {
      throw new InvalidParameterValueError(
        'Provisioned Concurrency Configs cannot be applied to unpublished function versions.',
      );
    }
    this.#registry.resolve(rec.name, qualifier);
    if (!Number.isInteger(requested) || requested < 1) {
      throw new ValidationError(
        `1 validation error detected: Value '${requested}' at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 1`,
      );
    }
    const reserved = this.#concurrency.reserved(rec.name);
    const othersOnFunction = Object.entries(rec.provisioned)
      .filter(([q]) => q !== qualifier)
      .reduce((t, [, p]) => t + p.requested, 0);
    if (reserved !== undefined && othersOnFunction + requested > reserved) {
      throw new InvalidParameterValueError(
        'Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function',
      );
    }
    rec.provisioned[qualifier] = { requested, lastModified: lambdaTimestamp() };
    this.#registry.save(rec);
    this.#start(rec, qualifier);
    return this.describe(rec, qualifier);
  }

  #owner(rec: FunctionRecord, qualifier: string): string {
    return `${rec.name}:${qualifier}`;
  }

  #start(rec: FunctionRecord, qualifier: string): void {
    const owner = this.#owner(rec, qualifier);
    const generation = (this.#status.get(owner)?.generation ?? 0) + 1;
    this.#status.set(owner, { status: 'IN_PROGRESS', generation });
    const cfg = rec.provisioned[qualifier];
    const target = this.#registry.resolve(rec.name, qualifier);
    this.#pool.unprovision(owner);
    this.#pool
      .provision(
        {
          functionName: rec.name,
          version: target.version,
          config: target.config,
          taskRoot: this.#code.taskRoot(target.config.CodeSha256),
        },
        owner,
        cfg.requested,
      )
      .then(() => {
        const s = this.#status.get(owner);
        if (s?.generation !== generation) return;
        const ready = this.#pool.provisionedReady(owner);
        this.#status.set(
          owner,
          ready >= cfg.requested
            ? { status: 'READY', generation }
            : {
                status: 'FAILED',
                reason: 'FUNCTION_ERROR_INIT_FAILURE: the function failed to initialise',
                generation,
              },
        );
      });
  }

  describe(rec: FunctionRecord, qualifier: string | undefined) {
    const cfg = qualifier ? rec.provisioned[qualifier] : undefined;
    if (!qualifier || !cfg)
      throw new ProvisionedConcurrencyConfigNotFoundError('No Provisioned Concurrency Config found for this function');
    const s: { status: Status; reason?: string } = this.#status.get(this.#owner(rec, qualifier)) ?? {
      status: 'IN_PROGRESS',
    };
    const available =
      s.status === 'READY'
        ? cfg.requested
        : Math.min(cfg.requested, this.#pool.provisionedReady(this.#owner(rec, qualifier)));
    return {
      RequestedProvisionedConcurrentExecutions: cfg.requested,
      AvailableProvisionedConcurrentExecutions: available,
      AllocatedProvisionedConcurrentExecutions: available,
      Status: s.status,
      ...(s.reason ? { StatusReason: s.reason } : {}),
      LastModified: cfg.lastModified,
    };
  }

  list(rec: FunctionRecord) {
    return Object.keys(rec.provisioned).map((q) => ({
      FunctionArn: functionArn(rec.name, q),
      ...this.describe(rec, q),
    }));
  }

  delete(rec: FunctionRecord, qualifier: string | undefined): void {
    if (!qualifier || !rec.provisioned[qualifier]) {
      throw new ProvisionedConcurrencyConfigNotFoundError('No Provisioned Concurrency Config found for this function');
    }
    delete rec.provisioned[qualifier];
    this.#registry.save(rec);
    const owner = this.#owner(rec, qualifier);
    this.#status.delete(owner);
    this.#pool.unprovision(owner);
  }

  aliasMoved(rec: FunctionRecord, alias: string): void {
    if (rec.provisioned[alias]) this.#start(rec, alias);
  }

  dropFunction(rec: FunctionRecord): void {
    for (const q of Object.keys(rec.provisioned)) {
      const owner = this.#owner(rec, q);
      this.#status.delete(owner);
      this.#pool.unprovision(owner);
    }
  }
}
