/**
 * `quakectl subscribers import FILE | seed --count N --center LAT,LON --radius-km R [--webhook URL] | resegment | stats`.
 * import exits 1 when any row was rejected (after importing the good ones), so scripts notice. Both write: --dry-run
 * validates / generates and writes nothing; outside the local profile they ask first unless --yes.
 */
import type { Command } from 'commander';
import type { SegmentStats } from '../../shared/segments/index.ts';
import { commandContext, outputFormat, withOutput } from '../context.ts';
import { positiveInt, positiveNumber } from '../options.ts';
import { color, output, renderTable } from '../output.ts';

function renderRejected(rows: Array<{ line: number; id?: string; reason: string }>): string {
  return renderTable(rows, [
    { header: 'LINE', value: (b) => b.line, align: 'right' },
    { header: 'ID', value: (b) => b.id ?? '' },
    { header: 'REASON', value: (b) => b.reason },
  ]);
}

async function storeFor(cmd: Command) {
  const ctx = await commandContext(cmd);
  const { SubscriberStore } = await import('../../shared/segments/index.ts');
  const store = new SubscriberStore(ctx.clients.ddb, ctx.config.names, {
    maxSegmentSize: ctx.config.fanout.maxSegmentSize,
    minMmiFloor: ctx.config.fanout.minSubscriberMmi,
    allowUnsignedWebhooks: ctx.profile.allowUnsignedWebhooks,
    allowPrivateTargets: ctx.config.allowPrivateTargets,
  });
  return { ...ctx, store };
}

function progress(enabled: boolean) {
  if (!enabled || !process.stderr.isTTY) return undefined;
  return (done: number, total: number) => process.stderr.write(`\r  ${done}/${total}`);
}

