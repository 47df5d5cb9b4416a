/**
 * `quakectl dlq list [QUEUE] | show QUEUE MESSAGE_ID | purge QUEUE --yes | redrive QUEUE [filters] [--dry-run]`.
 * QUEUE is a kind (producer, consumer, worker, delivery), a queue name or a URL.
 */
import type { Command } from 'commander';
import type { DecodedMessage } from '../../shared/ops/dlq/decode.ts';
import { commandContext, outputFormat, withOutput } from '../context.ts';
import { color, output, renderTable } from '../output.ts';

const int = (v: string) => Number(v);

export function register(program: Command): void {
  const dlq = program.command('dlq').description('Dead-letter queues: list, inspect, purge, redrive');

  withOutput(dlq.command('list').argument('[queue]').description('DLQ depths; with a queue, its messages decoded'))
    .option('--max <n>', 'at most N messages', int)
    .action(async (queue: string | undefined, opts: { max?: number }, cmd: Command) => {
      const format = outputFormat(cmd);
      const q = await import('../../shared/ops/dlq/queues.ts');
      // --max abc (NaN) used to read no message at all and print "empty" for a DLQ that was not.
      q.requireNonNegativeInt('--max', opts.max);
      const { clients, config } = await commandContext(cmd);
      if (!queue) {
        const depths = await q.listDlqs(clients.sqs, config.names);
        output(
          format,
          depths.map(({ queue, kind, depth }) => ({ queue, kind, depth })),
          () =>
            renderTable(depths, [
              { header: 'QUEUE', value: (r) => r.queue },
              { header: 'KIND', value: (r) => r.kind },
              { header: 'DEPTH', value: (r) => (r.exists ? r.depth : '-'), align: 'right' },
              { header: 'IN FLIGHT', value: (r) => (r.exists ? r.inFlight : '-'), align: 'right' },
            ]),
        );
        return;
      }
      const messages = await listMessages(cmd, queue, opts.max);
      output(format, messages, (rows) => (rows.length === 0 ? `${queue}: empty` : messagesTable(rows)));
    });

  withOutput(
    dlq.command('show').argument('<queue>').argument('<message-id>').description('one message, decoded'),
  ).action(async (queue: string, id: string, _opts: unknown, cmd: Command) => {
    const format = outputFormat(cmd);
    const messages = await listMessages(cmd, queue);
    const m = messages.find((x) => x.messageId === id);
    if (!m) {
      const { UsageError } = await import('../../shared/infra/errors.ts');
      throw new UsageError(`no message ${id} in ${queue} (${messages.length} messages)`);
    }
    output(format, m, (x) => JSON.stringify(x, null, 2));
  });

  dlq
    .command('purge')
    .argument('<queue>')
    .description('delete every message of a DLQ')
    .option('--yes', 'do not ask')
    .option('--dry-run', 'show what would be purged')
    .action(async (queue: string, opts: { yes?: boolean; dryRun?: boolean }, cmd: Command) => {
      const { clients, config } = await commandContext(cmd);
      const q = await import('../../shared/ops/dlq/queues.ts');
      const ref = await q.resolveDlq(clients.sqs, config.names, queue);
      const { depth } = await q.queueDepth(clients.sqs, ref.url);
      const action = `purge ${depth} message(s) from ${ref.queue}`;
      process.stderr.write(`${opts.dryRun ? 'would ' : ''}${action}\n`);
      if (opts.dryRun) return;
      const { confirm } = await import('../../shared/ops/confirm.ts');
      // Purging loses failures for good: asked even on the local profile.
      await confirm({ action, yes: opts.yes, local: config.local, alwaysAsk: true });
      await q.purge(clients.sqs, ref.url);
      process.stderr.write(`purged ${ref.queue}\n`);
    });

  withOutput(
    dlq
      .command('redrive')
      .argument('<queue>')
      .description('send each message back to where it failed; delete it only after that succeeded'),
  )
    .option('--event-id <id>', 'only messages of this event')
    .option('--since <time>', 'only messages that failed since TIME (ISO, or 15m / 2h / 1d ago)')
    .option('--max <n>', 'redrive at most N messages', int)
    .option('--rate <n>', 'at most N redrives per second', int)
    .option('--dry-run', 'show what would be redriven, change nothing')
    .option('--yes', 'do not ask')
    .action(
      async (
        queue: string,
        opts: { eventId?: string; since?: string; max?: number; rate?: number; dryRun?: boolean; yes?: boolean },
        cmd: Command,
      ) => {
        const format = outputFormat(cmd);
        const { requireNonNegativeInt, resolveDlq, queueDepth } = await import('../../shared/ops/dlq/queues.ts');
        requireNonNegativeInt('--max', opts.max);
        requireNonNegativeInt('--rate', opts.rate);
        const { parseSince } = await import('../../shared/ops/time.ts');
        const since = opts.since ? parseSince(opts.since) : undefined;
        const { clients, config, profile } = await commandContext(cmd);
        const ref = await resolveDlq(clients.sqs, config.names, queue);
        const { redrive } = await import('../../shared/ops/dlq/redrive.ts');
        const { deliveryRedeliverer } = await import('../../shared/ops/dlq/redeliver.ts');
        const { capRepublisher } = await import('../../shared/ops/dlq/republish-cap.ts');
        const deps = {
          sqs: clients.sqs,
          lambda: clients.lambda,
          kafka: clients.kafka,
          names: config.names,
          brokers: config.kafka.brokers,
          redeliver: await deliveryRedeliverer(clients),
          republishCap: capRepublisher(profile, clients),
        };
        if (!opts.dryRun) {
          const { depth } = await queueDepth(clients.sqs, ref.url);
          const filters = [
            opts.eventId && `event ${opts.eventId}`,
            opts.since && `since ${opts.since}`,
            opts.max !== undefined && `at most ${opts.max}`,
          ].filter(Boolean);
          const action = `redrive ${filters.length ? `messages (${filters.join(', ')}) of` : 'all'} ${depth} message(s) in ${ref.queue}`;
          process.stderr.write(`${action}\n`);
          const { confirm } = await import('../../shared/ops/confirm.ts');
          await confirm({ action, yes: opts.yes, local: config.local });
        }
        const human = format === 'table';
        const result = await redrive(deps, ref, {
          eventId: opts.eventId,
          since,
          max: opts.max,
          rate: opts.rate,
          dryRun: opts.dryRun,
          onItem: human
            ? (i) => process.stderr.write(`${i.outcome.padEnd(13)} ${i.messageId} ${i.kind} ${i.detail ?? ''}\n`)
            : undefined,
          onProgress: human
            ? (p) => process.stderr.write(`move task ${p.status}: ${p.moved}/${p.toMove ?? '?'} moved\n`)
            : undefined,
        });
        output(format, result, (r) =>
          r.dryRun
            ? `dry run: ${r.items.filter((i) => i.outcome === 'would-redrive').length} would be redriven, ${r.skipped} skipped`
            : `${r.queue}: redriven ${r.redriven}, failed ${r.failed}, skipped ${r.skipped}${r.mode === 'message-move-task' ? ' (SQS message move task)' : ''}`,
        );
        if (result.failed > 0) process.exitCode = 1;
      },
    );
}

