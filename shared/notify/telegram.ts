/**
 * The `telegram` channel: Telegram Bot API `sendMessage` (https://core.telegram.org/bots/api#sendmessage), one
 * message per notification, `POST <apiBase>/bot<token>/sendMessage` with a JSON body `{chat_id, text}`. Answers are
 * `{"ok":true,"result":Message}` or `{"ok":false,"error_code","description","parameters"?}`.
 *
 * - Rates (Bot FAQ, "My bot is hitting limits"): about 30 messages per second per bot for bulk notifications, no more
 *   than one per second to one chat, 20 per minute to one group (negative chat ids and @channels). Sends are paced to
 *   stay under them: a per-bot spacing of ⌈1000/perSecond⌉ ms and per-chat spacing of 1 s (3 s for groups), times
 *   `CHAT_PACING_MARGIN`. The per-bot rate is also shared by every process through the Deliverer's RateGate
 *   (rate.ts, provider `telegram-bot`); the per-chat spacing lives in this process (a chat is one subscriber, in one
 *   chain).
 * - 429: wait `parameters.retry_after` seconds (ResponseParameters) and send again, while the target's time budget
 *   lasts; past it the notification fails with the server's wait in the reason (retriable: a redrive may succeed).
 * - 403 (bot blocked by the user, kicked from the group, user deactivated): the subscriber is gone. Not retried, not
 *   parked (a redrive would get 403 again): reported as `gone`.
 * - 5xx, timeouts, connection errors: retried with backoff within the budget. Other 4xx (400 chat not found, message
 *   too long, 401 bad token): not retried.
 * The bot token is part of the URL; it is never put into a reason, a log line or an error message.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { fetch } from 'undici';
import type { ChannelSender, SendOutcome } from './channel.ts';
import { redactChat } from './targets.ts';
import type { DeliveryItem } from './types.ts';

/** The Bot FAQ's limits (messages). */
export const TELEGRAM_LIMITS = { perBotPerSecond: 30, perChatPerSecond: 1, perGroupPerMinute: 20 } as const;
/**
 * Per-chat spacing is the documented interval times this: a request that leaves late by up to a fifth of the interval
 * (event-loop or network delay) still arrives after the chat's window, instead of drawing a 429 and a wait.
 */
export const CHAT_PACING_MARGIN = 1.2;
/** Longest text `sendMessage` accepts (characters after entities parsing). */
export const TELEGRAM_MAX_TEXT = 4096;

export interface TelegramOptions {
  /** Bot token (`123456:ABC…`), from Secrets Manager or QUAKECTL_TELEGRAM_BOT_TOKEN. Never logged. */
  token: string;
  /** Default https://api.telegram.org; a local Bot API server in tests. */
  apiBase?: string;
  perBotPerSecond?: number;
  /**
   * Space this sender's own sends at the per-bot rate (default true). False when the Deliverer's shared RateGate
   * paces the bot (telegramSenderFromEnv): a second, per-process spacing after the shared token would delay sends
   * past their token's moment, and the late sends of one process would then overlap the on-time sends of another.
   */
  paceBot?: boolean;
  timeoutMs?: number;
  /** One notification's whole time, waits for 429s and retries included (default 10,000 ms). */
  budgetMs?: number;
  maxAttempts?: number;
}

export type TelegramResult = SendOutcome;

interface BotAnswer {
  ok?: boolean;
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number };
}

function isGroup(chatId: string): boolean {
  return chatId.startsWith('-') || chatId.startsWith('@');
}

export class TelegramSender implements ChannelSender {
  readonly type = 'telegram' as const;
  /** One bot's budget: every chain sending with this token shares it. */
  readonly provider = 'telegram-bot';
  private readonly url: string;
  private readonly botSpacingMs: number;
  private nextBotSlot = 0;
  private readonly nextChatSlot = new Map<string, number>();
  readonly opts: Required<Omit<TelegramOptions, 'token' | 'apiBase'>>;

  constructor(opts: TelegramOptions) {
    if (!/^\d+:[A-Za-z0-9_-]+$/.test(opts.token)) throw new RangeError('telegram: the bot token is not <id>:<secret>');
    this.url = `${(opts.apiBase ?? 'https://api.telegram.org').replace(/\/$/, '')}/bot${opts.token}/sendMessage`;
    this.opts = {
      perBotPerSecond: opts.perBotPerSecond ?? TELEGRAM_LIMITS.perBotPerSecond,
      paceBot: opts.paceBot ?? true,
      timeoutMs: opts.timeoutMs ?? 5000,
      budgetMs: opts.budgetMs ?? 10_000,
      maxAttempts: opts.maxAttempts ?? 4,
    };
    this.botSpacingMs = Math.ceil(1000 / this.opts.perBotPerSecond);
  }

