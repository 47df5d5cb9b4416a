/** The status snapshot as plain lines: what non-interactive `status` prints, and the same facts the dashboard shows. */
import type { StatusSnapshot } from './snapshot.ts';

export interface StatusSection {
  title: string;
  lines: Array<{ text: string; level?: 'ok' | 'warn' | 'bad' }>;
}

const s = (ms?: number) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);

/** Pure: the snapshot as titled sections of lines, each with a severity the views colour. */
export function statusSections(x: StatusSnapshot): StatusSection[] {
  const sections: StatusSection[] = [];
  if (x.missing?.length) {
    const byKind = Map.groupBy(x.missing, (m) => m.kind);
    sections.push({
      title: `not deployed (${x.missing.length}; fix: ${x.fix ?? 'quakectl deploy'})`,
      lines: [...byKind].map(([kind, list]) => ({
        text: `${kind}${list.length > 1 ? 's' : ''}: ${list.map((m) => m.name).join(', ')}`,
        level: 'bad' as const,
      })),
    });
  }
  sections.push({
    title: 'services',
    lines: x.services.map((h) => ({
      text: `${h.service.padEnd(9)} ${h.healthy ? 'ok' : 'DOWN'} ${h.latencyMs} ms${h.detail ? ` (${h.detail})` : ''}`,
      level: h.healthy ? 'ok' : 'bad',
    })),
  });
  sections.push({
    title: 'functions',
    lines: x.functions.map((f) => ({
      text: f.deployed
        ? `${f.role.padEnd(15)} ${(f.state ?? '?').padEnd(8)} reserved ${f.reserved ?? '-'} provisioned ${f.provisioned ?? '-'}${f.lastUpdateStatus && f.lastUpdateStatus !== 'Successful' ? ` update ${f.lastUpdateStatus}` : ''}`
        : `${f.role.padEnd(15)} not deployed`,
      level: !f.deployed ? 'warn' : f.state === 'Active' ? 'ok' : 'warn',
    })),
  });
  sections.push({
    title: 'kafka lag',
    lines: x.lag
      ? [
          {
            text: `${x.lag.topic} group ${x.lag.group}: total ${x.lag.total} (${x.lag.partitions.map((p) => `p${p.partition}:${p.lag}`).join(' ')})`,
            level: x.lag.total > 0 ? 'warn' : 'ok',
          },
        ]
      : [{ text: 'unknown (no consumer mapping)', level: 'warn' }],
  });
  sections.push({
    title: 'DLQs',
    lines: x.dlqs.map((q) => ({
      text: `${q.kind.padEnd(9)} ${q.exists ? q.depth : 'not deployed'}  ${q.queue}`,
      level: !q.exists ? 'warn' : q.depth > 0 ? 'bad' : 'ok',
    })),
  });
  sections.push({
    title: `events in progress (${x.events.length})`,
    lines: x.events.length
      ? x.events.map((e) => ({
          text: `${e.eventId} M${e.magnitude ?? '?'} ${e.place ?? ''}${e.drill ? ' DRILL' : ''}: ${e.state}, segments ${e.done}/${e.total}, delivered ${e.delivered}${e.failed ? `, failed ${e.failed}` : ''}`,
          level: e.failed ? 'warn' : 'ok',
        }))
      : [{ text: 'none', level: 'ok' }],
  });
  if (x.unpublished?.length) {
    sections.push({
      title: `unpublished events (${x.unpublished.length}): accepted, never acknowledged by Kafka`,
      lines: x.unpublished.map((e) => ({
        text: `${e.eventId} M${e.magnitude ?? '?'}${e.place ? ` ${e.place}` : ''}${e.drill ? ' DRILL' : ''}${e.acceptedAt ? `, accepted ${new Date(e.acceptedAt).toISOString()}` : ''}`,
        level: 'bad' as const,
      })),
    });
  }
  sections.push({
    title: 'recent drills',
    lines: x.drills.length
      ? x.drills.map((d) => ({
          text: `${d.eventId} M${d.magnitude ?? '?'} ${d.place ?? ''}: delivered ${d.delivered}${d.failed ? `, failed ${d.failed}` : ''}, first alert ${s(d.firstLatencyMs)}, last ${s(d.lastLatencyMs)}`,
          level: d.failed ? 'warn' : 'ok',
        }))
      : [{ text: 'none in the last 24 h', level: 'ok' }],
  });
  if (x.notes.length) sections.push({ title: 'notes', lines: x.notes.map((n) => ({ text: n, level: 'warn' })) });
  return sections;
}

export function statusText(x: StatusSnapshot): string {
  const head = `quakectl status (profile ${x.profile}, ${new Date(x.at).toISOString()})`;
  return [
    head,
    ...statusSections(x).flatMap((sec) => ['', `${sec.title}:`, ...sec.lines.map((l) => `  ${l.text}`)]),
  ].join('\n');
}
