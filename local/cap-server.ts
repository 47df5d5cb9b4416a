/**
 * The local stack's CAP feed: serves the CAP directory (`<stateDir>/cap`, written by the consumer through
 * shared/notify/cap-store.ts) read-only over HTTP on loopback, as an S3 bucket serves it on AWS.
 *
 *   GET|HEAD /cap/index.atom               → 200 application/atom+xml (Cache-Control as on S3)
 *   GET|HEAD /cap/<identifier>.xml         → 200 application/cap+xml
 *   GET|HEAD /cap/<system>/index.atom, /cap/<system>/<identifier>.xml
 *                                          → the same from `<dir>/<system>/` (a system with a non-default prefix on
 *                                            the same stack, as the tests run them: shared/notify/cap-config.ts)
 *   GET /health                            → 200 {"service":"cap","dir":…} (what `local status` asks)
 *   anything else                          → 404; other methods → 405 with `Allow: GET, HEAD`
 *
 * Paths are matched against a whitelist of single segments (cap-store.ts `isCapName`: no `/`, no leading dot, so no
 * `..`), and the resolved file must still lie inside the directory; percent-encoded paths are decoded once before
 * matching. Nothing is listed.
 *
 * Run: `node local/cap-server.ts --port <port> --dir <dir>` (local/stack/node-services.ts starts it).
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { CAP_MEDIA_TYPE } from '../shared/notify/cap.ts';
import {
  ATOM_MEDIA_TYPE,
  CAP_INDEX_NAME,
  INDEX_CACHE_CONTROL,
  isCapName,
  MESSAGE_CACHE_CONTROL,
} from '../shared/notify/cap-store.ts';

const SYSTEM = /^[A-Za-z0-9_-]{1,64}$/;

/** The file a request path names inside `root`, with its media type, or undefined (404). */
export function capFileFor(root: string, path: string): { file: string; type: string; cache: string } | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return undefined;
  }
  const parts = decoded.split('/');
  if (parts[0] !== '' || parts[1] !== 'cap') return undefined;
  const rest = parts.slice(2);
  if (rest.length === 2 && !SYSTEM.test(rest[0])) return undefined;
  if (rest.length < 1 || rest.length > 2) return undefined;
  const name = rest[rest.length - 1];
  if (!isCapName(name)) return undefined;
  const kind = name === CAP_INDEX_NAME ? 'index' : name.endsWith('.xml') ? 'message' : undefined;
  if (!kind) return undefined;
  const base = resolve(root);
  const file = resolve(base, ...rest);
  if (!file.startsWith(base + sep)) return undefined;
  return kind === 'index'
    ? { file, type: ATOM_MEDIA_TYPE, cache: INDEX_CACHE_CONTROL }
    : { file, type: CAP_MEDIA_TYPE, cache: MESSAGE_CACHE_CONTROL };
}

export interface CapServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Starts the server on 127.0.0.1 (`port` 0: a free one). Errors: listen's (EADDRINUSE). */
export function startCapServer(o: { dir: string; port?: number }): Promise<CapServer> {
  const server: Server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/health') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ service: 'cap', dir: o.dir }));
      return;
    }
    const target = capFileFor(o.dir, path);
    const body = target ? await readFile(target.file).catch(() => undefined) : undefined;
    if (!target || body === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    res.writeHead(200, {
      'Content-Type': target.type,
      'Content-Length': body.length,
      'Cache-Control': target.cache,
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen({ port: o.port ?? 0, host: '127.0.0.1' }, () => {
      const port = (server.address() as AddressInfo).port;
      ok({
        url: `http://127.0.0.1:${port}`,
        port,
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { port: { type: 'string' }, dir: { type: 'string' } } });
  if (!values.port || !values.dir) {
    process.stderr.write('usage: cap-server.ts --port <port> --dir <dir>\n');
    process.exit(2);
  }
  const s = await startCapServer({ dir: values.dir, port: Number(values.port) });
  process.stdout.write(`CAP feed ${values.dir} at ${s.url}/cap/index.atom\n`);
  const stop = () => void s.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
