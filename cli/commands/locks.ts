/**
 * `quakectl locks list [--event ID] [--stale]` and `locks release --event ID --segment S [--force] --yes`, over the
 * segment lock API of shared/locks (lease + version + cursor, system.md section 6).
 */
import type { Command } from 'commander';
import type { LockRow } from '../../shared/ops/locks/view.ts';
import { commandContext, outputFormat, withOutput } from '../context.ts';
import { output, renderTable } from '../output.ts';

export function register(program: Command): void {
  const locks = program.command('locks').description('Segment locks: who holds what, stale leases, releasing them');

  withOutput(locks.command('list').description('segment locks with owner, lease remaining, version, cursor, state'))
    .option('--event <id>', 'only locks of this event (all its plan revisions)')
    .option('--stale', 'only expired leases of segments not done (a dead worker’s)')
    .action(async (opts: { event?: string; stale?: boolean }, cmd: Command) => {
      const format = outputFormat(cmd);
      const { clients, config } = await commandContext(cmd);
      const { list } = await import('../../shared/locks/index.ts');
      const { lockRow } = await import('../../shared/ops/locks/view.ts');
      const store = { ddb: clients.ddb, table: config.names.table('locks') };
      const now = Date.now();
      const items = await list(store, opts.stale ? { lease: 'expired' } : {});
      const rows = items
        .map((i) => lockRow(i, now))
        .filter((r) => !opts.event || r.event === opts.event || r.eventId === opts.event);
      output(format, rows, (rs) => (rs.length === 0 ? 'no locks' : locksTable(rs)));
    });

  locks
    .command('release')
    .description('free a segment lock: an expired lease, or a live one with --force (version-checked)')
    .requiredOption('--event <id>', 'event id (as in `locks list`, with ~rN for a re-plan)')
    .requiredOption('--segment <key>', 'segment key <cell>#<shard>')
    .option('--force', 'release even a live lease (its worker stops at its next write)')
    .option('--dry-run', 'show what would be released')
    .option('--yes', 'do not ask')
    .action(
      async (
        opts: { event: string; segment: string; force?: boolean; dryRun?: boolean; yes?: boolean },
        cmd: Command,
      ) => {
        const { clients, config } = await commandContext(cmd);
        const { get, release } = await import('../../shared/locks/index.ts');
        const { lockRow, releaseRefusal } = await import('../../shared/ops/locks/view.ts');
        const { QuakectlError, UsageError } = await import('../../shared/infra/errors.ts');
        const store = { ddb: clients.ddb, table: config.names.table('locks') };
        const item = await get(store, opts.event, opts.segment);
        if (!item) throw new UsageError(`no lock for segment ${opts.segment} of event ${opts.event}`);
        const row = lockRow(item, Date.now());
        const refusal = releaseRefusal(row, Boolean(opts.force));
        if (refusal) throw new QuakectlError(refusal);
        const lease =
          row.leaseRemainingMs < 0
            ? `expired ${Math.round(-row.leaseRemainingMs / 1000)} s ago`
            : `live for ${Math.ceil(row.leaseRemainingMs / 1000)} s`;
        const action = `release ${row.segment} of ${row.eventId} (owner ${row.owner ?? '-'}, lease ${lease}, version ${row.version}, cursor ${row.cursor ? 'kept' : 'none'})`;
        process.stderr.write(`${opts.dryRun ? 'would ' : ''}${action}\n`);
        if (opts.dryRun) return;
        const { confirm } = await import('../../shared/ops/confirm.ts');
        // A forced release overrides a live worker: asked even locally.
        await confirm({ action, yes: opts.yes, local: config.local, alwaysAsk: Boolean(opts.force) && !row.stale });
        // Version-checked: if the worker renewed or another took over since we looked, this refuses.
        await release(store, item.pk, row.version);
        process.stderr.write(`released ${row.segment} of ${row.eventId}: the next worker resumes from its cursor\n`);
      },
    );
}

function locksTable(rows: LockRow[]): string {
  return renderTable(rows, [
    { header: 'EVENT', value: (r) => r.eventId },
    { header: 'SEGMENT', value: (r) => r.segment },
    { header: 'STATE', value: (r) => r.state },
    { header: 'OWNER', value: (r) => r.owner ?? '-' },
    {
      header: 'LEASE',
      value: (r) =>
        r.state === 'done'
          ? '-'
          : r.leaseRemainingMs >= 0
            ? `${Math.ceil(r.leaseRemainingMs / 1000)}s left`
            : `expired ${Math.round(-r.leaseRemainingMs / 1000)}s ago`,
      align: 'right',
    },
    { header: 'VERSION', value: (r) => r.version, align: 'right' },
    { header: 'ATTEMPTS', value: (r) => r.attempts, align: 'right' },
    { header: 'DELIVERED', value: (r) => r.delivered, align: 'right' },
    {
      header: 'CURSOR',
      value: (r) => (r.cursor ? (r.cursor.length > 40 ? `${r.cursor.slice(0, 39)}…` : r.cursor) : '-'),
    },
  ]);
}