export function register(program: Command): void {
  const subs = program.command('subscribers').description('Subscribers: import a file, seed synthetic ones, stats');

  withOutput(
    subs
      .command('import')
      .argument('<file>', 'CSV (id,lat,lon,minMmi,channel,target[,secret][,locale]) or NDJSON')
      .description('validate and import subscribers; bad rows are reported with line numbers (idempotent)')
      .option('--dry-run', 'validate the file and report its rows; write nothing')
      .option('--yes', 'do not ask for confirmation (profiles other than local ask before writing)'),
  ).action(async (file: string, opts: { dryRun?: boolean; yes?: boolean }, cmd: Command) => {
    const format = outputFormat(cmd);
    const { readFile } = await import('node:fs/promises');
    const { UsageError } = await import('../../shared/infra/errors.ts');
    const text = await readFile(file, 'utf8').catch((err: Error) => {
      throw new UsageError(`cannot read ${file}: ${err.message}`, { cause: err });
    });
    if (opts.dryRun) {
      const { detectFormat, parseSubscribersFile } = await import('../../shared/drill/subscribers-file.ts');
      const { refuseDuplicateIds } = await import('../../shared/drill/duplicate-ids.ts');
      const { belowPlanningThreshold, privateTargetRefusal, unsignedWebhookRefusal } = await import(
        '../../shared/segments/index.ts'
      );
      const { allowPrivateTargets } = await import('../../shared/infra/config.ts');
      const { loadCommandProfile } = await import('../context.ts');
      // The dry run needs no stack, but the profile (file, env, flags) says which threshold the fan-out plans for
      // and whether unsigned webhooks may be imported.
      const profile = await loadCommandProfile(cmd);
      const floor = profile.fanout.minSubscriberMmi;
      const parsed = parseSubscribersFile(text, detectFormat(file, text));
      parsed.rows = parsed.rows.filter((r) => {
        const reason =
          belowPlanningThreshold(r.subscriber.minMmi ?? 3, floor) ??
          unsignedWebhookRefusal(r.subscriber.channel, profile.allowUnsignedWebhooks) ??
          privateTargetRefusal(r.subscriber.channel, allowPrivateTargets(profile));
        if (reason) parsed.bad.push({ line: r.line, id: r.subscriber.id, reason });
        parsed.bad.sort((a, b) => a.line - b.line);
        return !reason;
      });
      const { rows, duplicates } = refuseDuplicateIds(parsed.rows);
      const report = {
        dryRun: true,
        file,
        format: parsed.format,
        rows: parsed.rows.length + parsed.bad.length,
        valid: rows.length,
        rejected: [...parsed.bad, ...duplicates].sort((a, b) => a.line - b.line),
      };
      output(format, report, (r) =>
        [
          `${r.file} (${r.format}): ${r.rows} rows, ${r.valid} valid, ${r.rejected.length} rejected`,
          ...(r.rejected.length > 0 ? [color().yellow('rejected rows:'), renderRejected(r.rejected)] : []),
          color().dim('dry run: nothing written'),
        ].join('\n'),
      );
      if (report.rejected.length > 0) process.exitCode = 1;
      return;
    }
    const { store, clients, profile } = await storeFor(cmd);
    try {
      const { confirm } = await import('../../shared/ops/confirm.ts');
      await confirm({
        action: `import the subscribers of ${file} into profile "${profile.name}"`,
        yes: opts.yes,
        local: profile.type === 'local',
      });
      const { importSubscribersText } = await import('../../shared/drill/subscribers.ts');
      const report = await importSubscribersText(store, file, text, progress(format === 'table'));
      if (format === 'table' && process.stderr.isTTY) process.stderr.write('\n');
      output(format, report, (r) => {
        const head = `${r.file} (${r.format}): ${r.rows} rows, ${r.inserted} inserted, ${r.updated} updated, ${r.moved} moved, ${r.rejected.length} rejected`;
        if (r.rejected.length === 0) return head;
        return `${head}\n${color().yellow('rejected rows:')}\n${renderRejected(r.rejected)}`;
      });
      if (report.rejected.length > 0) process.exitCode = 1;
    } finally {
      clients.destroy();
    }
  });

  withOutput(
    subs
      .command('seed')
      .description('synthetic subscribers for drills, placed by population around a centre (reproducible)')
      .requiredOption('--count <n>', 'how many', positiveInt)
      .requiredOption('--center <lat,lon>', 'centre of the disk, e.g. 45.77,26.76')
      .requiredOption('--radius-km <km>', 'radius of the disk', positiveNumber)
      .option('--webhook <url>', 'webhook target for all of them (default: a log channel)')
      .option('--secret <secret>', 'HMAC secret of the webhook channel (default: the drill secret)')
      .option('--seed <n>', 'PRNG seed: the same seed gives the same subscribers and ids', positiveInt, 1)
      .option('--uniform', 'place uniformly over the disk instead of by population')
      .option('--dry-run', 'say what would be seeded; write nothing')
      .option('--yes', 'do not ask for confirmation (profiles other than local ask before writing)'),
  ).action(
    async (
      opts: {
        count: number;
        center: string;
        radiusKm: number;
        webhook?: string;
        secret?: string;
        seed: number;
        uniform?: boolean;
        dryRun?: boolean;
        yes?: boolean;
      },
      cmd: Command,
    ) => {
      const format = outputFormat(cmd);
      const { parseLatLon, seedStore } = await import('../../shared/drill/subscribers.ts');
      const { UsageError } = await import('../../shared/infra/errors.ts');
      let center: { lat: number; lon: number };
      try {
        center = parseLatLon(opts.center);
      } catch (err) {
        throw new UsageError(`--center: ${(err as Error).message}`);
      }
      if (opts.dryRun) {
        const plan = {
          dryRun: true,
          count: opts.count,
          center,
          radiusKm: opts.radiusKm,
          seed: opts.seed,
          channel: opts.webhook ? `webhook ${opts.webhook}` : 'log',
          placement: opts.uniform ? 'uniform' : 'population',
        };
        output(
          format,
          plan,
          (p) =>
            `would seed ${p.count} subscribers within ${p.radiusKm} km of ${p.center.lat},${p.center.lon} ` +
            `(seed ${p.seed}, ${p.placement}, ${p.channel})\n${color().dim('dry run: nothing written')}`,
        );
        return;
      }
      const { store, clients, profile } = await storeFor(cmd);
      try {
        const { confirm } = await import('../../shared/ops/confirm.ts');
        await confirm({
          action: `seed ${opts.count} synthetic subscribers into profile "${profile.name}"`,
          yes: opts.yes,
          local: profile.type === 'local',
        });
        const report = await seedStore(
          store,
          {
            count: opts.count,
            center,
            radiusKm: opts.radiusKm,
            webhook: opts.webhook,
            secret: opts.secret,
            seed: opts.seed,
            placement: opts.uniform ? 'uniform' : 'population',
          },
          progress(format === 'table'),
        );
        if (format === 'table' && process.stderr.isTTY) process.stderr.write('\n');
        output(
          format,
          report,
          (r) =>
            `seeded ${r.count} subscribers within ${r.radiusKm} km of ${r.center.lat},${r.center.lon} (seed ${r.seed}, ${r.channel}): ` +
            `${r.inserted} inserted, ${r.updated} updated, ${r.moved} moved`,
        );
      } finally {
        clients.destroy();
      }
    },
  );

  withOutput(
    subs
      .command('resegment')
      .description(
        'lay out again the cells whose shards are over-full, surplus, not compact in space, or without a recorded area',
      )
      .option(
        '--dry-run',
        'say how many cells would be laid out and how many subscribers they hold (an upper bound of the moves); write nothing',
      )
      .option('--yes', 'do not ask for confirmation (profiles other than local ask before writing)'),
  ).action(async (opts: { dryRun?: boolean; yes?: boolean }, cmd: Command) => {
    const format = outputFormat(cmd);
    const { store, clients, profile, config } = await storeFor(cmd);
    try {
      const plan = await store.layoutPlan();
      const head = `${plan.toLayOut} of ${plan.cells} cells to lay out (${plan.subscribers} subscribers in them), shards of at most ${store.maxSegmentSize}`;
      if (opts.dryRun || plan.toLayOut === 0) {
        output(format, { ...plan, dryRun: !!opts.dryRun }, () =>
          [head, color().dim(opts.dryRun ? 'dry run: nothing written' : 'nothing to do')].join('\n'),
        );
        return;
      }
      const { refuseWhileBusy } = await import('../../shared/scaling/set.ts');
      await refuseWhileBusy(clients, config.names);
      const { confirm } = await import('../../shared/ops/confirm.ts');
      await confirm({
        action: `move subscribers of ${plan.toLayOut} cells between their shards in profile "${profile.name}"`,
        yes: opts.yes,
        local: profile.type === 'local',
      });
      const r = await store.resegment();
      output(
        format,
        { ...plan, ...r },
        () =>
          `${head}\n${r.cellsChanged} cells laid out, ${r.moved} subscribers moved, +${r.created}/−${r.removed} shards`,
      );
    } finally {
      clients.destroy();
    }
  });

  withOutput(subs.command('stats').description('totals, segments, largest shard, per-cell counts')).action(
    async (_opts: unknown, cmd: Command) => {
      const format = outputFormat(cmd);
      const { store, clients } = await storeFor(cmd);
      try {
        const stats = await store.stats();
        output(format, stats, renderStats);
      } finally {
        clients.destroy();
      }
    },
  );
}

function renderStats(s: SegmentStats): string {
  const lines = [
    `subscribers ${s.subscribers}, cells ${s.cells}, segments ${s.segments}, max segment size ${s.maxSegmentSize}` +
      (s.overfull ? color().yellow(`, ${s.overfull} overfull`) : '') +
      (s.toLayOut ? color().yellow(`, ${s.toLayOut} cells to lay out (quakectl subscribers resegment)`) : ''),
    s.largest ? `largest shard ${s.largest.key} (${s.largest.count})` : 'no subscribers',
  ];
  if (s.perCell.length > 0) {
    const top = s.perCell.slice(0, 20);
    lines.push(
      renderTable(top, [
        { header: 'CELL', value: (c) => c.cell },
        { header: 'SHARDS', value: (c) => c.shards, align: 'right' },
        { header: 'SUBSCRIBERS', value: (c) => c.count, align: 'right' },
      ]),
    );
    if (s.perCell.length > top.length)
      lines.push(color().dim(`… ${s.perCell.length - top.length} more cells (-o json)`));
  }
  return lines.join('\n');
}
