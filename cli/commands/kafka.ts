/**
 * `quakectl kafka topics | describe TOPIC | lag [--group G] [--topic T] | tail TOPIC [--from-beginning] [--max N]`.
 * Read-only: nothing to confirm.
 */
import type { Command } from 'commander';
import { commandContext, outputFormat, withOutput } from '../context.ts';
import { output, renderTable } from '../output.ts';

export function register(program: Command): void {
  const kafka = program.command('kafka').description('Inspect Kafka: topics, partitions, consumer lag, records');

  withOutput(kafka.command('topics').description('list topics with partition and message counts'))
    .option('--all', 'include internal topics (__consumer_offsets)')
    .action(async (opts: { all?: boolean }, cmd: Command) => {
      const format = outputFormat(cmd);
      const { clients } = await commandContext(cmd);
      const { withAdmin } = await import('../../shared/ops/kafka/admin.ts');
      const { listTopics } = await import('../../shared/ops/kafka/topics.ts');
      const topics = await withAdmin(clients.kafka, (a) => listTopics(a, opts.all));
      output(format, topics, (rows) =>
        renderTable(rows, [
          { header: 'TOPIC', value: (r) => r.topic },
          { header: 'PARTITIONS', value: (r) => r.partitions, align: 'right' },
          { header: 'MESSAGES', value: (r) => r.messages, align: 'right' },
        ]),
      );
    });

  withOutput(kafka.command('describe').argument('<topic>').description('partitions, leaders, low/high offsets')).action(
    async (topic: string, _opts: unknown, cmd: Command) => {
      const format = outputFormat(cmd);
      const { clients } = await commandContext(cmd);
      const { withAdmin } = await import('../../shared/ops/kafka/admin.ts');
      const { describeTopic } = await import('../../shared/ops/kafka/topics.ts');
      const d = await withAdmin(clients.kafka, async (a) => {
        await requireTopic(a, topic);
        return describeTopic(a, topic);
      });
      output(format, d, (x) =>
        [
          `topic ${x.topic}, ${x.partitions.length} partitions`,
          renderTable(x.partitions, [
            { header: 'PARTITION', value: (r) => r.partition, align: 'right' },
            { header: 'LEADER', value: (r) => r.leader, align: 'right' },
            { header: 'REPLICAS', value: (r) => r.replicas.join(',') },
            { header: 'ISR', value: (r) => r.isr.join(',') },
            { header: 'LOW', value: (r) => r.low, align: 'right' },
            { header: 'HIGH', value: (r) => r.high, align: 'right' },
            { header: 'MESSAGES', value: (r) => r.messages, align: 'right' },
          ]),
        ].join('\n'),
      );
    },
  );

  withOutput(
    kafka.command('lag').description("consumer-group lag per partition (default: the consumer's mapping group)"),
  )
    .option('--group <id>', 'consumer group (default: the event source mapping of the consumer on the events topic)')
    .option('--topic <name>', 'topic (default: the events topic)')
    .action(async (opts: { group?: string; topic?: string }, cmd: Command) => {
      const format = outputFormat(cmd);
      const { clients, config } = await commandContext(cmd);
      const { withAdmin } = await import('../../shared/ops/kafka/admin.ts');
      const { fetchGroupLag } = await import('../../shared/ops/kafka/lag.ts');
      const topic = opts.topic ?? config.names.eventsTopic;
      let group = opts.group;
      if (!group) {
        const { defaultConsumerGroup } = await import('../../shared/ops/kafka/group.ts');
        group = await defaultConsumerGroup(clients.lambda, config.names.function('consumer'), topic);
      }
      const g = group;
      const lag = await withAdmin(clients.kafka, (a) => fetchGroupLag(a, g, topic));
      // Kafka answers a misspelt group like one that never committed: say so rather than print lag as if it were real.
      if (lag.partitions.every((p) => p.committed === null)) {
        process.stderr.write(`note: group ${g} has no committed offset on ${topic} (unknown group, or not started)\n`);
      }
      output(format, lag, (x) =>
        [
          `group ${x.group} on ${x.topic}: total lag ${x.total}`,
          renderTable(x.partitions, [
            { header: 'PARTITION', value: (r) => r.partition, align: 'right' },
            { header: 'COMMITTED', value: (r) => r.committed ?? '-', align: 'right' },
            { header: 'HIGH', value: (r) => r.high, align: 'right' },
            { header: 'LAG', value: (r) => r.lag, align: 'right' },
          ]),
        ].join('\n'),
      );
    });

  withOutput(
    kafka.command('tail').argument('<topic>').description('print records as they arrive, decoding quake events'),
  )
    .option('--from-beginning', 'start from the earliest offset')
    .option('--max <n>', 'stop after N records', (v) => Number.parseInt(v, 10))
    .option('--timeout <seconds>', 'stop after this many seconds', (v) => Number.parseFloat(v))
    .action(async (topic: string, opts: { fromBeginning?: boolean; max?: number; timeout?: number }, cmd: Command) => {
      const format = outputFormat(cmd);
      const { UsageError } = await import('../../shared/infra/errors.ts');
      if (opts.max !== undefined && (!Number.isInteger(opts.max) || opts.max < 1)) {
        throw new UsageError('--max must be a positive integer');
      }
      // NaN (--timeout abc) or 0 used to mean "no timeout": the tail then waited forever.
      if (opts.timeout !== undefined && !(Number.isFinite(opts.timeout) && opts.timeout > 0)) {
        throw new UsageError('--timeout must be a positive number of seconds');
      }
      const { clients } = await commandContext(cmd);
      const { withAdmin } = await import('../../shared/ops/kafka/admin.ts');
      // kafkajs answers an unknown topic with "This server does not host this topic-partition": name it instead.
      await withAdmin(clients.kafka, (a) => requireTopic(a, topic));
      const { tailTopic } = await import('../../shared/ops/kafka/tail.ts');
      const ac = new AbortController();
      const stop = () => ac.abort();
      process.once('SIGINT', stop);
      try {
        await tailTopic(clients.kafka, topic, {
          fromBeginning: opts.fromBeginning,
          max: opts.max,
          timeoutMs: opts.timeout ? opts.timeout * 1000 : undefined,
          signal: ac.signal,
          onRecord: (r) => {
            // JSON: one object per line (a stream), so `jq` can follow it.
            if (format === 'json') process.stdout.write(`${JSON.stringify(r)}\n`);
            else process.stdout.write(`${formatRecord(r)}\n`);
          },
        });
      } finally {
        process.off('SIGINT', stop);
      }
    });
}

