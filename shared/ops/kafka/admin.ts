/** One admin connection per command, always disconnected (a dangling admin keeps the process alive). */
import type { Admin, Kafka } from 'kafkajs';
import { ServiceUnavailableError } from '../../infra/errors.ts';

export async function withAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (err) {
    throw new ServiceUnavailableError('kafka', 'cannot connect to Kafka', { cause: err });
  }
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
