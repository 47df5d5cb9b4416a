/**
 * Publishes CAP messages (cap.ts) into a directory: one `<identifier>.xml` per message, `messages.json` (what the
 * index needs of every message ever written there) and `index.atom` (RFC 4287, newest first). Every file is written
 * to a temporary name and renamed, so a reader polling the directory never sees half a document. Identifiers and
 * documents are deterministic, so publishing the same event again rewrites the same bytes and adds nothing.
 *
 * Locally the directory is `<stateDir>/cap` (`quakectl cap publish`); on AWS the same files go to an S3 bucket
 * (not built yet: docs/architecture.md section 6).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventRecord } from '../events/types.ts';
import type { Quake } from '../quake/types.ts';
import { type CapMessage, type CapOptions, type CapRetraction, capAtomIndex, capMessagesForEvent } from './cap.ts';

/** One manifest row: a message without its document. */
export type CapManifestEntry = Omit<CapMessage, 'xml'>;

/**
 * The versions an event alerted for (its plan runs in `alert` mode, oldest first; an event planned before runs were
 * kept: its planned version) and its retraction when the networks withdrew it. Events never planned (below the
 * alert threshold, skipped) give no versions and so no CAP message.
 */
export function capInputsOf(record: EventRecord): { versions: Quake[]; retraction?: CapRetraction } {
  const versions = (record.runs ?? []).filter((r) => r.mode === 'alert').map((r) => r.quake);
  if (versions.length === 0 && record.plannedQuake) versions.push(record.plannedQuake);
  const retraction =
    record.retractedAt !== undefined && record.retraction
      ? { reason: `${record.retraction.source}: ${record.retraction.reason}`, updatedAt: record.retraction.updatedAt }
      : undefined;
  return { versions, retraction };
}

/** The CAP messages of an event record (see capInputsOf). */
export function capMessagesForRecord(record: EventRecord, opts: CapOptions): CapMessage[] {
  const { versions, retraction } = capInputsOf(record);
  return capMessagesForEvent(versions, retraction, opts);
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

export interface PublishResult {
  dir: string;
  /** Files of the messages given, in order. */
  files: string[];
  /** Messages the index lists now (all publications into the directory). */
  indexed: number;
  index: string;
}

/**
 * Writes `messages` into `dir` (created if missing) and regenerates the index from the manifest merged with them
 * (by identifier). `baseUrl` is where the directory is served. Throws the fs error when the directory cannot be
 * written; a manifest that is not JSON is an Error naming the file (nothing is overwritten then).
 */
export async function publishCapDirectory(
  dir: string,
  messages: readonly CapMessage[],
  opts: { baseUrl: string; sender: string; title?: string },
): Promise<PublishResult> {
  await mkdir(dir, { recursive: true });
  const manifestPath = join(dir, 'messages.json');
  let manifest: CapManifestEntry[] = [];
  const text = await readFile(manifestPath, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (text !== undefined) {
    try {
      manifest = JSON.parse(text) as CapManifestEntry[];
      if (!Array.isArray(manifest)) throw new Error('not an array');
    } catch (err) {
      throw new Error(`${manifestPath}: not a CAP manifest (${(err as Error).message}); move it away to rebuild`);
    }
  }
  const byId = new Map(manifest.map((m) => [m.identifier, m]));
  const files: string[] = [];
  for (const m of messages) {
    const file = join(dir, `${m.identifier}.xml`);
    await writeAtomically(file, m.xml);
    files.push(file);
    const { xml: _xml, ...entry } = m;
    byId.set(m.identifier, entry);
  }
  const all = [...byId.values()];
  await writeAtomically(manifestPath, `${JSON.stringify(all, null, 1)}\n`);
  const index = join(dir, 'index.atom');
  await writeAtomically(index, capAtomIndex(all, opts));
  return { dir, files, indexed: all.length, index };
}
