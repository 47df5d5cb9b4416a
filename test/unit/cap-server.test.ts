/**
 * The local CAP feed (local/cap-server.ts) over real HTTP on loopback: the index and documents with their media types,
 * a system's sub-feed, 404 for anything else, no way out of the directory (raw request paths, since `fetch`
 * normalises `..` away before sending), 405 for writes.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CapServer, startCapServer } from '../../local/cap-server.ts';

let root: string;
let dir: string;
let server: CapServer;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'quakectl-capsrv-'));
  writeFileSync(join(root, 'secret.json'), '{"password":"x"}');
  dir = join(root, 'cap');
  mkdirSync(join(dir, 'tsys1'), { recursive: true });
  writeFileSync(join(dir, 'index.atom'), '<feed/>');
  writeFileSync(join(dir, 'quakectl-ev1-1000.xml'), '<alert/>');
  writeFileSync(join(dir, 'notes.txt'), 'not served');
  writeFileSync(join(dir, 'tsys1', 'index.atom'), '<feed>sys</feed>');
  server = await startCapServer({ dir });
});
afterAll(async () => server?.close());

/** One request with the path sent exactly as given. */
function raw(path: string, method = 'GET'): Promise<{ status: number; type?: string; body: string; allow?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          type: res.headers['content-type'],
          body,
          allow: res.headers.allow as string | undefined,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('local CAP feed', () => {
  it('serves the index and a document with their media types', async () => {
    const index = await fetch(`${server.url}/cap/index.atom`);
    expect([index.status, index.headers.get('content-type'), await index.text()]).toEqual([
      200,
      'application/atom+xml',
      '<feed/>',
    ]);
    const doc = await fetch(`${server.url}/cap/quakectl-ev1-1000.xml`);
    expect([doc.status, doc.headers.get('content-type'), await doc.text()]).toEqual([
      200,
      'application/cap+xml',
      '<alert/>',
    ]);
    expect(doc.headers.get('cache-control')).toMatch(/max-age/);
    const sys = await fetch(`${server.url}/cap/tsys1/index.atom`);
    expect([sys.status, await sys.text()]).toEqual([200, '<feed>sys</feed>']);
    const head = await raw('/cap/index.atom', 'HEAD');
    expect([head.status, head.body]).toEqual([200, '']);
  });

  it('answers 404 for what is not a feed file, and never leaves the directory', async () => {
    for (const path of [
      '/cap/missing.xml',
      '/cap/notes.txt',
      '/cap/',
      '/cap',
      '/cap/tsys1',
      '/cap/../secret.json',
      '/cap/..%2fsecret.json',
      '/cap/%2e%2e/secret.json',
      '/cap/tsys1/../../secret.json',
      '/cap/tsys1/..%2f..%2fsecret.json',
      '/cap/.hidden.xml',
      '/cap/a/b/index.atom',
      '/secret.json',
      '/cap/%',
    ]) {
      const r = await raw(path);
      expect([path, r.status]).toEqual([path, 404]);
      expect(r.body).not.toContain('password');
    }
  });

  it('refuses writes with 405 and answers its health check', async () => {
    const r = await raw('/cap/index.atom', 'PUT');
    expect([r.status, r.allow]).toEqual([405, 'GET, HEAD']);
    const h = await fetch(`${server.url}/health`);
    expect(await h.json()).toEqual({ service: 'cap', dir });
  });
});
