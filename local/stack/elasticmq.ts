/**
 * ElasticMQ: SQS on loopback (AWS JSON protocol, DLQs, message move tasks). In memory, or with `storageDir` (the
 * stack's --persist) its queues (`queues-storage`, a HOCON file it rewrites on every change) and messages
 * (`messages-storage`, an H2 database; the H2 jar comes with the server's Maven dependencies) on disk. Queues are
 * created through the API by whoever needs them. The stats endpoint (port 9325 by default) is switched off so it
 * cannot collide.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Artifact } from './maven.ts';
import { spawnDetached } from './processes.ts';

export const ELASTICMQ_VERSION = '1.6.16';
export const ELASTICMQ_MAIN = 'org.elasticmq.server.Main';

export function elasticmqArtifact(version = ELASTICMQ_VERSION): Artifact {
  return { name: `elasticmq-${version}`, pom: 'elasticmq/pom.xml', properties: { 'elasticmq.version': version } };
}

export function renderElasticmqConfig(o: {
  port: number;
  host?: string;
  region?: string;
  accountId?: string;
  storageDir?: string;
}): string {
  const host = o.host ?? '127.0.0.1';
  const storage = o.storageDir
    ? [
        `queues-storage { enabled = true, path = ${JSON.stringify(join(o.storageDir, 'queues.conf'))} }`,
        `messages-storage { enabled = true, uri = ${JSON.stringify(`jdbc:h2:${join(o.storageDir, 'messages')}`)} }`,
      ]
    : [];
  return [
    'include classpath("application.conf")',
    '',
    `node-address { protocol = http, host = "${host}", port = ${o.port}, context-path = "" }`,
    `rest-sqs { enabled = true, bind-port = ${o.port}, bind-hostname = "${host}", sqs-limits = strict }`,
    'rest-stats { enabled = false }',
    `aws { region = "${o.region ?? 'us-east-1'}", accountId = "${o.accountId ?? '000000000000'}" }`,
    ...storage,
    '',
  ].join('\n');
}

export function startElasticmq(l: {
  java: string;
  lib: string;
  dir: string;
  log: string;
  port: number;
  persist?: boolean;
}) {
  mkdirSync(l.dir, { recursive: true });
  const conf = join(l.dir, 'elasticmq.conf');
  const storageDir = l.persist ? join(l.dir, 'data') : undefined;
  if (storageDir) mkdirSync(storageDir, { recursive: true });
  writeFileSync(conf, renderElasticmqConfig({ port: l.port, storageDir }));
  const args = [
    '-Xms64m',
    '-Xmx256m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    `-Dconfig.file=${conf}`,
    '-cp',
    join(l.lib, '*'),
    ELASTICMQ_MAIN,
  ];
  return spawnDetached(l.java, args, { log: l.log });
}
