/**
 * `quakectl deploy [--dry-run] [--yes] [--role-arn ARN] [-o json]` and `quakectl destroy [--yes] [--dry-run]`.
 * The plan is printed before anything changes; JSON output is the plan plus what was applied.
 */
import type { Command } from 'commander';
import type { DeployResult, PlanView } from '../../shared/deploy/index.ts';
import { commandContext, globalOptions, outputFormat, withOutput } from '../context.ts';
import { color, printJson, renderTable } from '../output.ts';

interface DeployFlags {
  dryRun?: boolean;
  yes?: boolean;
  roleArn?: string;
}

export function register(program: Command): void {
  withOutput(
    program
      .command('deploy')
      .description('bundle the functions and converge topics, tables, queues, functions and the Kafka mapping')
      .option('--dry-run', 'print the plan and stop')
      .option('--yes', 'do not ask for confirmation (non-local profiles ask otherwise)')
      .option('--role-arn <arn>', 'Lambda execution role (default: the profile roleArn; local: a dummy role)'),
  ).action(async (flags: DeployFlags, cmd: Command) => {
    const format = outputFormat(cmd);
    const { profile, clients } = await commandContext(cmd);
    const { deploy } = await import('../../shared/deploy/index.ts');
    const { readDeploySettings } = await import('../../shared/deploy/settings.ts');
    const g = globalOptions(cmd);
    try {
      const result = await deploy(
        { profile, clients },
        {
          ...flags,
          settings: readDeploySettings(profile.name, { profile: g.profile, configFile: g.config }),
          onPlan: (plan) => {
            if (format === 'table') process.stdout.write(`${renderPlan(plan)}\n`);
          },
          onItem: (item) => {
            if (format === 'table')
              process.stdout.write(`  ${actionLabel(item.action)} ${item.kind}/${item.name} (${item.ms} ms)\n`);
          },
        },
      );
      // A dry run without a reachable broker still plans the AWS side: exit 0, the Kafka side reported unknown.
      for (const w of result.warnings) process.stderr.write(`${color().yellow('warning:')} ${w}\n`);
      if (format === 'json') printJson(result);
      else process.stdout.write(`${outcome(result, 'deploy')}\n`);
    } finally {
      clients.destroy();
    }
  });

  withOutput(
    program
      .command('destroy')
      .description('delete everything deploy created for this profile (asks first, even locally, unless --yes)')
      .option('--dry-run', 'print what would be deleted and stop')
      .option('--yes', 'do not ask for confirmation'),
  ).action(async (flags: DeployFlags, cmd: Command) => {
    const format = outputFormat(cmd);
    const { profile, clients } = await commandContext(cmd);
    const { destroy } = await import('../../shared/deploy/index.ts');
    try {
      const result = await destroy(
        { profile, clients },
        {
          ...flags,
          onPlan: (plan) => {
            if (format === 'table') process.stdout.write(`${renderPlan(plan)}\n`);
          },
          onItem: (item) => {
            if (format === 'table') process.stdout.write(`  ${actionLabel('delete')} ${item.kind}/${item.name}\n`);
          },
        },
      );
      if (format === 'json') printJson(result);
      else process.stdout.write(`${outcome(result, 'destroy')}\n`);
    } finally {
      clients.destroy();
    }
  });
}

function actionLabel(action: string): string {
  const c = color();
  const paint: Record<string, (s: string) => string> = {
    create: c.green,
    update: c.yellow,
    replace: c.magenta,
    delete: c.red,
    blocked: c.red.bold,
    unchanged: c.dim,
    skipped: c.cyan,
    unknown: c.yellow,
  };
  return (paint[action] ?? ((s: string) => s))(action.padEnd(9));
}

export function renderPlan(plan: PlanView): string {
  const summary = Object.entries(plan.summary)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  const table = renderTable(plan.items, [
    { header: 'ACTION', value: (i) => actionLabel(i.action) },
    { header: 'KIND', value: (i) => i.kind },
    { header: 'NAME', value: (i) => i.name },
    { header: 'CHANGES', value: (i) => [...i.changes, ...(i.note ? [i.note] : [])].join('; ') },
  ]);
  return `Plan for profile "${plan.profile}": ${summary || 'nothing'}\n${table}`;
}

function outcome(result: DeployResult, verb: 'deploy' | 'destroy'): string {
  if (result.dryRun) return color().dim('dry run: nothing changed');
  if (result.applied.length === 0)
    return verb === 'deploy' ? 'Up to date: every resource unchanged.' : 'Nothing to delete.';
  const ms = result.applied.reduce((s, i) => s + i.ms, 0);
  return `${verb === 'deploy' ? 'Deployed' : 'Destroyed'}: ${result.applied.length} resource(s) in ${(ms / 1000).toFixed(1)} s.`;
}
