/**
 * Event source mappings: their definitions (durable, `<state>/lambda/event-source-mappings/<UUID>.json`) and the
 * pollers that run them. States follow Lambda's: Create answers `Creating`, then `Enabled` (or `Disabled`); an update
 * of Enabled passes through `Enabling`/`Disabling`; Delete answers `Deleting` and removes the mapping once its poller
 * has stopped. A poller that cannot start (broker down) is retried, with the reason in LastProcessingResult.
 * Kafka: esm-kafka.ts; SQS: esm-sqs.ts.
 */
import { join } from 'node:path';
import type { Clients } from '../../shared/infra/clients.ts';
import type { Destinations } from './destinations.ts';
import { KafkaPoller } from './esm-kafka.ts';
import { SqsPoller } from './esm-sqs.ts';
import type { Invoker } from './invoker.ts';
import { readJsonDir, removeFile, writeJsonDurable } from './persist.ts';
import type { FunctionRegistry } from './registry.ts';

export interface MappingConfig {
  UUID: string;
  FunctionArn: string;
  EventSourceArn?: string;
  Topics?: string[];
  SelfManagedEventSource?: { Endpoints?: { KAFKA_BOOTSTRAP_SERVERS?: string[] } };
  SelfManagedKafkaEventSourceConfig?: { ConsumerGroupId?: string };
  StartingPosition?: string;
  BatchSize: number;
  MaximumBatchingWindowInSeconds?: number;
  DestinationConfig?: { OnFailure?: { Destination?: string }; OnSuccess?: { Destination?: string } };
  MaximumRetryAttempts?: number;
  MaximumRecordAgeInSeconds?: number;
  BisectBatchOnFunctionError?: boolean;
  FunctionResponseTypes?: string[];
  ProvisionedPollerConfig?: { MinimumPollers: number; MaximumPollers: number };
  State: string;
  StateTransitionReason: string;
  LastModified: number;
  LastProcessingResult?: string;
}

export interface Poller {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface PollerDeps {
  invoker: Invoker;
  registry: FunctionRegistry;
  destinations: Destinations;
  clients: Clients;
  timeScale: number;
}

const RESTART_MS = 5000;

export class EventSourceMappings {
  readonly #dir: string;
  readonly #deps: PollerDeps;
  readonly #mappings = new Map<string, MappingConfig>();
  readonly #pollers = new Map<string, Poller>();
  readonly #restarts = new Map<string, NodeJS.Timeout>();
  #closed = false;

  constructor(stateDir: string, deps: PollerDeps) {
    this.#dir = join(stateDir, 'lambda', 'event-source-mappings');
    this.#deps = deps;
    for (const m of readJsonDir<MappingConfig>(this.#dir)) this.#mappings.set(m.UUID, m);
  }

  restore(): void {
    for (const m of this.#mappings.values()) {
      if (m.State === 'Deleting') {
        this.#mappings.delete(m.UUID);
        removeFile(this.#path(m.UUID));
      } else if (['Enabled', 'Enabling', 'Creating', 'Updating'].includes(m.State)) {
        this.#transition(m, 'Enabled');
      } else if (m.State === 'Disabling') {
        this.#set(m, 'Disabled');
      }
    }
  }

  get(uuid: string): MappingConfig | undefined {
    return this.#mappings.get(uuid);
  }

  list(): MappingConfig[] {
    return [...this.#mappings.values()].sort((a, b) => a.LastModified - b.LastModified);
  }

  #path(uuid: string): string {
    return join(this.#dir, `${uuid}.json`);
  }

  #save(m: MappingConfig): void {
    writeJsonDurable(this.#path(m.UUID), m);
  }

  #set(m: MappingConfig, state: string): void {
    m.State = state;
    m.LastModified = Date.now() / 1000;
    this.#save(m);
  }

  add(m: MappingConfig, enabled: boolean): MappingConfig {
    this.#mappings.set(m.UUID, m);
    this.#save(m);
    const view = structuredClone(m);
    this.#transition(m, enabled ? 'Enabled' : 'Disabled');
    return view;
  }

  /** Applies an update: the poller restarts with the new settings (or stops / starts for Enabled). */
  update(m: MappingConfig, changes: Partial<MappingConfig>, enabled: boolean | undefined): MappingConfig {
    Object.assign(m, changes);
    const wasOn = m.State === 'Enabled' || m.State === 'Enabling' || m.State === 'Creating';
    const on = enabled ?? wasOn;
    this.#set(m, on === wasOn ? 'Updating' : on ? 'Enabling' : 'Disabling');
    const view = structuredClone(m);
    this.#transition(m, on ? 'Enabled' : 'Disabled');
    return view;
  }

  remove(m: MappingConfig): MappingConfig {
    this.#set(m, 'Deleting');
    const view = structuredClone(m);
    void this.#stopPoller(m.UUID).then(() => {
      this.#mappings.delete(m.UUID);
      removeFile(this.#path(m.UUID));
    });
    return view;
  }

  /** Stops any running poller, then starts one if the target state is Enabled. */
  #transition(m: MappingConfig, target: 'Enabled' | 'Disabled'): void {
    void this.#stopPoller(m.UUID).then(async () => {
      if (this.#closed || !this.#mappings.has(m.UUID) || m.State === 'Deleting') return;
      this.#set(m, target);
      if (target === 'Enabled') await this.#startPoller(m);
    });
  }

  async #startPoller(m: MappingConfig): Promise<void> {
    if (this.#closed || m.State !== 'Enabled') return;
    const poller: Poller = m.Topics?.length ? new KafkaPoller(m, this.#deps) : new SqsPoller(m, this.#deps);
    this.#pollers.set(m.UUID, poller);
    try {
      await poller.start();
      m.LastProcessingResult = 'OK';
    } catch (err) {
      m.LastProcessingResult = `PROBLEM: ${(err as Error).message}`;
      console.error(`lambda emulator: mapping ${m.UUID} could not start: ${(err as Error).message}; retrying`);
      await poller.stop().catch(() => {});
      if (this.#pollers.get(m.UUID) === poller) this.#pollers.delete(m.UUID);
      const t = setTimeout(() => {
        this.#restarts.delete(m.UUID);
        void this.#startPoller(m);
      }, RESTART_MS);
      this.#restarts.set(m.UUID, t);
    }
    if (this.#mappings.has(m.UUID)) this.#save(m);
  }

  async #stopPoller(uuid: string): Promise<void> {
    const t = this.#restarts.get(uuid);
    if (t) clearTimeout(t);
    this.#restarts.delete(uuid);
    const p = this.#pollers.get(uuid);
    this.#pollers.delete(uuid);
    await p?.stop();
  }

  /** Stops all pollers (Kafka consumers leave their groups); definitions stay on disk for the next start. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#mappings.keys()].map((u) => this.#stopPoller(u)));
  }
}
