/** The status screen as ink components (React.createElement: no JSX in this project). Pure rendering of a snapshot. */
import { Box, Text } from 'ink';
import { createElement as h } from 'react';
import type { StatusSnapshot } from '../../shared/ops/status/snapshot.ts';
import { type StatusSection, statusSections } from '../../shared/ops/status/text.ts';

const COLORS = { ok: 'green', warn: 'yellow', bad: 'red' } as const;

function Section({ section }: { section: StatusSection }) {
  return h(
    Box,
    { flexDirection: 'column', marginTop: 1 },
    h(Text, { bold: true }, section.title),
    ...section.lines.map((l, i) => h(Text, { key: i, color: l.level ? COLORS[l.level] : undefined }, `  ${l.text}`)),
  );
}

export interface StatusViewProps {
  snapshot?: StatusSnapshot;
  error?: string;
  /** Seconds between refreshes (shown in the header); undefined = a single picture. */
  intervalS?: number;
  /** Whether q quits (only when keys can be read). */
  keys?: boolean;
}

export function StatusView({ snapshot, error, intervalS, keys }: StatusViewProps) {
  const header = snapshot
    ? `quakectl status · profile ${snapshot.profile} · ${new Date(snapshot.at).toISOString().slice(11, 19)} UTC`
    : 'quakectl status · loading…';
  const footer = intervalS
    ? `refresh every ${intervalS}s${keys ? ' · q or Ctrl-C quits' : ' · Ctrl-C quits'}`
    : undefined;
  return h(
    Box,
    { flexDirection: 'column' },
    h(Text, { bold: true, color: 'cyan' }, header),
    error ? h(Text, { color: 'red' }, `refresh failed: ${error}`) : null,
    ...(snapshot ? statusSections(snapshot).map((s) => h(Section, { key: s.title, section: s })) : []),
    footer ? h(Box, { marginTop: 1 }, h(Text, { dimColor: true }, footer)) : null,
  );
}
