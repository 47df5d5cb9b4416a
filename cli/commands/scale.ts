/**
 * `quakectl scale show | set | plan --rules FILE | apply --rules FILE`: Lambda concurrency, fan-out parallelism and
 * segment size, by hand or by rules (shared/scaling, docs/scaling.md).
 */
import { type Command, InvalidArgumentError } from 'commander';
import type { AppliedDecision } from '../../shared/scaling/apply.ts';
import type { Decision } from '../../shared/scaling/engine.ts';
import type { ScaleShow } from '../../shared/scaling/show.ts';
import { type CommandContext, commandContext, outputFormat, withOutput } from '../context.ts';
import { color, output, renderTable } from '../output.ts';

const onOff = (v: string) => {
  if (v === 'on') return true;
  if (v === 'off') return false;
  throw new InvalidArgumentError(`on or off, not ${v}`);
};

const count = (v: string) => {
  if (!/^-?\d+$/.test(v.trim())) throw new InvalidArgumentError(`not an integer: ${v}`);
  return Number(v);
};

export function register(program: Command): void {
  const scale = program
    .command('scale')
    .description('Concurrency, fan-out parallelism, segment size, expected and measured rate: show, set, plan, apply');

  withOutput(
    scale
      .command('show')
      .description(
        'per function reserved/provisioned concurrency, P, maxSegmentSize, expected and measured rate, partitions, lag',
      ),
  ).action(async (_opts: unknown, cmd: Command) => {
    const format = outputFormat(cmd);
    const ctx = await commandContext(cmd);
    const { scaleShow } = await import('../../shared/scaling/show.ts');
    const data = await scaleShow(ctx.clients, ctx.config.names, ctx.profile.fanout);
    output(format, data, (d) =>
      [
        renderTable(d.functions, [
          { header: 'FUNCTION', value: (r) => r.function },
          { header: 'DEPLOYED', value: (r) => (r.exists ? 'yes' : 'no') },
          { header: 'RESERVED', value: (r) => r.reserved ?? '-', align: 'right' },
          { header: 'PROVISIONED', value: (r) => r.provisioned ?? '-', align: 'right' },
          { header: 'PC STATUS', value: (r) => r.provisionedStatus ?? '' },
        ]),
        `account: ${d.account ? `${d.account.limit} concurrent executions, ${d.account.unreserved} unreserved` : 'unknown'}`,
        `fan-out: parallelism P = ${d.fanout.parallelism}, maxSegmentSize = ${d.fanout.maxSegmentSize}, ` +
          `expectedRate = ${d.fanout.expectedRate ? `${d.fanout.expectedRate}/s` : 'off'}, ` +
          `measureRate = ${d.fanout.measureRate ? 'on' : 'off'}`,
        `planned with: ${
          d.rate === null
            ? d.functions.some((f) => f.exists)
              ? 'unknown (the measured rates could not be read)'
              : 'nothing deployed'
            : d.rate.rate
              ? `${d.rate.rate}/s (${d.rate.source})${
                  d.rate.source === 'measured'
                    ? '; a fan-out over 4x the size of a measured run plans with the runs of its size, if any'
                    : ''
                }`
              : 'no rate (deferral off)'
        }`,
        ...measuredLines(d.measured),
        `kafka: ${d.topic} ${d.partitions} partitions, lag ${d.lag ?? 'unknown'}${d.group ? ` (group ${d.group})` : ''}`,
        ...d.notes.map((n) => color().yellow(`note: ${n}`)),
      ].join('\n'),
    );
  });

  withOutput(
    scale
      .command('set')
      .description(
        'change knobs: reserved/provisioned concurrency, parallelism, max segment size, expected rate, measured rate',
      ),
  )
    .option('--function <name>', 'function role (producer, consumer, segment-worker, autoscaler) or deployed name')
    .option('--reserved <n|none>', 'reserved concurrency (none removes the reservation)')
    .option('--provisioned <n>', 'provisioned concurrency on the alias live (0 removes it)', count)
    .option('--parallelism <p>', 'fan-out parallelism P (segment-worker chains per event)', count)
    .option(
      '--max-segment-size <n>',
      'subscribers per segment shard: re-segments (refused while an event is in progress)',
      count,
    )
    .option(
      '--expected-rate <n>',
      'notifications/s the planner expects from all chains until one is measured (fanout.expectedRate; 0 turns the deferral off)',
      count,
    )
    .option(
      '--measure-rate <on|off>',
      'plan with the rate measured on completed fan-outs of 10,000+ eligible subscribers at the same P (fanout.measureRate)',
      onOff,
    )
    .option('--forget-rate', 'remove the measured rates: plan with --expected-rate until fan-outs are measured again')
    .option('--dry-run', 'show what would change, change nothing')
    .option('--yes', 'do not ask')
    .action(async (opts: SetOptions, cmd: Command) => {
      const format = outputFormat(cmd);
      const ctx = await commandContext(cmd);
      const { planSet, runSet } = await import('../../shared/scaling/set.ts');
      const reserved =
        opts.reserved === undefined
          ? undefined
          : opts.reserved === 'none'
            ? null
            : await parseCount('--reserved', opts.reserved);
      const plan = await planSet(ctx.clients, ctx.config.names, ctx.profile.fanout, {
        function: opts.function,
        reserved,
        provisioned: opts.provisioned,
        parallelism: opts.parallelism,
        maxSegmentSize: opts.maxSegmentSize,
        expectedRate: opts.expectedRate,
        measureRate: opts.measureRate,
        forgetRate: opts.forgetRate,
      });
      for (const c of plan.changes) process.stderr.write(`${opts.dryRun ? 'would ' : ''}${c.description}\n`);
      if (opts.dryRun || plan.changes.length === 0) {
        output(format, { dryRun: Boolean(opts.dryRun), changes: plan.changes, applied: [] }, () =>
          plan.changes.length === 0 ? 'nothing to change' : 'dry run: nothing changed',
        );
        return;
      }
      const { confirm } = await import('../../shared/ops/confirm.ts');
      await confirm({
        action: plan.changes.map((c) => c.description).join('; '),
        yes: opts.yes,
        local: ctx.config.local,
      });
      const applied = await runSet(ctx.clients, ctx.config.names, ctx.profile.fanout, plan);
      output(format, { dryRun: false, changes: plan.changes, applied }, (d) =>
        d.applied.map((a) => `done: ${a}`).join('\n'),
      );
    });

  withOutput(scale.command('plan').description('what the rules would change now, and the metrics behind each decision'))
    .requiredOption('--rules <file>', 'scaling rules (YAML, see docs/scaling.md)')
    .action(async (opts: { rules: string }, cmd: Command) => {
      const format = outputFormat(cmd);
      const ctx = await commandContext(cmd);
      const result = await computePlan(ctx, opts.rules);
      output(format, result, (r) => planText(r.decisions, r.notes));
    });

  withOutput(
    scale.command('apply').description('make the changes the rules decide, through the Lambda concurrency APIs'),
  )
    .requiredOption('--rules <file>', 'scaling rules (YAML, see docs/scaling.md)')
    .option('--dry-run', 'show the plan only')
    .option('--yes', 'do not ask')
    .action(async (opts: { rules: string; dryRun?: boolean; yes?: boolean }, cmd: Command) => {
      const format = outputFormat(cmd);
      const ctx = await commandContext(cmd);
      const result = await computePlan(ctx, opts.rules);
      const { applyDecisions, changes } = await import('../../shared/scaling/apply.ts');
      const todo = changes(result.decisions);
      process.stderr.write(`${planText(result.decisions, result.notes)}\n`);
      if (opts.dryRun || todo.length === 0) {
        output(format, { ...result, applied: [] as AppliedDecision[] }, () =>
          todo.length === 0 ? 'nothing to change' : 'dry run: nothing changed',
        );
        return;
      }
      const { confirm } = await import('../../shared/ops/confirm.ts');
      await confirm({
        action: todo
          .map((d) => `${d.knob} concurrency of ${d.function} ${d.current ?? 'unset'} → ${d.desired}`)
          .join('; '),
        yes: opts.yes,
        local: ctx.config.local,
      });
      const applied = await applyDecisions(
        { lambda: ctx.clients.lambda, ddb: ctx.clients.ddb, names: ctx.config.names },
        result.decisions,
      );
      output(format, { ...result, applied }, (r) =>
        r.applied
          .filter((a) => a.action !== 'hold')
          .map((a) =>
            a.applied
              ? `applied: ${a.knob} concurrency of ${a.function} → ${a.desired}`
              : color().red(`refused: ${a.knob} concurrency of ${a.function} → ${a.desired}: ${a.error}`),
          )
          .join('\n'),
      );
      if (applied.some((a) => a.error)) process.exitCode = 1;
    });
}

