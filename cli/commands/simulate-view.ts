/**
 * Progress of a followed event: a live ink view on a TTY (React.createElement, no JSX), plain lines otherwise. Both
 * render the same `ProgressUpdate`s; the view writes to stderr so `-o json` on stdout stays clean.
 */
import type { ProgressUpdate } from '../../shared/drill/run.ts';

export interface ProgressSink {
  update(u: ProgressUpdate): void | Promise<void>;
  stop(): void;
}

export interface Row {
  eventId: string;
  state: string;
  done: number;
  total: number;
  delivered: number;
  received?: number;
  elapsedMs: number;
  ratePerS: number;
}

export function toRow(u: ProgressUpdate): Row {
  const r = u.record;
  const delivered = r?.delivered ?? 0;
  const shown = u.received ?? delivered;
  const acceptedAt = r?.acceptedAt;
  const first = r?.firstDeliveryAt;
  const spanS = first !== undefined ? Math.max(Date.now() - first, 1) / 1000 : 0;
  return {
    eventId: u.eventId,
    state: r?.state ?? (r ? 'accepted' : 'sent'),
    done: r?.doneCount ?? 0,
    total: r?.total ?? 0,
    delivered,
    received: u.received,
    elapsedMs: acceptedAt !== undefined ? Date.now() - acceptedAt : u.elapsedMs,
    ratePerS: spanS > 0 ? Math.round(shown / spanS) : 0,
  };
}

export function describeRow(r: Row): string {
  const received = r.received !== undefined ? `, received ${r.received}` : '';
  return (
    `${r.eventId} ${r.state}: segments ${r.done}/${r.total}, sent ${r.delivered}${received}, ` +
    `${r.ratePerS}/s, ${(r.elapsedMs / 1000).toFixed(1)} s since acceptance`
  );
}

/** Plain lines: one when something changed, at most one per second per event (and always the last one). */
export function plainProgress(out: NodeJS.WritableStream = process.stderr): ProgressSink {
  const last = new Map<string, { key: string; at: number }>();
  return {
    update(u) {
      const row = toRow(u);
      const key = `${row.state}|${row.done}|${row.delivered}|${row.received}`;
      const prev = last.get(u.eventId);
      const finished = row.state === 'complete' || row.state === 'skipped';
      if (prev && (prev.key === key || (!finished && Date.now() - prev.at < 1000))) return;
      last.set(u.eventId, { key, at: Date.now() });
      out.write(`${describeRow(row)}\n`);
    },
    stop() {},
  };
}

/** The live view's element for some rows (exported for tests: ink's renderToString draws it without a TTY). */
export async function progressElement(list: Row[]) {
  const React = await import('react');
  const { Box, Text } = await import('ink');
  const h = React.createElement;
  const bar = (done: number, total: number, width = 24) => {
    const filled = total > 0 ? Math.round((done / total) * width) : 0;
    return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
  };
  return h(
    Box,
    { flexDirection: 'column' },
    ...list.map((r) =>
      h(
        Box,
        { key: r.eventId, flexDirection: 'column' },
        h(
          Text,
          { bold: true },
          `${r.eventId} `,
          h(Text, { color: r.state === 'complete' ? 'green' : 'yellow' }, r.state),
        ),
        h(Text, null, `  segments ${bar(r.done, r.total)} ${r.done}/${r.total}`),
        h(
          Text,
          null,
          `  sent ${r.delivered}${r.received !== undefined ? `  received ${r.received}` : ''}  ` +
            `${r.ratePerS}/s  ${(r.elapsedMs / 1000).toFixed(1)} s`,
        ),
      ),
    ),
  );
}

export async function inkProgress(): Promise<ProgressSink> {
  const { render } = await import('ink');
  const rows = new Map<string, Row>();
  const instance = render(await progressElement([]), {
    stdout: process.stderr,
    patchConsole: false,
    exitOnCtrlC: false,
  });
  return {
    async update(u) {
      rows.set(u.eventId, toRow(u));
      instance.rerender(await progressElement([...rows.values()]));
    },
    stop() {
      instance.unmount();
    },
  };
}
