/**
 * `quakectl local up | down | status | fetch` as plain functions (the CLI only parses flags and prints). The stack's
 * contract with everything else is `<stateDir>/stack.json` (shared/infra/stack-state.ts).
 *
 * up: per service, a healthy process we started is kept; anything else is (re)started. Kafka, ElasticMQ and dynalite
 * start in parallel with the CAP feed (local/cap-server.ts, serving `<stateDir>/cap`) and moto (SNS, SES v2, Secrets
 * Manager; optional: without Python the rest still starts); the Lambda emulator starts once
 * SQS and DynamoDB answer. Each is healthy only when it answers a real request. If one fails, the processes this call started are stopped again.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clients } from '../../shared/infra/clients.ts';
import { PrerequisiteError, QuakectlError, UsageError } from '../../shared/infra/errors.ts';
import { readStackState, type StackState, stackStatePath } from '../../shared/infra/stack-state.ts';
import { ELASTICMQ_MAIN, elasticmqArtifact, startElasticmq } from './elasticmq.ts';
import { isHealthy, type ServiceName, stackClients } from './health.ts';
import { DEFAULT_KAFKA_VERSION, KAFKA_MAIN, kafkaArtifact, kafkaMajor, startKafka } from './kafka.ts';
import { withStateLock } from './lock.ts';
import { type Artifact, ensureArtifact } from './maven.ts';
import { ensurePythonEnv, MOTO_MAIN, spawnMotoServer } from './moto.ts';
import {
  CAP_SERVER_MAIN,
  LAMBDA_MAIN,
  lambdaEmulatorAvailable,
  startCapServer,
  startDynalite,
  startLambda,
} from './node-services.ts';
import { isPortFree, LOCAL_HOST, parsePort, sleep, waitPortsFree } from './ports.ts';
import { requireJava } from './prereqs.ts';
import { isOurs, type Spawned, stopGroup } from './processes.ts';

export const SERVICES: ServiceName[] = ['kafka', 'sqs', 'dynamodb', 'lambda', 'moto', 'cap'];

export interface Ports {
  kafka: number;
  kafkaController: number;
  sqs: number;
  dynamodb: number;
  lambda: number;
  /** moto server (SNS, SES v2, Secrets Manager). */
  moto: number;
  cap: number;
}

export const DEFAULT_PORTS: Ports = {
  kafka: 19092,
  kafkaController: 19093,
  sqs: 19324,
  dynamodb: 18000,
  lambda: 19001,
  moto: 19500,
  cap: 19090,
};

const PORT_ENV: Record<keyof Ports, string> = {
  kafka: 'QUAKECTL_KAFKA_PORT',
  kafkaController: 'QUAKECTL_KAFKA_CONTROLLER_PORT',
  sqs: 'QUAKECTL_SQS_PORT',
  dynamodb: 'QUAKECTL_DYNAMODB_PORT',
  lambda: 'QUAKECTL_LAMBDA_PORT',
  moto: 'QUAKECTL_MOTO_PORT',
  cap: 'QUAKECTL_CAP_PORT',
};

