/**
 * One frame of `quakectl console`: the status snapshot (`status --watch`'s data), the map data of each event in
 * progress or finished in the last two minutes (plan cells coloured by their unit's lock, no subscriber reads: a
 * frame is due every couple of seconds), and the reports to link to (archived files first, then recent drills
 * without one, made on demand from the events table).
 */
import type { Clients } from '../infra/clients.ts';
import { errorMessage } from '../infra/errors.ts';
import { statusSnapshot } from '../ops/status/snapshot.ts';
import { archiveName, listReports } from './archive.ts';
import type { ConsoleMessage } from './client.ts';
import { gatherReport } from './gather.ts';
import { reportPayload } from './html.ts';

export interface FrameOptions {
  profile: string;
  /** Local state dir holding archived reports; undefined on AWS profiles. */
  stateDir?: string;
  now?: number;
  /** Finished events stay on the live map this long (ms). */
  lingerMs?: number;
  maxLive?: number;
}

export async function consoleFrame(clients: Clients, opts: FrameOptions): Promise<ConsoleMessage> {
  const now = opts.now ?? Date.now();
  const status = await statusSnapshot(clients, { profile: opts.profile, now });
  const linger = opts.lingerMs ?? 120_000;
  const ids = [
    ...status.events.map((e) => e.eventId),
    ...status.drills.filter((d) => d.completedAt !== undefined && now - d.completedAt <= linger).map((d) => d.eventId),
  ];
  const live = [];
  for (const eventId of [...new Set(ids)].slice(0, opts.maxLive ?? 3)) {
    try {
      const data = await gatherReport({ clients, names: clients.config.names, eventId, dlq: false, now });
      live.push(reportPayload(data, { sFrontAt: now }));
    } catch (err) {
      status.notes.push(`event ${eventId}: ${errorMessage(err)}`);
    }
  }
  const archived = opts.stateDir ? await listReports(opts.stateDir) : [];
  const reports = archived.map((r) => ({ title: r.title, href: `/reports/${r.file}`, at: r.at }));
  const have = new Set(archived.map((r) => r.eventId));
  for (const d of status.drills) {
    if (have.has(d.eventId)) continue;
    reports.push({
      title: `M${d.magnitude ?? '?'} ${d.place ?? ''} (${d.eventId}, from the events table)`,
      href: `/report/${encodeURIComponent(d.eventId)}`,
      at: d.completedAt ?? d.acceptedAt ?? 0,
    });
  }
  return { status, live, reports };
}

export { archiveName };
