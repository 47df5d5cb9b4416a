/**
 * Apache Kafka as a single KRaft node (broker + controller in one JVM), run from Maven Central jars.
 * 3.x logs through log4j 1 (reload4j binding), 4.x through log4j2: each gets its own logging config.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../shared/infra/errors.ts';
import type { Artifact } from './maven.ts';
import { runToCompletion, spawnDetached } from './processes.ts';

export const DEFAULT_KAFKA_VERSION = '3.9.1';
export const KAFKA_MAIN = 'kafka.Kafka';

export function kafkaMajor(version: string): 3 | 4 {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!m) throw new UsageError(`invalid --kafka-version "${version}": expected a full version such as 3.9.1 or 4.1.1`);
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major === 3 && minor >= 7) return 3;
  if (major === 4) return 4;
  throw new UsageError(`unsupported Kafka version ${version}: use 3.7.x–3.9.x or 4.x (KRaft single node)`);
}

export function kafkaArtifact(version: string): Artifact {
  return {
    name: `kafka-${version}`,
    pom: `kafka-${kafkaMajor(version)}/pom.xml`,
    properties: { 'kafka.version': version },
  };
}

export interface KafkaNodeOptions {
  version: string;
  port: number;
  controllerPort: number;
  dataDir: string;
  host?: string;
}

/** server.properties of a one-node cluster: replication factors 1, few offsets partitions, no auto-created topics. */
export function renderServerProperties(o: KafkaNodeOptions): string {
  const host = o.host ?? '127.0.0.1';
  const lines = [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@${host}:${o.controllerPort}`,
    `listeners=PLAINTEXT://${host}:${o.port},CONTROLLER://${host}:${o.controllerPort}`,
    `advertised.listeners=PLAINTEXT://${host}:${o.port}`,
    'inter.broker.listener.name=PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${o.dataDir}`,
    'num.partitions=1',
    'default.replication.factor=1',
    'min.insync.replicas=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=4',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=4',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=false',
    'delete.topic.enable=true',
    // Small segments and short retention checks keep a long-running dev stack small on disk.
    'log.segment.bytes=16777216',
    'log.retention.hours=24',
    'num.network.threads=2',
    'num.io.threads=2',
    'background.threads=2',
  ];
  if (kafkaMajor(o.version) === 4) {
    lines.push('share.coordinator.state.topic.replication.factor=1', 'share.coordinator.state.topic.min.isr=1');
  }
  return `${lines.join('\n')}\n`;
}

/** Console logging at INFO for Kafka itself, quieter for its chatty internals; stdout goes to the service log. */
export function renderLogConfig(version: string): { file: string; text: string; jvmFlag: (path: string) => string } {
  if (kafkaMajor(version) === 3) {
    return {
      file: 'log4j.properties',
      text: [
        'log4j.rootLogger=INFO, stdout',
        'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
        'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
        'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
        'log4j.logger.kafka=INFO',
        'log4j.logger.org.apache.kafka=INFO',
        'log4j.logger.kafka.log.LogCleaner=WARN',
        'log4j.logger.state.change.logger=WARN',
        'log4j.logger.kafka.request.logger=WARN',
        '',
      ].join('\n'),
      jvmFlag: (p) => `-Dlog4j.configuration=file:${p}`,
    };
  }
  return {
    file: 'log4j2.properties',
    text: [
      'status=warn',
      'appender.console.type=Console',
      'appender.console.name=STDOUT',
      'appender.console.layout.type=PatternLayout',
      'appender.console.layout.pattern=[%d] %p %m (%c)%n',
      'rootLogger.level=INFO',
      'rootLogger.appenderRef.stdout.ref=STDOUT',
      'logger.cleaner.name=kafka.log.LogCleaner',
      'logger.cleaner.level=WARN',
      'logger.state.name=state.change.logger',
      'logger.state.level=WARN',
      '',
    ].join('\n'),
    jvmFlag: (p) => `-Dlog4j2.configurationFile=${p}`,
  };
}

/** A KRaft cluster id: 16 random bytes, URL-safe base64 without padding, as kafka-storage random-uuid prints. */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export const JVM_HEAP = ['-Xms256m', '-Xmx512m'];

export interface KafkaLaunch {
  java: string;
  lib: string;
  /** Directory holding this service's config files and data. */
  dir: string;
  log: string;
  options: KafkaNodeOptions;
}

function javaArgs(l: KafkaLaunch, main: string, extra: string[]): string[] {
  const logConfig = renderLogConfig(l.options.version);
  const logPath = join(l.dir, logConfig.file);
  writeFileSync(logPath, logConfig.text);
  const userOpts = (process.env.QUAKECTL_KAFKA_JAVA_OPTS ?? '').split(/\s+/).filter(Boolean);
  return [
    ...JVM_HEAP,
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-Djava.awt.headless=true',
    logConfig.jvmFlag(logPath),
    ...userOpts,
    '-cp',
    join(l.lib, '*'),
    main,
    ...extra,
  ];
}

/**
 * Writes the configs, formats the storage when it is not formatted yet, then starts the node detached. Formatting is
 * a separate short JVM run, awaited. An existing formatted data dir is kept, so a killed broker restarted by
 * `local up` comes back with its topics and offsets; the stack wipes the data dir itself when it must start empty
 * (`down` and a fresh `up` without --persist, see stack.ts).
 */
export async function startKafka(l: KafkaLaunch): Promise<{ pid: number; exited: Promise<number | null> }> {
  mkdirSync(l.dir, { recursive: true });
  const props = join(l.dir, 'server.properties');
  writeFileSync(props, renderServerProperties(l.options));
  if (!existsSync(join(l.options.dataDir, 'meta.properties'))) {
    rmSync(l.options.dataDir, { recursive: true, force: true });
    const code = await runToCompletion(
      l.java,
      javaArgs(l, 'kafka.tools.StorageTool', ['format', '-t', newClusterId(), '-c', props]),
      { log: l.log },
    );
    if (code !== 0) throw new Error(`kafka storage format failed (exit ${code}); see ${l.log}`);
  }
  return spawnDetached(l.java, javaArgs(l, KAFKA_MAIN, [props]), { log: l.log });
}