/** Ports from flags, then QUAKECTL_*_PORT, then the defaults (which avoid Kafka's, ElasticMQ's and DynamoDB's). */
export function resolvePorts(flags: Partial<Record<keyof Ports, string | number>>, env = process.env): Ports {
  const out = { ...DEFAULT_PORTS };
  for (const key of Object.keys(DEFAULT_PORTS) as Array<keyof Ports>) {
    try {
      const v = parsePort(flags[key], `--${kebab(key)}-port`) ?? parsePort(env[PORT_ENV[key]], PORT_ENV[key]);
      if (v !== undefined) out[key] = v;
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const values = Object.values(out);
  if (new Set(values).size !== values.length) throw new UsageError(`ports must differ: ${JSON.stringify(out)}`);
  return out;
}

function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`).replace(/-port$/, '');
}

/** stack.json as `local up` writes it: the shared contract plus what `down` needs. */
export interface LocalStackState extends StackState {
  kafka: StackState['kafka'] & { version: string; controllerPort: number };
  stateDir: string;
  persist: boolean;
}

/** What `up -o json` and `status -o json` print. */
export interface StackView {
  kafka: { brokers: string[]; healthy: boolean };
  sqs: { endpoint: string; healthy: boolean };
  dynamodb: { endpoint: string; healthy: boolean };
  lambda?: { endpoint: string; healthy: boolean };
  moto?: { endpoint: string; healthy: boolean };
  /** The CAP feed: `feed` is the default system's Atom index. */
  cap?: { endpoint: string; feed: string; dir: string; healthy: boolean };
}

export function stackView(state: StackState, health: Partial<Record<ServiceName, boolean>>): StackView {
  const view: StackView = {
    kafka: { brokers: state.kafka.brokers, healthy: Boolean(health.kafka) },
    sqs: { endpoint: state.sqs.endpoint, healthy: Boolean(health.sqs) },
    dynamodb: { endpoint: state.dynamodb.endpoint, healthy: Boolean(health.dynamodb) },
  };
  if (state.lambda) view.lambda = { endpoint: state.lambda.endpoint, healthy: Boolean(health.lambda) };
  if (state.moto) view.moto = { endpoint: state.moto.endpoint, healthy: Boolean(health.moto) };
  if (state.cap) {
    const { endpoint, dir } = state.cap;
    view.cap = { endpoint, feed: `${endpoint}/cap/index.atom`, dir, healthy: Boolean(health.cap) };
  }
  return view;
}

export function plannedState(o: {
  stateDir: string;
  ports: Ports;
  kafkaVersion: string;
  persist: boolean;
  lambda: boolean;
  /** Default true: moto for the sms/email channels and channel secrets. */
  moto?: boolean;
}): LocalStackState {
  const logs = join(o.stateDir, 'logs');
  const url = (port: number) => `http://${LOCAL_HOST}:${port}`;
  const state: LocalStackState = {
    kafka: {
      port: o.ports.kafka,
      controllerPort: o.ports.kafkaController,
      brokers: [`${LOCAL_HOST}:${o.ports.kafka}`],
      version: o.kafkaVersion,
      log: join(logs, 'kafka.log'),
    },
    sqs: { port: o.ports.sqs, endpoint: url(o.ports.sqs), log: join(logs, 'sqs.log') },
    dynamodb: { port: o.ports.dynamodb, endpoint: url(o.ports.dynamodb), log: join(logs, 'dynamodb.log') },
    stateDir: o.stateDir,
    persist: o.persist,
  };
  if (o.lambda) state.lambda = { port: o.ports.lambda, endpoint: url(o.ports.lambda), log: join(logs, 'lambda.log') };
  if (o.moto !== false) state.moto = { port: o.ports.moto, endpoint: url(o.ports.moto), log: join(logs, 'moto.log') };
  state.cap = {
    port: o.ports.cap,
    endpoint: url(o.ports.cap),
    dir: join(o.stateDir, 'cap'),
    log: join(logs, 'cap.log'),
  };
  return state;
}

/** What identifies our process in its command line (guards against a reused pid). */
function marker(service: ServiceName, state: LocalStackState): string[] {
  switch (service) {
    case 'kafka':
      return [KAFKA_MAIN, state.stateDir];
    case 'sqs':
      return [ELASTICMQ_MAIN, state.stateDir];
    case 'dynamodb':
      return ['dynalite', `--port ${state.dynamodb.port}`];
    case 'lambda':
      return [LAMBDA_MAIN, state.stateDir];
    case 'moto':
      return [MOTO_MAIN, `-p ${state.moto?.port}`];
    case 'cap':
      return [CAP_SERVER_MAIN, state.stateDir];
  }
}

function ours(service: ServiceName, state: LocalStackState): boolean {
  const s = state[service];
  return Boolean(s?.pid) && marker(service, state).every((m) => isOurs(s?.pid, m));
}

function servicePorts(service: ServiceName, state: StackState): number[] {
  if (service === 'kafka')
    return [state.kafka.port, ...(state.kafka.controllerPort ? [state.kafka.controllerPort] : [])];
  return state[service] ? [state[service].port] : [];
}

function writeState(state: LocalStackState): void {
  const p = stackStatePath(state.stateDir);
  const tmp = `${p}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  // rename is atomic: readers never see half a file
  renameSync(tmp, p);
}

export interface UpOptions {
  stateDir: string;
  cacheDir: string;
  kafkaVersion?: string;
  ports?: Partial<Record<keyof Ports, string | number>>;
  persist?: boolean;
  /** Start the Lambda emulator when local/lambda/main.ts exists (default true). */
  lambda?: boolean;
  lambdaTimeScale?: number;
  /** Services to stop and start again even if healthy (e.g. the Lambda emulator after its code changed). */
  restart?: ServiceName[];
  timeoutMs?: number;
  onProgress?: (message: string) => void;
}

export interface UpResult {
  alreadyRunning: boolean;
  started: ServiceName[];
  /** Non-fatal problems (the Lambda emulator failing to start). */
  warnings: string[];
  elapsedMs: number;
  state: LocalStackState;
  view: StackView;
}

export async function up(o: UpOptions): Promise<UpResult> {
  const t0 = Date.now();
  const timeoutMs = o.timeoutMs ?? Number(process.env.QUAKECTL_UP_TIMEOUT_MS ?? 180_000);
  mkdirSync(join(o.stateDir, 'logs'), { recursive: true });
  return withStateLock(o.stateDir, timeoutMs, async () => {
    const previous = readStackState(o.stateDir) as LocalStackState | undefined;
    const requestedVersion = o.kafkaVersion ?? previous?.kafka.version ?? DEFAULT_KAFKA_VERSION;
    kafkaMajor(requestedVersion);
    const wantLambda = (o.lambda ?? true) && lambdaEmulatorAvailable();
    const explicitPorts = Object.values(o.ports ?? {}).some((v) => v !== undefined);
    const ports =
      previous && !explicitPorts
        ? {
            kafka: previous.kafka.port,
            kafkaController: previous.kafka.controllerPort,
            sqs: previous.sqs.port,
            dynamodb: previous.dynamodb.port,
            lambda: previous.lambda?.port ?? resolvePorts({}).lambda,
            moto: previous.moto?.port ?? resolvePorts({}).moto,
            cap: previous.cap?.port ?? resolvePorts({}).cap,
          }
        : resolvePorts(o.ports ?? {});
    const state = plannedState({
      stateDir: o.stateDir,
      ports,
      kafkaVersion: requestedVersion,
      persist: o.persist ?? previous?.persist ?? false,
      lambda: wantLambda,
    });

    // Keep what already runs and answers; restart the rest.
    const keep = new Set<ServiceName>();
    if (previous) {
      const clients = stackClients(previous);
      try {
        await Promise.all(
          SERVICES.map(async (svc) => {
            const prev = previous[svc];
            if (!prev || !ours(svc, previous)) return;
            const same =
              !o.restart?.includes(svc) && (svc !== 'kafka' || previous.kafka.version === state.kafka.version);
            if (same && JSON.stringify(servicePorts(svc, previous)) === JSON.stringify(servicePorts(svc, state))) {
              // A live process of ours that is merely slow (a loaded machine, a GC pause) must not be restarted
              // under the feet of other users of the shared stack: ask a few times, patiently, before giving up.
              if (await isHealthyPatiently(svc, previous, clients)) {
                keep.add(svc);
                (state[svc] as { pid?: number }).pid = prev.pid;
                return;
              }
            }
            const why = o.restart?.includes(svc) ? 'restart' : same ? 'not healthy' : 'other version';
            o.onProgress?.(`stopping ${svc} (pid ${prev.pid}): ${why}`);
            await stopGroup(prev.pid as number);
          }),
        );
      } finally {
        clients.destroy();
      }
      // A running stack whose lambda process should not exist any more (emulator removed) is stopped too.
      if (!wantLambda && previous.lambda?.pid && ours('lambda', previous) && !keep.has('lambda')) {
        await stopGroup(previous.lambda.pid);
      }
    }
    const toStart = SERVICES.filter((s) => state[s] && !keep.has(s));
    // Persist all or none: a stack started afresh without --persist starts every part empty, so the emulator cannot
    // bring back functions and mappings whose tables, queues and topics are gone (nor a broker its old topics).
    if (!previous && !state.persist) wipePersistentState(o.stateDir);
    if (toStart.length === 0) {
      for (const s of SERVICES) if (state[s]) state[s].healthy = true;
      state.startedAt = previous?.startedAt;
      writeState(state);
      return {
        alreadyRunning: true,
        started: [],
        warnings: [],
        elapsedMs: Date.now() - t0,
        state,
        view: stackView(state, healthOf(state)),
      };
    }

    // Prerequisites before starting anything: free ports, Java, jars.
    const busy: string[] = [];
    for (const svc of toStart) {
      for (const port of servicePorts(svc, state)) if (!(await isPortFree(port))) busy.push(`${port} (${svc})`);
    }
    if (busy.length > 0) {
      throw new PrerequisiteError(
        `port${busy.length > 1 ? 's' : ''} ${busy.join(', ')} already in use by another process. Stop it, or choose ` +
          'other ports with --kafka-port/--kafka-controller-port/--sqs-port/--dynamodb-port/--lambda-port/--moto-port/' +
          '--cap-port ' +
          '(or QUAKECTL_*_PORT).',
      );
    }
    const needJava = toStart.includes('kafka') || toStart.includes('sqs');
    const java = needJava ? requireJava() : 'java';
    const fetching = (a: Artifact) => o.onProgress?.(`downloading ${a.name} with Maven into ${o.cacheDir} (once)`);
    const [kafkaLib, sqsLib] = await Promise.all([
      toStart.includes('kafka') ? ensureArtifact(o.cacheDir, kafkaArtifact(state.kafka.version), fetching) : '',
      toStart.includes('sqs') ? ensureArtifact(o.cacheDir, elasticmqArtifact(), fetching) : '',
    ]);

    const spawned = new Map<ServiceName, Spawned>();
    const warnings: string[] = [];
    // moto keeps everything in memory, always: SES identities and secrets deploy put there are gone with it.
    if (previous?.moto?.pid && toStart.includes('moto')) {
      warnings.push('moto was restarted: its SES identities and secrets are gone; run `quakectl deploy` again');
    }
    // Without --persist, ElasticMQ and dynalite keep everything in memory: one restarted alone comes back empty while
    // the functions that use it are still deployed. Say so, with the command that fixes it.
    if (previous && !state.persist) {
      for (const svc of ['sqs', 'dynamodb'] as const) {
        if (toStart.includes(svc) && previous[svc]?.pid) {
          warnings.push(
            `${svc} was restarted without --persist: its ${svc === 'sqs' ? 'queues' : 'tables'} are gone; ` +
              'run `quakectl deploy` to create them again',
          );
        }
      }
    }
    let lambdaFailed = false;
    let motoFailed = false;
    const record = (svc: ServiceName, s: Spawned) => {
      spawned.set(svc, s);
      (state[svc] as { pid?: number }).pid = s.pid;
      writeState(state);
    };
    const deadline = t0 + timeoutMs;
    try {
      writeState(state);
      const waits: Array<Promise<void>> = [];
      if (toStart.includes('sqs')) {
        record(
          'sqs',
          startElasticmq({
            java,
            lib: sqsLib,
            dir: join(o.stateDir, 'sqs'),
            log: state.sqs.log!,
            port: ports.sqs,
            persist: state.persist,
          }),
        );
      }
      if (toStart.includes('dynamodb')) {
        record(
          'dynamodb',
          startDynalite({
            log: state.dynamodb.log!,
            port: ports.dynamodb,
            dataDir: state.persist ? join(o.stateDir, 'dynamodb') : undefined,
          }),
        );
      }
      if (toStart.includes('kafka')) {
        const dir = join(o.stateDir, 'kafka');
        waits.push(
          startKafka({
            java,
            lib: kafkaLib,
            dir,
            log: state.kafka.log!,
            options: {
              version: state.kafka.version,
              port: ports.kafka,
              controllerPort: ports.kafkaController,
              dataDir: join(dir, 'data'),
            },
          }).then((s) => {
            record('kafka', s);
            return waitHealthy('kafka', state, s, deadline);
          }),
        );
      }
      if (toStart.includes('cap') && state.cap) {
        const cap = state.cap;
        record('cap', startCapServer({ log: cap.log!, port: cap.port, dir: cap.dir }));
        waits.push(waitHealthy('cap', state, spawned.get('cap'), deadline));
      }
      const base = (['sqs', 'dynamodb'] as const).map((svc) =>
        toStart.includes(svc) ? waitHealthy(svc, state, spawned.get(svc), deadline) : Promise.resolve(),
      );
      waits.push(...base);
      if (toStart.includes('lambda') && state.lambda) {
        const lambda = state.lambda;
        waits.push(
          Promise.all(base).then(() => {
            const s = startLambda({
              log: lambda.log!,
              port: lambda.port,
              // The emulator keeps its own files under <stateDir>/lambda/ (functions, code, async queue, logs).
              stateDir: o.stateDir,
              sqsEndpoint: state.sqs.endpoint,
              dynamodbEndpoint: state.dynamodb.endpoint,
              kafkaBrokers: state.kafka.brokers,
              timeScale: o.lambdaTimeScale,
            });
            record('lambda', s);
            // The emulator is optional for the rest of the stack: if it does not come up, the others stay up and
            // the failure is reported (lambda healthy: false) instead of failing the whole start.
            return waitHealthy('lambda', state, s, Math.min(deadline, Date.now() + 60_000)).catch(async (err) => {
              await stopGroup(s.pid, 3000);
              spawned.delete('lambda');
              delete lambda.pid;
              lambdaFailed = true;
              warnings.push(`lambda emulator did not start: ${(err as Error).message}`);
            });
          }),
        );
      }
      if (toStart.includes('moto') && state.moto) {
        const moto = state.moto;
        // Optional like the emulator: without Python the rest of the stack still serves; sms/email cannot be sent.
        waits.push(
          ensurePythonEnv()
            .then(async (venv) => {
              const s = spawnMotoServer({ venv, port: moto.port, log: moto.log! });
              record('moto', s);
              return waitHealthy('moto', state, s, Math.min(deadline, Date.now() + 60_000)).catch(async (err) => {
                await stopGroup(s.pid, 3000);
                spawned.delete('moto');
                throw err;
              });
            })
            .catch((err) => {
              // Not in stack.json: clients must not point at it, and the next `up` tries again.
              delete state.moto;
              motoFailed = true;
              warnings.push(
                `moto did not start (sms, email and channel secrets unavailable): ${(err as Error).message}`,
              );
            }),
        );
      }
      const results = await Promise.allSettled(waits);
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    } catch (err) {
      // Leave nothing half-started behind: stop what this call started.
      await Promise.all([...spawned.values()].map((s) => stopGroup(s.pid, 3000)));
      for (const svc of spawned.keys()) delete (state[svc] as { pid?: number }).pid;
      if (keep.size > 0) writeState(state);
      else rmSync(stackStatePath(o.stateDir), { force: true });
      throw err;
    }
    const failed = (s: ServiceName) => (s === 'lambda' && lambdaFailed) || (s === 'moto' && motoFailed);
    for (const s of SERVICES) if (state[s]) state[s].healthy = !failed(s);
    state.startedAt = new Date().toISOString();
    writeState(state);
    return {
      alreadyRunning: false,
      started: toStart.filter((s) => !failed(s)),
      warnings,
      elapsedMs: Date.now() - t0,
      state,
      view: stackView(state, healthOf(state)),
    };
  });
}

async function isHealthyPatiently(svc: ServiceName, state: StackState, clients: Clients): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await isHealthy(svc, state, clients, 5000)) return true;
    await sleep(500);
  }
  return false;
}

function healthOf(state: StackState): Record<ServiceName, boolean> {
  return {
    kafka: Boolean(state.kafka.healthy),
    sqs: Boolean(state.sqs.healthy),
    dynamodb: Boolean(state.dynamodb.healthy),
    lambda: Boolean(state.lambda?.healthy),
    moto: Boolean(state.moto?.healthy),
    cap: Boolean(state.cap?.healthy),
  };
}

async function waitHealthy(svc: ServiceName, state: StackState, proc: Spawned | undefined, deadline: number) {
  const clients = stackClients(state);
  let exitCode: number | null | undefined;
  let exited = false;
  proc?.exited.then((c) => {
    exited = true;
    exitCode = c;
  });
  try {
    for (;;) {
      if (exited) {
        throw new QuakectlError(`${svc} exited during start (code ${exitCode}); ${logTail(state[svc]?.log)}`);
      }
      if (await isHealthy(svc, state, clients, 2000)) return;
      if (Date.now() >= deadline) {
        throw new QuakectlError(`${svc} did not answer before the start timeout; ${logTail(state[svc]?.log)}`);
      }
      await sleep(200);
    }
  } finally {
    clients.destroy();
  }
}

function logTail(log: string | undefined, lines = 12): string {
  if (!log) return 'no log';
  try {
    const text = readFileSync(log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    return `last lines of ${log}:\n${text}`;
  } catch {
    return `see ${log}`;
  }
}

/**
 * What survives a restart on disk under the state dir: Kafka's log dirs, ElasticMQ's queue and message storage,
 * dynalite's tables (only written with --persist), the Lambda emulator's functions, code, event source mappings
 * and async queue (docs/lambda-emulator.md), and the CAP documents of the events in those tables. Service logs are
 * kept.
 */
export function persistentPaths(stateDir: string): string[] {
  return [
    join(stateDir, 'kafka', 'data'),
    join(stateDir, 'sqs', 'data'),
    join(stateDir, 'dynamodb'),
    join(stateDir, 'cap'),
    ...['functions', 'code', 'event-source-mappings', 'async'].map((d) => join(stateDir, 'lambda', d)),
  ];
}

function wipePersistentState(stateDir: string): void {
  for (const p of persistentPaths(stateDir)) rmSync(p, { recursive: true, force: true });
}

export interface DownResult {
  wasRunning: boolean;
  stopped: Array<{ service: ServiceName; pid: number }>;
}

export async function down(o: { stateDir: string; onProgress?: (m: string) => void }): Promise<DownResult> {
  return withStateLock(o.stateDir, 60_000, async () => {
    const state = readStackState(o.stateDir) as LocalStackState | undefined;
    if (!state) return { wasRunning: false, stopped: [] };
    state.stateDir ??= o.stateDir;
    const stopped: DownResult['stopped'] = [];
    await Promise.all(
      SERVICES.map(async (svc) => {
        const pid = state[svc]?.pid;
        if (!pid || !ours(svc, state)) return;
        o.onProgress?.(`stopping ${svc} (pid ${pid})`);
        await stopGroup(pid);
        stopped.push({ service: svc, pid });
      }),
    );
    const ports = SERVICES.flatMap((s) => servicePorts(s, state));
    const busy = await waitPortsFree(ports, 10_000);
    rmSync(stackStatePath(o.stateDir), { force: true });
    if (!state.persist) wipePersistentState(o.stateDir);
    if (busy.length > 0) {
      throw new QuakectlError(
        `stopped ${stopped.map((s) => s.service).join(', ') || 'nothing'}, but ports ${busy.join(', ')} are still in ` +
          'use by processes quakectl did not start',
      );
    }
    return { wasRunning: true, stopped };
  });
}

export interface StatusResult {
  running: boolean;
  allHealthy: boolean;
  state?: LocalStackState;
  view?: StackView;
}

export async function status(o: { stateDir: string }): Promise<StatusResult> {
  const state = readStackState(o.stateDir) as LocalStackState | undefined;
  if (!state) {
    // Same shape as a running stack (where `up` would put it), every service unhealthy.
    const planned = plannedState({
      stateDir: o.stateDir,
      ports: resolvePorts({}),
      kafkaVersion: DEFAULT_KAFKA_VERSION,
      persist: false,
      lambda: lambdaEmulatorAvailable(),
    });
    return { running: false, allHealthy: false, view: stackView(planned, {}) };
  }
  const clients = stackClients(state);
  try {
    const entries = await Promise.all(
      SERVICES.filter((s) => state[s]).map(async (s) => [s, await isHealthy(s, state, clients)] as const),
    );
    const health = Object.fromEntries(entries) as Partial<Record<ServiceName, boolean>>;
    for (const [s, h] of entries) if (state[s]) state[s].healthy = h;
    return { running: true, allHealthy: entries.every(([, h]) => h), state, view: stackView(state, health) };
  } finally {
    clients.destroy();
  }
}

/**
 * Downloads the jars for the given Kafka version and ElasticMQ into the cache, and builds moto's Python environment
 * (for offline use and CI prefetch).
 */
export async function fetchArtifacts(o: {
  cacheDir: string;
  kafkaVersion?: string;
  onProgress?: (m: string) => void;
}): Promise<string[]> {
  const artifacts = [kafkaArtifact(o.kafkaVersion ?? DEFAULT_KAFKA_VERSION), elasticmqArtifact()];
  return Promise.all([
    ...artifacts.map((a) =>
      ensureArtifact(o.cacheDir, a, (x) => o.onProgress?.(`downloading ${x.name} into ${o.cacheDir}`)),
    ),
    // moto's pinned virtual environment (scripts/python-env.sh; a no-op once built).
    ensurePythonEnv(),
  ]);
}
