/**
 * `quakectl console`: a read-only web page over what `status --watch` shows, plus the map of each running event
 * filling in as its work units report acknowledged deliveries, pushed with server-sent events (WHATWG HTML, "Server-sent
 * events": `text/event-stream`, one `data:` line per message, blank line between messages), and links to reports.
 *
 * Read-only by construction: GET and HEAD only (405 otherwise), no route changes anything. Bound to loopback by default;
 * there the Host header must name loopback too (a page on another site cannot reach it through DNS rebinding). Bound
 * elsewhere, every request needs the token (`?token=` or `Authorization: Bearer`), compared in constant time.
 */
import { timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { ConsoleMessage } from './client.ts';
import { EventNotFoundError } from './gather.ts';
import { clientScript, page } from './html.ts';

export interface ConsoleServerOptions {
  host: string;
  port: number;
  /** Required when `host` is not loopback. */
  token?: string;
  /** One frame: status snapshot, live events, reports (hrefs without the token; the server adds it). */
  load: () => Promise<ConsoleMessage>;
  intervalMs: number;
  /** Archived reports (`<state>/reports`), served under /reports/. */
  reportsDir?: string;
  /** A report made on demand (events table only), served under /report/<event id>. */
  eventReport?: (eventId: string) => Promise<string>;
}

export interface ConsoleServer {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const SAFE_FILE = /^[A-Za-z0-9._-]+\.html$/;

export async function startConsoleServer(opts: ConsoleServerOptions): Promise<ConsoleServer> {
  const loopback = isLoopback(opts.host);
  if (!loopback && !opts.token) throw new Error(`a token is required to serve the console on ${opts.host}`);
  const script = await clientScript();
  const html = page('quakectl console', '', script);
  const clients = new Set<ServerResponse>();
  let timer: NodeJS.Timeout | undefined;
  let looping = false;
  let last: string | undefined;
  const withToken = (href: string) =>
    opts.token ? `${href}${href.includes('?') ? '&' : '?'}token=${encodeURIComponent(opts.token)}` : href;

  // One polling loop for all viewers, running only while someone watches.
  const tick = async () => {
    looping = true;
    let frame: ConsoleMessage;
    try {
      frame = await opts.load();
    } catch (err) {
      frame = { status: null, live: [], reports: [], error: (err as Error).message };
    }
    frame.reports = frame.reports.map((r) => ({ ...r, href: withToken(r.href) }));
    last = `data: ${JSON.stringify(frame)}\n\n`;
    for (const c of clients) c.write(last);
    if (clients.size > 0) timer = setTimeout(tick, opts.intervalMs);
    else looping = false;
  };

  const authorized = (req: IncomingMessage, url: URL): boolean => {
    if (loopback) {
      const host = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
      if (!isLoopback(host)) return false;
    }
    if (!opts.token) return true;
    const given = url.searchParams.get('token') ?? req.headers.authorization?.replace(/^Bearer\s+/i, '') ?? '';
    return sameSecret(given, opts.token);
  };

  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer) => {
    res.writeHead(status, {
      'content-type': type,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    res.end(body);
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://console.invalid');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, 'text/plain', 'read-only: every action stays in the CLI\n');
    }
    if (!authorized(req, url)) return send(res, 403, 'text/plain', 'forbidden\n');
    try {
      if (url.pathname === '/') return send(res, 200, 'text/html; charset=utf-8', html);
      if (url.pathname === '/favicon.ico') {
        res.writeHead(204, { 'cache-control': 'max-age=86400' });
        return res.end();
      }
      if (url.pathname === '/events') {
        res.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-store',
          connection: 'keep-alive',
        });
        res.write('retry: 2000\n\n');
        if (last) res.write(last);
        clients.add(res);
        req.on('close', () => clients.delete(res));
        if (!looping) void tick();
        return;
      }
      const archived = /^\/reports\/([^/]+)$/.exec(url.pathname);
      if (archived && opts.reportsDir && SAFE_FILE.test(archived[1])) {
        const body = await readFile(join(opts.reportsDir, archived[1])).catch(() => undefined);
        if (body) return send(res, 200, 'text/html; charset=utf-8', body);
      }
      const live = /^\/report\/([^/]+)$/.exec(url.pathname);
      if (live && opts.eventReport) {
        try {
          return send(res, 200, 'text/html; charset=utf-8', await opts.eventReport(decodeURIComponent(live[1])));
        } catch (err) {
          if (err instanceof EventNotFoundError) return send(res, 404, 'text/plain', `${(err as Error).message}\n`);
          throw err;
        }
      }
      return send(res, 404, 'text/plain', 'not found\n');
    } catch (err) {
      return send(res, 500, 'text/plain', `${(err as Error).message}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const shownHost = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: withToken(`http://${shownHost}:${port}/`),
    port,
    server,
    close: async () => {
      if (timer) clearTimeout(timer);
      for (const c of clients) c.end();
      clients.clear();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
