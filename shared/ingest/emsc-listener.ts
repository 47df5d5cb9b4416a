/**
 * EMSC SeismicPortal real-time listener: a websocket client of wss://www.seismicportal.eu/standing_order/websocket,
 * whose messages are `{"action":"create"|"update","data":Feature}` (parsed by shared/quake `parseEmscMessage`).
 *
 * Keeping the connection honest: a ping every 15 s; no pong within `pongTimeoutMs` means the connection is dead even
 * if TCP has not noticed (NAT timeouts, a half-open socket), so it is terminated. Any close that was not asked for is
 * followed by a reconnect after an exponential backoff with jitter; the attempt count resets once a connection proves
 * itself (a message arrives, or it stays open `stableMs`).
 *
 * Resume without duplicates: the portal has no resume token, and on reconnect it (or a proxy) may replay recent
 * messages. Every message is compared with the version remembered for its `unid` (`lastupdate`): only a new event or
 * a newer `lastupdate` is forwarded, so a replay, or an update older than one already forwarded, is dropped. Messages
 * are handled one at a time in arrival order; a version is remembered only after its forward succeeded.
 */
import WebSocket from 'ws';
import { RETRY_POLICIES, withRetry } from '../infra/retry.ts';
import { parseEmscItem } from '../quake/emsc.ts';
import type { Quake, Retraction } from '../quake/types.ts';
import { isRetriable } from './errors.ts';
import { VersionMemory, type VersionMemoryOptions } from './seen.ts';
import { type BackoffOptions, backoffDelay, type IngestLog, silentLog } from './support.ts';

export const EMSC_WEBSOCKET_URL = 'wss://www.seismicportal.eu/standing_order/websocket';

export interface EmscListenerOptions {
  url?: string;
  /** Sends one event on. Throws to refuse it (retried `forwardAttempts` times when retriable). */
  forward(quake: Quake): Promise<void>;
  /** Sends a deletion (`action: "delete"`) on; without it deletions are counted as rejected and logged. */
  retract?(retraction: Retraction): Promise<void>;
  /** Default 15 s. */
  pingIntervalMs?: number;
  /** Default 10 s. */
  pongTimeoutMs?: number;
  /** Default 10 s. */
  handshakeTimeoutMs?: number;
  /** Reconnect delays; default 1 s doubling to 60 s, with jitter. */
  backoff?: BackoffOptions;
  /** A connection open this long resets the backoff. Default 30 s. */
  stableMs?: number;
  /** Tries per event when the forward fails retriably. Default 5. */
  forwardAttempts?: number;
  memory?: VersionMemoryOptions;
  /** Events whose origin time is older than this are not forwarded (see FeedPollerOptions.maxAgeMs). */
  maxAgeMs?: number;
  now?: () => number;
  log?: IngestLog;
  onState?(state: ListenerState, detail?: Record<string, unknown>): void;
}

export type ListenerState = 'connecting' | 'open' | 'closed' | 'stopped';

export interface ListenerStats {
  connections: number;
  reconnects: number;
  messages: number;
  forwarded: number;
  duplicates: number;
  rejected: number;
  forwardFailures: number;
  pingTimeouts: number;
  tooOld: number;
  /** Deletions forwarded as retractions. */
  retracted?: number;
}

export class EmscListener {
  readonly url: string;
  readonly memory: VersionMemory;
  readonly stats: ListenerStats = {
    connections: 0,
    reconnects: 0,
    messages: 0,
    forwarded: 0,
    duplicates: 0,
    rejected: 0,
    forwardFailures: 0,
    pingTimeouts: 0,
    tooOld: 0,
  };
  private readonly opts: EmscListenerOptions;
  private readonly log: IngestLog;
  private readonly stopping = new AbortController();
  private ws: WebSocket | undefined;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private pongTimer: NodeJS.Timeout | undefined;
  private stableTimer: NodeJS.Timeout | undefined;
  // Messages are handled strictly in order, one after the other.
  private queue: Promise<void> = Promise.resolve();

  constructor(opts: EmscListenerOptions) {
    this.opts = opts;
    this.url = opts.url ?? EMSC_WEBSOCKET_URL;
    this.memory = new VersionMemory(opts.memory);
    this.log = opts.log ?? silentLog;
  }

  start(): void {
    if (this.stopping.signal.aborted || this.ws) return;
    this.connect();
  }

