/**
 * `quakectl cap publish <eventId...>`: the CAP 1.2 messages of events (an Alert, Updates, a Cancel after a
 * retraction; shared/notify/cap.ts) written with their Atom index into the profile's CAP feed (shared/notify/
 * cap-config.ts: `<stateDir>/cap` locally, the `cap.bucket` on AWS) or `--dir`. The consumer publishes the same on its
 * own; this redoes it (a parked `{kind:"cap"}` DLQ message, a feed moved elsewhere). Reads the events table.
 */
import type { Command } from 'commander';
import { outputFormat, withOutput } from '../context.ts';
import { color, output } from '../output.ts';

export function register(program: Command): void {
  const cap = program.command('cap').description('CAP 1.2 (Common Alerting Protocol) documents of events');
  withOutput(
    cap
      .command('publish')
      .argument('<eventId...>', 'canonical event ids (as `status` lists them)')
      .description("write each event's CAP messages and the Atom index into a directory (idempotent)")
      .option('--dir <dir>', "target directory (default: the profile's CAP feed, locally <stateDir>/cap)")
      .option('--sender <sender>', "CAP sender: a domain or e-mail form, no spaces or commas (default: the profile's)")
      .option('--base-url <url>', 'where the feed is served (links in the index and in each message)'),
  ).action(async (ids: string[], opts: { dir?: string; sender?: string; baseUrl?: string }, cmd: Command) => {
    const format = outputFormat(cmd);
    const { UsageError, QuakectlError, ConfigError } = await import('../../shared/infra/errors.ts');
    if (opts.sender !== undefined && /[\s,<&]/.test(opts.sender))
      throw new UsageError(`--sender "${opts.sender}": no spaces, commas, < or & (CAP 1.2 3.2.1)`);
    const { pathToFileURL } = await import('node:url');
    const { join, resolve } = await import('node:path');
    const { commandContext } = await import('../context.ts');
    const { stateDir } = await import('../../shared/infra/config.ts');
    const { readStackState } = await import('../../shared/infra/stack-state.ts');
    const { getEvent } = await import('../../shared/events/store.ts');
    const { capMessagesForRecord, publishCap } = await import('../../shared/notify/cap-publish.ts');
    const { capSettingsOfProfile, capStoreFor, LOCAL_CAP_SENDER } = await import('../../shared/notify/cap-config.ts');
    const ctx = await commandContext(cmd);
    try {
      const stack = ctx.profile.type === 'local' ? readStackState(stateDir(ctx.profile)) : undefined;
      const feed = opts.dir ? undefined : capSettingsOfProfile(ctx.profile, stack);
      if (!opts.dir && !feed) {
        throw new ConfigError(`profile "${ctx.profile.name}" publishes no CAP feed (set cap.bucket, or pass --dir)`);
      }
      const target = opts.dir ? { kind: 'dir' as const, dir: resolve(opts.dir) } : feed!.target;
      const baseUrl = (
        opts.baseUrl ??
        feed?.baseUrl ??
        pathToFileURL(`${target.kind === 'dir' ? target.dir : ''}/`).href
      ).replace(/\/$/, '');
      const sender = opts.sender ?? feed?.sender ?? LOCAL_CAP_SENDER;
      const capStore = capStoreFor(target, () => ctx.clients.s3());
      const where = (name: string) => (target.kind === 'dir' ? join(target.dir, name) : `${capStore.location}${name}`);
      const store = { ddb: ctx.clients.ddb, table: ctx.config.names.table('events') };
      const capOpts = { sender, minMmi: ctx.config.fanout.minSubscriberMmi, baseUrl };
      const messages = [];
      const missing: string[] = [];
      const silent: string[] = [];
      for (const id of ids) {
        const record = await getEvent(store, id);
        if (!record) missing.push(id);
        else {
          const ms = capMessagesForRecord(record, capOpts);
          if (ms.length === 0) silent.push(id);
          messages.push(...ms);
        }
      }
      const result = await publishCap(capStore, messages, { baseUrl, sender });
      const report = {
        location: capStore.location,
        index: where(result.index),
        indexed: result.indexed,
        messages: messages.map((m, i) => ({
          eventId: m.eventId,
          identifier: m.identifier,
          msgType: m.msgType,
          status: m.status,
          sent: m.sent,
          file: where(result.names[i]),
        })),
        missing,
        notAlerted: silent,
      };
      output(format, report, (r) =>
        [
          ...r.messages.map((m) => `${m.msgType.padEnd(6)} ${m.status.padEnd(8)} ${m.sent}  ${m.file}`),
          `index: ${r.index} (${r.indexed} messages)`,
          ...(r.notAlerted.length > 0
            ? [color().dim(`never alerted (no CAP message): ${r.notAlerted.join(', ')}`)]
            : []),
          ...(r.missing.length > 0 ? [color().yellow(`unknown event ids: ${r.missing.join(', ')}`)] : []),
        ].join('\n'),
      );
      if (missing.length > 0) throw new QuakectlError(`${missing.length} event id(s) not found: ${missing.join(', ')}`);
    } finally {
      ctx.clients.destroy();
    }
  });
}
