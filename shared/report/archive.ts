/**
 * Reports kept on a local profile: `<state dir>/reports/<event id>.html` plus `<event id>.json` (title and time), the
 * list `quakectl console` links to. Event ids are the file names; ids with characters outside [A-Za-z0-9._-] are
 * encoded so no id can name a path outside the directory.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReportData } from './types.ts';

export interface ArchivedReport {
  eventId: string;
  title: string;
  /** Epoch ms the report was made. */
  at: number;
  file: string;
}

export function reportsDir(stateDir: string): string {
  return join(stateDir, 'reports');
}

export function archiveName(eventId: string): string {
  return encodeURIComponent(eventId).replace(/%/g, '_');
}

export async function archiveReport(stateDir: string, data: ReportData, html: string): Promise<string> {
  const dir = reportsDir(stateDir);
  await mkdir(dir, { recursive: true });
  const name = archiveName(data.eventId);
  const meta = {
    eventId: data.eventId,
    title: `${data.drill ? 'DRILL ' : ''}M${data.quake.magnitude} ${data.quake.place} (${data.eventId})`,
    at: data.generatedAt,
  };
  await writeFile(join(dir, `${name}.html`), html);
  await writeFile(join(dir, `${name}.json`), JSON.stringify(meta));
  return join(dir, `${name}.html`);
}

/** Archived reports, newest first. */
export async function listReports(stateDir: string): Promise<ArchivedReport[]> {
  const dir = reportsDir(stateDir);
  const files = await readdir(dir).catch(() => [] as string[]);
  const out: ArchivedReport[] = [];
  for (const f of files.filter((x) => x.endsWith('.json'))) {
    try {
      const meta = JSON.parse(await readFile(join(dir, f), 'utf8')) as Omit<ArchivedReport, 'file'>;
      out.push({ ...meta, file: f.replace(/\.json$/, '.html') });
    } catch {
      // a half-written or foreign file: not a report
    }
  }
  return out.sort((a, b) => b.at - a.at);
}
