/**
 * `quakectl cap publish <eventId...>`: the CAP 1.2 messages of events (an Alert, Updates, a Cancel after a
 * retraction; shared/notify/cap.ts) written with their Atom index into a directory (shared/notify/cap-publish.ts),
 * by default `<stateDir>/cap`. Reads the events table; writes nothing else.
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
      .option('--dir <dir>', 'target directory (default: <stateDir>/cap)')
      .option('--sender <sender>', 'CAP sender: a domain or e-mail form, no spaces or commas', 'quakectl.local')
      .option('--base-url <url>', 'where the directory is served (links in the index and in each message)'),
  ).action(async (ids: string[], opts: { dir?: string; sender: string; baseUrl?: string }, cmd: Command) => {
    const format = outputFormat(cmd);
    const { UsageError, QuakectlError } = await import('../../shared/infra/errors.ts');
    if (/[\s,<&]/.test(opts.sender))
      throw new UsageError(`--sender "${opts.sender}": no spaces, commas, < or & (CAP 1.2 3.2.1)`);
    const { pathToFileURL } = await import('node:url');
    const { resolve } = await import('node:path');
    const { commandContext } = await import('../context.ts');
    const { stateDir } = await import('../../shared/infra/config.ts');
    const { getEvent } = await import('../../shared/events/store.ts');
    const { capMessagesForRecord, publishCapDirectory } = await import('../../shared/notify/cap-publish.ts');
    const ctx = await commandContext(cmd);
    try {
      const dir = resolve(opts.dir ?? resolve(stateDir(ctx.profile), 'cap'));
      const baseUrl = opts.baseUrl ?? pathToFileURL(`${dir}/`).href;
      const store = { ddb: ctx.clients.ddb, table: ctx.config.names.table('events') };
      const capOpts = { sender: opts.sender, minMmi: ctx.config.fanout.minSubscriberMmi, baseUrl };
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
      const result = await publishCapDirectory(dir, messages, { baseUrl, sender: opts.sender });
      const report = {
        dir,
        index: result.index,
        indexed: result.indexed,
        messages: messages.map((m, i) => ({
          eventId: m.eventId,
          identifier: m.identifier,
          msgType: m.msgType,
          status: m.status,
          sent: m.sent,
          file: result.files[i],
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