interface SetOptions {
  function?: string;
  reserved?: string;
  provisioned?: number;
  parallelism?: number;
  maxSegmentSize?: number;
  expectedRate?: number;
  measureRate?: boolean;
  forgetRate?: boolean;
  dryRun?: boolean;
  yes?: boolean;
}

async function parseCount(flag: string, v: string): Promise<number> {
  if (/^-?\d+$/.test(v.trim())) return Number(v);
  const { UsageError } = await import('../../shared/infra/errors.ts');
  throw new UsageError(`${flag} must be an integer or none (got ${v})`);
}

async function computePlan(ctx: CommandContext, rulesFile: string) {
  const { loadRules } = await import('../../shared/scaling/rules.ts');
  const { gatherMetrics } = await import('../../shared/scaling/metrics.ts');
  const { decide } = await import('../../shared/scaling/engine.ts');
  const { readHistory } = await import('../../shared/scaling/history.ts');
  const { concurrentExecutions } = await import('../../shared/ops/logs/source.ts');
  const { logSource, loadLogSupport } = await import('./logs.ts');
  await loadLogSupport();
  const rules = loadRules(rulesFile);
  const source = logSource(ctx);
  const gathered = await gatherMetrics(ctx.clients, ctx.config.names, rules, {
    inUse: (fn) => concurrentExecutions(source, fn),
  });
  const history = await readHistory(ctx.clients.ddb, ctx.config.names.table('events')).catch(() => ({}));
  const decisions = decide(rules, gathered.metrics, history);
  return { decisions, notes: gathered.notes, metrics: gathered.metrics };
}