  /** Closes the connection, stops reconnecting and waits for the events already received to be handled. */
  async stop(): Promise<void> {
    if (!this.stopping.signal.aborted) {
      this.stopping.abort();
      clearTimeout(this.reconnectTimer);
      this.clearHeartbeat();
      this.ws?.close(1000, 'quakectl ingest stopping');
      const ws = this.ws;
      if (ws && ws.readyState !== WebSocket.CLOSED) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            ws.terminate();
            resolve();
          }, 2_000);
          ws.once('close', () => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      this.opts.onState?.('stopped');
    }
    await this.queue;
  }

  private connect(): void {
    this.opts.onState?.('connecting', { url: this.url, attempt: this.attempt });
    const ws = new WebSocket(this.url, { handshakeTimeout: this.opts.handshakeTimeoutMs ?? 10_000 });
    this.ws = ws;
    ws.on('open', () => {
      this.stats.connections++;
      this.opts.onState?.('open', { url: this.url });
      this.stableTimer = setTimeout(() => {
        this.attempt = 0;
      }, this.opts.stableMs ?? 30_000);
      this.startHeartbeat(ws);
    });
    ws.on('message', (data, isBinary) => {
      this.attempt = 0;
      const text = isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString();
      this.queue = this.queue.then(() => this.handle(text));
    });
    ws.on('pong', () => clearTimeout(this.pongTimer));
    ws.on('error', (err) => {
      // Always followed by 'close', which reconnects.
      this.log.warn('emsc websocket error', { url: this.url, error: err.message });
    });
    ws.on('close', (code, reason) => {
      this.clearHeartbeat();
      if (this.ws === ws) this.ws = undefined;
      if (this.stopping.signal.aborted) return;
      const delayMs = backoffDelay(this.attempt++, this.opts.backoff);
      this.stats.reconnects++;
      this.opts.onState?.('closed', { code, reason: reason.toString(), reconnectInMs: delayMs });
      this.reconnectTimer = setTimeout(() => this.connect(), delayMs);
    });
  }

  private startHeartbeat(ws: WebSocket): void {
    const every = this.opts.pingIntervalMs ?? 15_000;
    const wait = this.opts.pongTimeoutMs ?? 10_000;
    this.pingTimer = setInterval(() => {
      if (ws.readyState !== WebSocket.OPEN) return;
      clearTimeout(this.pongTimer);
      this.pongTimer = setTimeout(() => {
        this.stats.pingTimeouts++;
        this.log.warn('emsc websocket: no pong, reconnecting', { url: this.url, waitedMs: wait });
        ws.terminate();
      }, wait);
      ws.ping();
    }, every);
  }

  private clearHeartbeat(): void {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    clearTimeout(this.stableTimer);
  }

  private async handle(text: string): Promise<void> {
    this.stats.messages++;
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      this.stats.rejected++;
      this.log.warn('emsc message is not JSON', { start: text.slice(0, 80) });
      return;
    }
    const parsed = parseEmscItem(message);
    if (parsed.kind === 'retraction' && this.opts.retract) {
      try {
        await this.opts.retract(parsed.retraction);
        this.stats.retracted = (this.stats.retracted ?? 0) + 1;
      } catch (err) {
        this.stats.forwardFailures++;
        this.log.warn('retraction forward failed', { id: parsed.retraction.id, error: (err as Error).message });
      }
      return;
    }
    if (parsed.kind !== 'quake') {
      this.stats.rejected++;
      this.log.warn('emsc message rejected', {
        reason: parsed.kind === 'retraction' ? `${parsed.retraction.reason}: no retraction sink` : parsed.reason,
      });
      return;
    }
    const quake = parsed.quake;
    const now = this.opts.now ?? Date.now;
    if (this.opts.maxAgeMs !== undefined && quake.originTime < now() - this.opts.maxAgeMs) {
      this.stats.tooOld++;
      return;
    }
    const verdict = this.memory.check(quake);
    if (verdict !== 'new' && verdict !== 'updated') {
      this.stats.duplicates++;
      return;
    }
    const policy = {
      ...RETRY_POLICIES.forward,
      attempts: this.opts.forwardAttempts ?? RETRY_POLICIES.forward.attempts,
    };
    let attempt = 0;
    try {
      await withRetry(
        policy,
        async (n) => {
          attempt = n;
          await this.opts.forward(quake);
        },
        {
          retriable: (err) => isRetriable(err) && !this.stopping.signal.aborted,
          onRetry: (err, n) =>
            this.log.warn('forward failed', { id: quake.id, attempt: n, error: (err as Error).message, giveUp: false }),
          signal: this.stopping.signal,
        },
      );
      this.memory.remember(quake);
      this.stats.forwarded++;
    } catch (err) {
      this.log.warn('forward failed', { id: quake.id, attempt, error: (err as Error)?.message, giveUp: true });
      this.stats.forwardFailures++;
    }
  }
}
