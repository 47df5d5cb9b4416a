/**
 * Entry of the local Lambda emulator, started by `quakectl local up` as a detached process whose stdout/stderr the
 * launcher redirects to a log file:
 *
 *   node local/lambda/main.ts --port P --state-dir DIR --sqs-endpoint URL --dynamodb-endpoint URL \
 *     --kafka-brokers HOST:PORT[,HOST:PORT] [--time-scale X] [--account-concurrency N]
 *
 * Ready when GetAccountSettings (GET /2016-08-19/account-settings) answers. SIGTERM/SIGINT close it cleanly: pollers
 * stop and leave their Kafka groups, execution environments are killed, accepted async events stay on disk.
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../../shared/infra/errors.ts';
import { startEmulator } from './emulator.ts';

function numberOption(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number, got ${raw}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      'state-dir': { type: 'string' },
      'sqs-endpoint': { type: 'string' },
      'dynamodb-endpoint': { type: 'string' },
      'kafka-brokers': { type: 'string' },
      'time-scale': { type: 'string' },
      'account-concurrency': { type: 'string' },
    },
    strict: true,
  });
  if (!values['state-dir']) throw new UsageError('--state-dir is required');
  const emulator = await startEmulator({
    port: Number(values.port),
    host: values.host,
    stateDir: values['state-dir'],
    sqsEndpoint: values['sqs-endpoint'],
    dynamodbEndpoint: values['dynamodb-endpoint'],
    kafkaBrokers: values['kafka-brokers']?.split(',').filter(Boolean),
    timeScale: numberOption('time-scale', values['time-scale'], 1),
    accountConcurrency: numberOption('account-concurrency', values['account-concurrency'], 1000),
  });
  console.log(`${new Date().toISOString()} lambda emulator listening on ${emulator.endpoint} (pid ${process.pid})`);
  const stop = (signal: string) => {
    console.log(`${new Date().toISOString()} lambda emulator: ${signal}, closing`);
    emulator.close().then(
      () => process.exit(0),
      (err) => {
        console.error('lambda emulator: close failed', err);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((err) => {
  console.error(`lambda emulator: ${(err as Error).message}`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
