/** Pure parts of the local stack: rendered configs, versions, ports, the JSON view. No process is started. */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderElasticmqConfig } from '../../local/stack/elasticmq.ts';
import {
  kafkaArtifact,
  kafkaMajor,
  newClusterId,
  renderLogConfig,
  renderServerProperties,
} from '../../local/stack/kafka.ts';
import { withStateLock } from '../../local/stack/lock.ts';
import { dynaliteArgs } from '../../local/stack/node-services.ts';
import { freePort, isPortFree, parsePort } from '../../local/stack/ports.ts';
import { parseJavaMajor } from '../../local/stack/prereqs.ts';
import { DEFAULT_PORTS, plannedState, resolvePorts, stackView } from '../../local/stack/stack.ts';
import { UsageError } from '../../shared/infra/errors.ts';

function props(text: string): Map<string, string> {
  return new Map(
    text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

describe('Kafka server.properties', () => {
  const base = { port: 19092, controllerPort: 19093, dataDir: '/tmp/k' };

  it('is a one-node KRaft cluster on loopback with replication 1 and no auto-created topics', () => {
    const p = props(renderServerProperties({ ...base, version: '3.9.1' }));
    expect(p.get('process.roles')).toBe('broker,controller');
    expect(p.get('controller.quorum.voters')).toBe('1@127.0.0.1:19093');
    expect(p.get('listeners')).toBe('PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093');
    expect(p.get('advertised.listeners')).toBe('PLAINTEXT://127.0.0.1:19092');
    expect(p.get('offsets.topic.replication.factor')).toBe('1');
    expect(Number(p.get('offsets.topic.num.partitions'))).toBeLessThanOrEqual(8);
    expect(p.get('group.initial.rebalance.delay.ms')).toBe('0');
    expect(p.get('auto.create.topics.enable')).toBe('false');
    expect(p.get('log.dirs')).toBe('/tmp/k');
    expect(p.has('share.coordinator.state.topic.replication.factor')).toBe(false);
  });

  it('adds the share-coordinator settings on 4.x', () => {
    const p = props(renderServerProperties({ ...base, version: '4.1.1' }));
    expect(p.get('share.coordinator.state.topic.replication.factor')).toBe('1');
    expect(p.get('share.coordinator.state.topic.min.isr')).toBe('1');
  });

  it('logs through reload4j on 3.x and log4j2 on 4.x', () => {
    expect(renderLogConfig('3.9.1').jvmFlag('/x')).toBe('-Dlog4j.configuration=file:/x');
    expect(renderLogConfig('4.1.1').jvmFlag('/x')).toBe('-Dlog4j2.configurationFile=/x');
    expect(renderLogConfig('4.1.1').text).toMatch(/rootLogger.level=INFO/);
  });
});

describe('Kafka versions', () => {
  it('maps a version to its pom and cache name', () => {
    expect(kafkaArtifact('3.9.1')).toEqual({
      name: 'kafka-3.9.1',
      pom: 'kafka-3/pom.xml',
      properties: { 'kafka.version': '3.9.1' },
    });
    expect(kafkaArtifact('4.0.0').pom).toBe('kafka-4/pom.xml');
  });

  it('rejects malformed and unsupported versions as usage errors', () => {
    expect(() => kafkaMajor('3.9')).toThrow(UsageError);
    expect(() => kafkaMajor('2.8.2')).toThrow(/unsupported/);
    expect(() => kafkaMajor('5.0.0')).toThrow(UsageError);
    expect(kafkaMajor('3.7.0')).toBe(3);
  });

  it('makes cluster ids like kafka-storage random-uuid: 22 URL-safe characters, never starting with "-"', () => {
    for (let i = 0; i < 200; i++) {
      const id = newClusterId();
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    }
  });
});

describe('ElasticMQ config', () => {
  it('binds SQS on loopback at the given port and disables the stats port', () => {
    const conf = renderElasticmqConfig({ port: 19324 });
    expect(conf).toMatch(/^include classpath\("application.conf"\)/);
    expect(conf).toMatch(/rest-sqs \{ enabled = true, bind-port = 19324, bind-hostname = "127.0.0.1"/);
    expect(conf).toMatch(/node-address \{ protocol = http, host = "127.0.0.1", port = 19324/);
    expect(conf).toMatch(/rest-stats \{ enabled = false \}/);
    expect(conf).not.toMatch(/storage/);
  });

  it('keeps queues and messages on disk only with a storage dir (--persist)', () => {
    const conf = renderElasticmqConfig({ port: 19324, storageDir: '/s/sqs/data' });
    expect(conf).toMatch(/queues-storage \{ enabled = true, path = "\/s\/sqs\/data\/queues.conf" \}/);
    expect(conf).toMatch(/messages-storage \{ enabled = true, uri = "jdbc:h2:\/s\/sqs\/data\/messages" \}/);
  });
});

describe('dynalite arguments', () => {
  it('is in memory by default and on disk with a path', () => {
    expect(dynaliteArgs({ port: 18000 })).not.toContain('--path');
    const args = dynaliteArgs({ port: 18000, dataDir: '/s/dynamodb' });
    expect(args.slice(args.indexOf('--path'))).toEqual(['--path', '/s/dynamodb']);
    expect(args.slice(args.indexOf('--port'), args.indexOf('--port') + 2)).toEqual(['--port', '18000']);
  });
});

describe('Java version parsing', () => {
  it('reads modern and 1.x version strings', () => {
    expect(parseJavaMajor('openjdk version "17.0.15" 2025-04-15')).toBe(17);
    expect(parseJavaMajor('openjdk version "21" 2023-09-19')).toBe(21);
    expect(parseJavaMajor('java version "1.8.0_392"')).toBe(8);
    expect(parseJavaMajor('nothing')).toBeUndefined();
  });
});

describe('ports', () => {
  it('parses flags and rejects out-of-range values', () => {
    expect(parsePort('19092', 'x')).toBe(19092);
    expect(parsePort(undefined, 'x')).toBeUndefined();
    expect(() => parsePort('0', 'x')).toThrow(RangeError);
    expect(() => parsePort('70000', 'x')).toThrow(RangeError);
    expect(() => parsePort('abc', 'x')).toThrow(RangeError);
  });

  it('takes flags over QUAKECTL_*_PORT over the defaults, which avoid the standard ports', () => {
    expect(resolvePorts({}, {})).toEqual(DEFAULT_PORTS);
    for (const standard of [9092, 9324, 8000]) expect(Object.values(DEFAULT_PORTS)).not.toContain(standard);
    const env = { QUAKECTL_SQS_PORT: '21324', QUAKECTL_KAFKA_PORT: '21092' };
    expect(resolvePorts({ kafka: '22092' }, env)).toMatchObject({ kafka: 22092, sqs: 21324 });
    expect(() => resolvePorts({ sqs: 'x' }, {})).toThrow(UsageError);
    expect(() => resolvePorts({ sqs: 18000 }, {})).toThrow(/must differ/);
  });

  it('sees a bound port as busy and a released one as free', async () => {
    const server = createServer();
    const port = await new Promise<number>((r) =>
      server.listen(0, '127.0.0.1', () => r((server.address() as { port: number }).port)),
    );
    expect(await isPortFree(port)).toBe(false);
    await new Promise((r) => server.close(r));
    expect(await isPortFree(port)).toBe(true);
    expect(await freePort()).toBeGreaterThan(0);
  });
});

describe('stack.json and the JSON view', () => {
  it('prints the issue shape: brokers or endpoint plus healthy per service, lambda and moto only when configured, the CAP feed', () => {
    const ports = { ...DEFAULT_PORTS };
    const state = plannedState({
      stateDir: '/s',
      ports,
      kafkaVersion: '3.9.1',
      persist: false,
      lambda: false,
      moto: false,
    });
    expect(state.kafka.log).toBe(join('/s', 'logs', 'kafka.log'));
    expect(stackView(state, { kafka: true, sqs: true, dynamodb: false })).toEqual({
      kafka: { brokers: ['127.0.0.1:19092'], healthy: true },
      sqs: { endpoint: 'http://127.0.0.1:19324', healthy: true },
      dynamodb: { endpoint: 'http://127.0.0.1:18000', healthy: false },
      cap: {
        endpoint: 'http://127.0.0.1:19090',
        feed: 'http://127.0.0.1:19090/cap/index.atom',
        dir: join('/s', 'cap'),
        healthy: false,
      },
    });
    const withLambda = plannedState({ stateDir: '/s', ports, kafkaVersion: '3.9.1', persist: false, lambda: true });
    expect(stackView(withLambda, { lambda: true }).lambda).toEqual({
      endpoint: 'http://127.0.0.1:19001',
      healthy: true,
    });
    // moto (SNS, SES v2, Secrets Manager) by default, on its own port.
    expect(stackView(withLambda, { moto: true }).moto).toEqual({ endpoint: 'http://127.0.0.1:19500', healthy: true });
    expect(withLambda.moto?.log).toBe(join('/s', 'logs', 'moto.log'));
  });
});

describe('state dir lock', () => {
  it('runs callers one at a time and breaks a lock whose owner is dead', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quakectl-lock-'));
    try {
      const order: string[] = [];
      const slow = withStateLock(dir, 5000, async () => {
        order.push('a-in');
        await new Promise((r) => setTimeout(r, 300));
        order.push('a-out');
      });
      await new Promise((r) => setTimeout(r, 50));
      await withStateLock(dir, 5000, async () => order.push('b'));
      await slow;
      expect(order).toEqual(['a-in', 'a-out', 'b']);

      const { mkdirSync, writeFileSync } = await import('node:fs');
      mkdirSync(join(dir, 'lock'));
      writeFileSync(join(dir, 'lock', 'pid'), '999999999');
      expect(await withStateLock(dir, 2000, async () => 'got it')).toBe('got it');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
