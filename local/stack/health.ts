/**
 * Health = a real answer to a real request, through the same clients the rest of quakectl uses: Kafka cluster
 * metadata (kafkajs admin), SQS ListQueues, DynamoDB ListTables, Lambda GetAccountSettings, moto: Secrets Manager
 * ListSecrets, the CAP feed's /health.
 */
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetAccountSettingsCommand } from '@aws-sdk/client-lambda';
import { ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import {
  type Clients,
  createClients,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  motoEndpoints,
} from '../../shared/infra/clients.ts';
import { configFileSchema } from '../../shared/infra/config.ts';
import { resourceNames } from '../../shared/infra/names.ts';
import type { StackState } from '../../shared/infra/stack-state.ts';
import { isListening } from './ports.ts';

export type ServiceName = 'kafka' | 'sqs' | 'dynamodb' | 'lambda' | 'moto' | 'cap';

/** Clients for the stack described by `state`, the same way the `local` profile builds them. */
export function stackClients(state: StackState): Clients {
  const defaults = configFileSchema.parse({ profiles: { local: { type: 'local' } } }).profiles.local;
  return createClients({
    region: LOCAL_REGION,
    endpoints: {
      sqs: state.sqs.endpoint,
      dynamodb: state.dynamodb.endpoint,
      lambda: state.lambda?.endpoint,
      ...motoEndpoints(state.moto?.endpoint),
    },
    credentials: LOCAL_CREDENTIALS,
    kafka: { brokers: state.kafka.brokers, ssl: false, clientId: 'quakectl-local' },
    names: resourceNames(defaults.prefix),
    fanout: defaults.fanout,
    allowPrivateTargets: true,
    local: true,
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export async function probe(service: ServiceName, state: StackState, clients: Clients, timeoutMs = 3000) {
  const opts = { abortSignal: AbortSignal.timeout(timeoutMs) };
  switch (service) {
    case 'kafka': {
      // A cheap TCP check first: kafkajs retries a refused connection for seconds.
      if (!(await isListening(state.kafka.port))) throw new Error('not listening');
      const admin = clients.kafka.admin();
      try {
        await withTimeout(
          (async () => {
            await admin.connect();
            const cluster = await admin.describeCluster();
            if (cluster.brokers.length === 0) throw new Error('no broker in metadata');
          })(),
          timeoutMs,
        );
      } finally {
        await admin.disconnect().catch(() => {});
      }
      return;
    }
    case 'sqs':
      await clients.sqs.send(new ListQueuesCommand({}), opts);
      return;
    case 'dynamodb':
      await clients.dynamodb.send(new ListTablesCommand({}), opts);
      return;
    case 'lambda':
      if (!state.lambda) throw new Error('not configured');
      await clients.lambda.send(new GetAccountSettingsCommand({}), opts);
      return;
    case 'moto':
      if (!state.moto) throw new Error('not configured');
      await (await clients.secretsmanager()).send(new ListSecretsCommand({}), opts);
      return;
    case 'cap': {
      if (!state.cap) throw new Error('not configured');
      const r = await fetch(`${state.cap.endpoint}/health`, { signal: opts.abortSignal });
      const body = (await r.json()) as { service?: string };
      if (!r.ok || body.service !== 'cap') throw new Error(`answered ${r.status}`);
      return;
    }
  }
}

export async function isHealthy(service: ServiceName, state: StackState, clients: Clients, timeoutMs = 3000) {
  try {
    await probe(service, state, clients, timeoutMs);
    return true;
  } catch {
    return false;
  }
}