function planText(decisions: Decision[], notes: string[]): string {
  return [
    renderTable(decisions, [
      { header: 'TARGET', value: (d) => d.target },
      { header: 'FUNCTION', value: (d) => d.function },
      { header: 'KNOB', value: (d) => d.knob },
      { header: 'CURRENT', value: (d) => d.current ?? '-', align: 'right' },
      { header: 'DESIRED', value: (d) => d.desired, align: 'right' },
      { header: 'ACTION', value: (d) => (d.action === 'hold' ? d.action : color().bold(d.action)) },
      { header: 'WHY', value: (d) => d.reason },
    ]),
    ...notes.map((n) => color().yellow(`note: ${n}`)),
  ].join('\n');
}

/** `scale show`'s measured rates: one line per parallelism, newest first. */
function measuredLines(measured: ScaleShow['measured']): string[] {
  if (measured === null) return ['measured: unavailable (see the note below)'];
  const entries = Object.entries(measured)
    .filter(([, list]) => list.length > 0)
    .sort(([a], [b]) => Number(a.slice(1)) - Number(b.slice(1)));
  if (entries.length === 0)
    return ['measured: none yet (a fan-out of 10,000 or more eligible subscribers records one)'];
  return [
    'measured (eligible subscribers sent per second until 90% were; newest first):',
    ...entries.map(
      ([p, list]) =>
        `  ${p}: ${list
          .map(
            (o) =>
              `${o.rate}/s (${o.subscribers} in ${o.seconds} s, ${o.drill ? 'drill ' : ''}${o.eventId}, ${new Date(o.at).toISOString()})`,
          )
          .join('; ')}`,
    ),
  ];
}
