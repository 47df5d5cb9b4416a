/**
 * One import file, one row per subscriber id. A file that names an id twice is ambiguous (which location, which
 * channel?), so every row of such an id is refused, each naming the other lines, and none of them is written: the
 * operator fixes the file and imports again (the import is idempotent). Works on parsed rows, whatever the format.
 */
import type { BadRow, FileRow } from './subscribers-file.ts';

export function refuseDuplicateIds(rows: readonly FileRow[]): { rows: FileRow[]; duplicates: BadRow[] } {
  const byId = Map.groupBy(rows, (r) => r.subscriber.id);
  const kept: FileRow[] = [];
  const duplicates: BadRow[] = [];
  for (const r of rows) {
    const same = byId.get(r.subscriber.id) ?? [];
    if (same.length === 1) {
      kept.push(r);
      continue;
    }
    const others = same.filter((o) => o !== r).map((o) => o.line);
    duplicates.push({
      line: r.line,
      id: r.subscriber.id,
      reason: `duplicate id "${r.subscriber.id}": also on line${others.length > 1 ? 's' : ''} ${others.join(', ')}`,
    });
  }
  return { rows: kept, duplicates };
}
