/**
 * Where CAP documents and their Atom index are kept: a directory (the local stack; `quakectl local up` serves it over
 * HTTP, local/cap-server.ts) or an S3 bucket (AWS). Both hold flat names: `<identifier>.xml` per message and
 * `index.atom`. A store only puts, gets and lists; what the index says is decided by cap-publish.ts from the listing.
 *
 * - Directory: every file is written to a unique temporary name and renamed (rename(2) is atomic within a file
 *   system), so a reader never sees half a document and two writers of one name leave one whole file.
 * - S3: PutObject with `Content-Type` `application/cap+xml` or `application/atom+xml` and a `Cache-Control` (the
 *   index short: aggregators poll it; a message longer: it never changes meaning); ListObjectsV2 under the key prefix
 *   (delimiter `/`: nothing below it); GetObject. S3 has read-after-write and list-after-write consistency (Amazon S3
 *   User Guide, "Amazon S3 data consistency model"), which the index rebuild relies on. SDK errors pass through
 *   (the client retries throttling and 5xx under the `sdk` policy, shared/infra/retry.ts).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { CAP_MEDIA_TYPE } from './cap.ts';

export const ATOM_MEDIA_TYPE = 'application/atom+xml';
export const CAP_INDEX_NAME = 'index.atom';
/** Aggregators poll the index; a cached copy must not hide a new alert for long. */
export const INDEX_CACHE_CONTROL = 'public, max-age=10';
/** A message is rewritten only with the same bytes (identifiers are per version). */
export const MESSAGE_CACHE_CONTROL = 'public, max-age=3600';

export type CapObjectKind = 'message' | 'index';

export interface CapStore {
  /** For logs and reports: a directory path or `s3://bucket/prefix`. */
  readonly location: string;
  put(name: string, body: string, kind: CapObjectKind): Promise<void>;
  /** The object's text, or undefined when there is none. */
  get(name: string): Promise<string | undefined>;
  /** Names of the objects directly in the store (not below it), in no particular order. */
  list(): Promise<string[]>;
}

/** A name the store accepts: one path segment, no traversal (identifiers are CAP tokens, cap.ts `token`). */
export function isCapName(name: string): boolean {
  return /^[A-Za-z0-9._:@-]+$/.test(name) && !name.startsWith('.');
}

function checkName(name: string): void {
  if (!isCapName(name)) throw new RangeError(`not a CAP store name: ${JSON.stringify(name)}`);
}

/** A directory store (created on first write). Errors: the fs error (EACCES, ENOSPC, …). */
export function directoryCapStore(dir: string): CapStore {
  return {
    location: dir,
    async put(name, body) {
      checkName(name);
      await mkdir(dir, { recursive: true });
      const path = join(dir, name);
      // Unique per write: two publishes in one process (or two processes) never share a temporary file.
      const tmp = join(dir, `.${name}.${randomUUID()}.tmp`);
      try {
        await writeFile(tmp, body);
        await rename(tmp, path);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    },
    async get(name) {
      checkName(name);
      return readFile(join(dir, name), 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      });
    },
    async list() {
      const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return [];
        throw err;
      });
      return entries.filter((e) => e.isFile() && isCapName(e.name)).map((e) => e.name);
    },
  };
}

/** The SDK's S3 module, evaluated on first use (see shared/infra/clients.ts `s3`). */
const sdk = () => import('@aws-sdk/client-s3');

/**
 * An S3 store: objects `<prefix><name>` in `bucket` (`prefix` empty or ending in `/`); `s3` gives the client (the one
 * factory's `clients.s3`). Errors: the SDK's (AccessDenied, NoSuchBucket, …); a missing object on `get` is undefined.
 */
export function s3CapStore(s3: () => Promise<S3Client>, bucket: string, prefix = ''): CapStore {
  if (prefix !== '' && !prefix.endsWith('/')) throw new RangeError(`S3 key prefix "${prefix}" must end with /`);
  return {
    location: `s3://${bucket}/${prefix}`,
    async put(name, body, kind) {
      checkName(name);
      const { PutObjectCommand } = await sdk();
      await (await s3()).send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `${prefix}${name}`,
          Body: body,
          ContentType: kind === 'index' ? ATOM_MEDIA_TYPE : CAP_MEDIA_TYPE,
          CacheControl: kind === 'index' ? INDEX_CACHE_CONTROL : MESSAGE_CACHE_CONTROL,
        }),
      );
    },
    async get(name) {
      checkName(name);
      const { GetObjectCommand } = await sdk();
      try {
        const out = await (await s3()).send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}${name}` }));
        return (await out.Body?.transformToString('utf-8')) ?? '';
      } catch (err) {
        if ((err as { name?: string }).name === 'NoSuchKey') return undefined;
        throw err;
      }
    },
    async list() {
      const { ListObjectsV2Command } = await sdk();
      const client = await s3();
      const names: string[] = [];
      let token: string | undefined;
      do {
        const out = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }),
        );
        for (const o of out.Contents ?? []) {
          const name = o.Key?.slice(prefix.length);
          if (name && isCapName(name)) names.push(name);
        }
        token = out.IsTruncated ? out.NextContinuationToken : undefined;
      } while (token);
      return names;
    },
  };
}