/** Usage error naming the known topics when `topic` does not exist. */
async function requireTopic(admin: { listTopics(): Promise<string[]> }, topic: string): Promise<void> {
  const topics = await admin.listTopics();
  if (topics.includes(topic)) return;
  const { UsageError } = await import('../../shared/infra/errors.ts');
  throw new UsageError(`unknown topic "${topic}"; known: ${topics.filter((t) => !t.startsWith('__')).join(', ')}`);
}

function formatRecord(r: import('../../shared/ops/kafka/tail.ts').TailedRecord): string {
  const at = `${r.partition}@${r.offset}`;
  if (r.quake) {
    const q = r.quake;
    const drill = q.drill || r.headers.drill === 'true' ? ' DRILL' : '';
    const origin = typeof q.originTime === 'number' ? new Date(q.originTime).toISOString() : (q.originTime ?? '');
    // Magnitudes are printed with one decimal, as catalogues do (M4.0, not M4).
    const mag = typeof q.magnitude === 'number' ? q.magnitude.toFixed(1) : '?';
    return `${at} ${q.id} M${mag} ${q.place ?? ''} ${origin} depth ${q.depthKm ?? '?'} km${drill}`;
  }
  return `${at} key=${r.key ?? ''} ${typeof r.value === 'string' ? r.value : JSON.stringify(r.value)}`;
}