  /** Waits for this chat's and the bot's next free send slot, and takes both. */
  private async slot(chatId: string): Promise<void> {
    const now = Date.now();
    const chatSpacing =
      CHAT_PACING_MARGIN *
      (isGroup(chatId) ? 60_000 / TELEGRAM_LIMITS.perGroupPerMinute : 1000 / TELEGRAM_LIMITS.perChatPerSecond);
    const at = Math.max(now, this.nextBotSlot, this.nextChatSlot.get(chatId) ?? 0);
    if (this.opts.paceBot) this.nextBotSlot = at + this.botSpacingMs;
    this.nextChatSlot.set(chatId, at + chatSpacing);
    if (this.nextChatSlot.size > 100_000) {
      for (const [k, t] of this.nextChatSlot) if (t < now) this.nextChatSlot.delete(k);
    }
    if (at > now) await sleep(at - now);
  }

  redact(target: string): string {
    return redactChat(target);
  }

  /** ChannelSender: the notification's text to the channel's chat. */
  send(item: DeliveryItem, signal?: AbortSignal): Promise<SendOutcome> {
    return this.sendText(item.channel.target, item.notification.text, signal);
  }

  /** Sends `text` to `chatId` (see the module comment for what is retried). Never throws. */
  async sendText(chatId: string, text: string, signal?: AbortSignal): Promise<TelegramResult> {
    const deadline = Date.now() + this.opts.budgetMs;
    let attempts = 0;
    let throttled = 0;
    const fail = (reason: string, retriable: boolean, gone = false): TelegramResult => ({
      ok: false,
      gone,
      retriable,
      reason,
      attempts,
      throttled,
    });
    const body = JSON.stringify({ chat_id: chatId, text: text.slice(0, TELEGRAM_MAX_TEXT) });
    let backoffMs = 200;
    /** The last attempt's failure, for the reason when the attempts run out (ECONNREFUSED, a 5xx…). */
    let lastWhy = '';
    while (attempts < this.opts.maxAttempts) {
      await this.slot(chatId);
      if (signal?.aborted) return fail('aborted', false);
      attempts++;
      let status: number;
      let answer: BotAnswer = {};
      try {
        const timeout = AbortSignal.timeout(Math.max(1, Math.min(this.opts.timeoutMs, deadline - Date.now())));
        const res = await fetch(this.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
        });
        status = res.status;
        answer = (await res.json().catch(() => ({}))) as BotAnswer;
      } catch (err) {
        if (signal?.aborted) return fail('aborted', false);
        const e = err as Error & { cause?: { code?: string; message?: string } };
        const why =
          e.name === 'TimeoutError'
            ? 'timeout'
            : `connection error: ${e.cause?.code ?? e.cause?.message ?? e.name ?? 'unknown'}`;
        lastWhy = why;
        if (Date.now() + backoffMs >= deadline) return fail(`telegram ${why}; budget spent`, true);
        await sleep(backoffMs);
        backoffMs *= 2;
        continue;
      }
      if (status >= 200 && status < 300 && answer.ok !== false) {
        const id = (answer as { result?: { message_id?: number } }).result?.message_id;
        return { ok: true, attempts, throttled, providerId: id === undefined ? undefined : String(id) };
      }
      const description = `telegram ${status} ${String(answer.description ?? '').slice(0, 200)}`.trim();
      if (status === 429) {
        throttled++;
        lastWhy = description;
        const waitMs = Math.max(1, answer.parameters?.retry_after ?? 1) * 1000;
        // The server's wait applies to the whole bot: no send of ours may go before it.
        this.nextBotSlot = Math.max(this.nextBotSlot, Date.now() + waitMs);
        if (Date.now() + waitMs >= deadline) return fail(`${description}; retry_after exceeds the budget`, true);
        continue;
      }
      if (status === 403) return fail(`${description}: subscriber gone`, false, true);
      if (status >= 500) {
        lastWhy = description;
        if (Date.now() + backoffMs >= deadline) return fail(`${description}; budget spent`, true);
        await sleep(backoffMs);
        backoffMs *= 2;
        continue;
      }
      return fail(description, false);
    }
    return fail(`telegram: no success after ${attempts} attempt(s)${lastWhy ? `; last: ${lastWhy}` : ''}`, true);
  }
}

/**
 * The sender configured by the environment: `QUAKECTL_TELEGRAM_BOT_TOKEN` (the function's environment, filled from
 * Secrets Manager at deploy; never logged) and optionally `QUAKECTL_TELEGRAM_API_URL` (a local Bot API server).
 * Undefined without a token: telegram notifications are then parked with the reason.
 */
export function telegramSenderFromEnv(env: NodeJS.ProcessEnv = process.env): TelegramSender | undefined {
  const token = env.QUAKECTL_TELEGRAM_BOT_TOKEN;
  if (!token) return undefined;
  return new TelegramSender({ token, apiBase: env.QUAKECTL_TELEGRAM_API_URL || undefined, paceBot: false });
}
