/**
 * Port checks for the local stack. A port is free when we can bind it on the stack's host; on Linux a listener on
 * 0.0.0.0 also makes binding 127.0.0.1 fail, so one check covers both.
 */
import { createConnection, createServer } from 'node:net';

export const LOCAL_HOST = '127.0.0.1';

export function isPortFree(port: number, host = LOCAL_HOST): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** True when something accepts TCP connections on the port. */
export function isListening(port: number, host = LOCAL_HOST, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Waits until every port can be bound again (a stopped process may hold its socket for a moment). */
export async function waitPortsFree(ports: number[], timeoutMs: number, host = LOCAL_HOST): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const busy: number[] = [];
    for (const p of ports) if (!(await isPortFree(p, host))) busy.push(p);
    if (busy.length === 0 || Date.now() >= deadline) return busy;
    await sleep(100);
  }
}

/** A free port chosen by the kernel (for tests and throwaway stacks). */
export function freePort(host = LOCAL_HOST): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host }, () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * `n` distinct ports free on `host` at the time of the call: each is asked of the OS while the ones before it are
 * still held, so two calls' worth cannot coincide (calling `freePort` n times can return one port twice once a
 * released port is handed out again).
 */
export async function freePorts(n: number, host = LOCAL_HOST): Promise<number[]> {
  const servers = [];
  try {
    for (let i = 0; i < n; i++) {
      const server = createServer();
      server.unref();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port: 0, host }, resolve);
      });
      servers.push(server);
    }
    return servers.map((s) => {
      const addr = s.address();
      return typeof addr === 'object' && addr ? addr.port : 0;
    });
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

export function parsePort(value: string | number | undefined, what: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new RangeError(`invalid ${what} "${value}": expected 1-65535`);
  return n;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
