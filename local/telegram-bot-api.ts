/**
 * A local Telegram Bot API server (the subset quakectl uses) for tests and drills: `POST /bot<token>/sendMessage`
 * (JSON body) and `GET|POST /bot<token>/getMe`, answering as https://core.telegram.org/bots/api documents:
 * `{"ok":true,"result":…}` or `{"ok":false,"error_code","description","parameters"?}` with the same HTTP status.
 *
 * Documented behaviours it implements (and test/unit/notify-telegram.test.ts checks):
 * - 401 `Unauthorized` for any token but the configured one ("Making requests").
 * - 404 `Not Found` for methods it does not implement.
 * - 400 `Bad Request: chat_id is empty`, `Bad Request: message text is empty`, `Bad Request: message is too long`
 *   (over 4096 characters, sendMessage), `Bad Request: chat not found` (chat ids listed as unknown).
 * - 403 `Forbidden: bot was blocked by the user` for chats listed as blocked.
 * - 429 `Too Many Requests: retry after N` with `parameters.retry_after` (ResponseParameters) when the bot exceeds
 *   30 messages per second (a token bucket of 30 refilled at 30/s: the Bot FAQ's bulk limit, short bursts allowed) or
 *   one chat gets more than one message per second (20 per minute for groups), and on demand (`throttleNext`).
 * It records every accepted message with its arrival time; nothing leaves 127.0.0.1.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BotMessage {
  chatId: string;
  text: string;
  messageId: number;
  receivedAt: number;
}

export interface BotApiOptions {
  token: string;
  port?: number;
  blocked?: readonly string[];
  unknown?: readonly string[];
  perBotPerSecond?: number;
}

export interface BotApiServer {
  /** Base URL for TelegramSender's `apiBase`. */
  url: string;
  messages(): BotMessage[];
  /** 429 answers sent (rate limit exceeded or forced). */
  throttled(): number;
  /** Every request, refused ones included. */
  requests(): number;
  /** The next `n` sendMessage calls get 429 with `retry_after` = `seconds`. */
  throttleNext(n: number, seconds: number): void;
  close(): Promise<void>;
}

export async function startBotApi(opts: BotApiOptions): Promise<BotApiServer> {
  const blocked = new Set(opts.blocked ?? []);
  const unknown = new Set(opts.unknown ?? []);
  const rate = opts.perBotPerSecond ?? 30;
  const messages: BotMessage[] = [];
  let throttled = 0;
  let requests = 0;
  let forced = { n: 0, seconds: 1 };
  let tokens = rate;
  let refilledAt = Date.now();
  const lastByChat = new Map<string, number[]>();

  const answer = (res: ServerResponse, status: number, body: object) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const error = (res: ServerResponse, code: number, description: string, retryAfter?: number) =>
    answer(res, code, {
      ok: false,
      error_code: code,
      description,
      ...(retryAfter !== undefined ? { parameters: { retry_after: retryAfter } } : {}),
    });

  /** Over the per-chat limit: at most 1 in the last second (20 in the last minute for groups). */
  const chatOverLimit = (chatId: string, now: number): boolean => {
    const group = chatId.startsWith('-') || chatId.startsWith('@');
    const windowMs = group ? 60_000 : 1000;
    const max = group ? 20 : 1;
    const recent = (lastByChat.get(chatId) ?? []).filter((t) => now - t < windowMs);
    lastByChat.set(chatId, recent);
    return recent.length >= max;
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    requests++;
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec((req.url ?? '').split('?')[0]);
    if (!m) return error(res, 404, 'Not Found');
    if (m[1] !== opts.token) return error(res, 401, 'Unauthorized');
    if (m[2] === 'getMe') return answer(res, 200, { ok: true, result: { id: 1, is_bot: true, first_name: 'local' } });
    if (m[2] !== 'sendMessage') return error(res, 404, 'Not Found');
    let body: { chat_id?: unknown; text?: unknown };
    try {
      body = JSON.parse(raw || '{}');
    } catch {
      return error(res, 400, "Bad Request: can't parse JSON object");
    }
    const chatId = body.chat_id === undefined || body.chat_id === '' ? '' : String(body.chat_id);
    const text = typeof body.text === 'string' ? body.text : '';
    if (!chatId) return error(res, 400, 'Bad Request: chat_id is empty');
    if (!text) return error(res, 400, 'Bad Request: message text is empty');
    if ([...text].length > 4096) return error(res, 400, 'Bad Request: message is too long');
    if (unknown.has(chatId)) return error(res, 400, 'Bad Request: chat not found');
    if (blocked.has(chatId)) return error(res, 403, 'Forbidden: bot was blocked by the user');
    const now = Date.now();
    tokens = Math.min(rate, tokens + ((now - refilledAt) / 1000) * rate);
    refilledAt = now;
    if (forced.n > 0) {
      forced.n--;
      throttled++;
      return error(res, 429, `Too Many Requests: retry after ${forced.seconds}`, forced.seconds);
    }
    if (tokens < 1 || chatOverLimit(chatId, now)) {
      throttled++;
      return error(res, 429, 'Too Many Requests: retry after 1', 1);
    }
    tokens -= 1;
    lastByChat.get(chatId)?.push(now);
    const message = { chatId, text, messageId: messages.length + 1, receivedAt: now };
    messages.push(message);
    answer(res, 200, {
      ok: true,
      result: { message_id: message.messageId, date: Math.floor(now / 1000), chat: { id: chatId }, text },
    });
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    messages: () => [...messages],
    throttled: () => throttled,
    requests: () => requests,
    throttleNext(n, seconds) {
      forced = { n, seconds };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
