/**
 * Deterministic zip: the same files give the same bytes, so the same code gives the same CodeSha256 and `deploy`
 * can skip re-uploading unchanged functions. Entries are sorted by name, every date is 1980-01-01 00:00 (the earliest
 * DOS date a zip can hold) and permissions are fixed to 0644 (Lambda needs files readable by its runtime user).
 */
import { createHash } from 'node:crypto';
import { type Zippable, zipSync } from 'fflate';

/** fflate encodes DOS dates from local-time getters, so build the date in local time: it is then 1980-01-01 anywhere. */
const ZIP_EPOCH = () => new Date(1980, 0, 1, 0, 0, 0);
const UNIX = 3;
const FILE_0644 = (0o100644 << 16) >>> 0;

export function deterministicZip(files: Record<string, Uint8Array>): Uint8Array {
  const entries: Zippable = {};
  for (const name of Object.keys(files).sort()) {
    entries[name] = [files[name], { mtime: ZIP_EPOCH(), os: UNIX, attrs: FILE_0644, level: 9 }];
  }
  return zipSync(entries);
}

/** Base64 SHA-256 of the deployment package: the form Lambda reports as `CodeSha256`. */
export function codeSha256(zip: Uint8Array): string {
  return createHash('sha256').update(zip).digest('base64');
}