async function listMessages(cmd: Command, queue: string, max?: number): Promise<DecodedMessage[]> {
  const { clients, config } = await commandContext(cmd);
  const q = await import('../../shared/ops/dlq/queues.ts');
  const { decodeMessage } = await import('../../shared/ops/dlq/decode.ts');
  const ref = await q.resolveDlq(clients.sqs, config.names, queue);
  const fn = ref.kind !== 'other' ? q.DLQ_FUNCTION[ref.kind] : undefined;
  const messages = await q.peek(clients.sqs, ref.url, max);
  return messages
    .map((m) => decodeMessage(m, fn ? config.names.function(fn) : undefined))
    .sort((a, b) => (a.sentAt ?? 0) - (b.sentAt ?? 0));
}

function messagesTable(rows: DecodedMessage[]): string {
  return renderTable(rows, [
    { header: 'MESSAGE', value: (r) => r.messageId },
    { header: 'KIND', value: (r) => r.kind },
    { header: 'FIRST FAILURE', value: (r) => (r.firstFailureAt ? new Date(r.firstFailureAt).toISOString() : '') },
    { header: 'ATTEMPTS', value: (r) => r.attempts, align: 'right' },
    {
      header: 'ERROR',
      value: (r) => color().red(truncate([r.errorCode, r.errorMessage].filter(Boolean).join(' '), 60)),
    },
    { header: 'WHAT', value: (r) => truncate(what(r), 70) },
  ]);
}

function what(r: DecodedMessage): string {
  if (r.kind === 'kafka-batch' || r.kind === 'kafka-record') {
    return (r.kafka?.ranges ?? []).map((k) => `${k.topic}-${k.partition} @${k.firstOffset}..${k.lastOffset}`).join(' ');
  }
  if (r.kind === 'delivery') {
    return `${r.delivery?.notifications.length} notification(s) of ${r.delivery?.eventId} → ${r.delivery?.target}`;
  }
  return JSON.stringify(r.payload ?? null);
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
