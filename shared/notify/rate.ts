/**
 * A provider's send rate shared by every chain of every event: SMS, email, Telegram and push providers each allow a
 * fixed number of requests per second per account (or bot), far below a webhook's throughput, and several segment
 * worker invocations send at once. Bursting past the rate draws throttling answers, whose waits are longer than the
 * pacing would have been.
 *
 * Protocol (DynamoDB, the locks table): one item per provider, `pk = rate#<provider>`, holding the current window
 * (`win`, the window's index since the epoch) and the tokens taken in it (`taken`). A sender claims a block of tokens
 * with one conditional UpdateItem — `ADD taken :n` if `win = :w AND taken <= :cap - :n` — or opens the window —
 * `SET win = :w, taken = :start + :n` if the stored window is older (or absent), `start` being the index of the
 * present moment in the window. Token k of window w may be used at `w·W + k·W/cap`, and lapses once its moment is more
 * than one spacing past: sends are spread evenly over the window, so even the claims of many processes never burst.
 * When the window is full the claimer waits for the next one. Tokens a process claimed but did not use lapse with
 * their window (a small loss of capacity, never an excess).
 *
 * One item per provider keeps the table bounded (no expiry needed). Its write rate is at most the number of claims,
 * a fraction of the send rate (blocks of about an eighth of a window's capacity).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';

/** A claimed range of token indices [from, to) in window `win`. */
export interface TokenClaim {
  win: number;
  from: number;
  to: number;
}

/** Where the shared counts live. */
export interface RateStore {
  /**
   * Claims up to `n` tokens of window `win` out of `cap`; null when the window is full. `start`: the first index a
   * window opened now may hand out (the tokens before it belong to moments already past).
   */
  claim(provider: string, win: number, n: number, cap: number, start: number): Promise<TokenClaim | null>;
}

/** The counts in one process (unit tests, a single-process tool); the same claim semantics as DynamoRateStore. */
export class MemoryRateStore implements RateStore {
  private readonly items = new Map<string, { win: number; taken: number }>();
  async claim(provider: string, win: number, n: number, cap: number, start: number): Promise<TokenClaim | null> {
    const item = this.items.get(provider);
    if (!item || item.win < win) {
      const to = Math.min(cap, start + n);
      if (to <= start) return null;
      this.items.set(provider, { win, taken: to });
      return { win, from: start, to };
    }
    if (item.win > win) return null;
    const k = Math.min(n, cap - item.taken);
    if (k <= 0) return null;
    item.taken += k;
    return { win, from: item.taken - k, to: item.taken };
  }
}

/** The shared counts in a DynamoDB table keyed by `pk` (the locks table). */
export class DynamoRateStore implements RateStore {
  private readonly ddb: DynamoDBDocumentClient;
  private readonly table: string;
  constructor(ddb: DynamoDBDocumentClient, table: string) {
    this.ddb = ddb;
    this.table = table;
  }

  async claim(provider: string, win: number, n: number, cap: number, start: number): Promise<TokenClaim | null> {
    const Key = { pk: `rate#${provider}` };
    // Try n, then fewer: the end of a window may have a few tokens left.
    for (const k of n > 1 ? [n, 1] : [1]) {
      try {
        const out = await this.ddb.send(
          new UpdateCommand({
            TableName: this.table,
            Key,
            UpdateExpression: 'ADD taken :n',
            ConditionExpression: '#w = :w AND taken <= :max',
            ExpressionAttributeNames: { '#w': 'win' },
            ExpressionAttributeValues: { ':n': k, ':w': win, ':max': cap - k },
            ReturnValues: 'UPDATED_NEW',
          }),
        );
        const taken = Number(out.Attributes?.taken);
        return { win, from: taken - k, to: taken };
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      }
      // The stored window is not ours: open ours if it is older (or the item is new).
      const to = Math.min(cap, start + n);
      if (to <= start) return null;
      try {
        await this.ddb.send(
          new UpdateCommand({
            TableName: this.table,
            Key,
            UpdateExpression: 'SET #w = :w, taken = :to',
            ConditionExpression: 'attribute_not_exists(#w) OR #w < :w',
            ExpressionAttributeNames: { '#w': 'win' },
            ExpressionAttributeValues: { ':to': to, ':w': win },
          }),
        );
        return { win, from: start, to };
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      }
      // Our window exists and has fewer than k tokens left (or a later window is open): try one token, then give up.
    }
    return null;
  }
}

export interface RateGateOptions {
  /** Sends per second per provider. */
  rates: Record<string, number>;
  /** Clock (epoch ms); tests move it. */
  now?: () => number;
}

/**
 * Paces sends of each provider to its rate, shared through a RateStore. `take` resolves at the token's moment (never
 * early), or rejects with the signal's reason when aborted. Providers without a rate are not paced.
 */
export class RateGate {
  private readonly local = new Map<string, { win: number; next: number; to: number }>();
  private readonly claiming = new Map<string, Promise<void>>();
  private readonly now: () => number;
  /** Tokens that waited for a later window because the current one was full (a measure of throttling by us). */
  waits = 0;

  private readonly store: RateStore;
  private readonly opts: RateGateOptions;

  constructor(store: RateStore, opts: RateGateOptions) {
    this.store = store;
    this.opts = opts;
    this.now = opts.now ?? Date.now;
  }

  /** Window length (ms) and tokens per window for `rate` per second: at least one token per window. */
  static window(rate: number): { ms: number; cap: number } {
    if (rate >= 1) return { ms: 1000, cap: Math.floor(rate) };
    return { ms: Math.ceil(1000 / rate), cap: 1 };
  }

  /** Waits until this process may send one request to `provider`. */
  async take(provider: string, signal?: AbortSignal): Promise<void> {
    const rate = this.opts.rates[provider];
    if (!rate) return;
    const { ms, cap } = RateGate.window(rate);
    for (;;) {
      signal?.throwIfAborted();
      const t = this.local.get(provider);
      const now = this.now();
      const nowWin = Math.floor(now / ms);
      // A token whose moment passed more than one spacing ago lapses: sent now, it would crowd the tokens after it.
      while (t && t.next < t.to && t.win * ms + ((t.next + 1) * ms) / cap < now) t.next++;
      if (t && t.win >= nowWin && t.next < t.to) {
        const k = t.next++;
        const at = t.win * ms + (k * ms) / cap;
        const wait = at - now;
        if (wait > 0) await sleep(wait, undefined, signal ? { signal } : undefined);
        return;
      }
      // Claim a block for this window (one claimer per provider at a time; the others wait for its tokens).
      const pending = this.claiming.get(provider);
      if (pending) {
        await pending;
        continue;
      }
      const claim = this.claim(provider, nowWin, ms, cap, signal);
      this.claiming.set(provider, claim);
      try {
        await claim;
      } finally {
        this.claiming.delete(provider);
      }
    }
  }

  private async claim(provider: string, win: number, ms: number, cap: number, signal?: AbortSignal): Promise<void> {
    const block = Math.max(1, Math.floor(cap / 8));
    for (let w = win; ; w++) {
      const start = Math.max(0, Math.floor(((this.now() - w * ms) * cap) / ms));
      const got = start < cap ? await this.store.claim(provider, w, block, cap, start) : null;
      if (got) {
        this.local.set(provider, { win: got.win, next: got.from, to: got.to });
        return;
      }
      // Window full: the next one, once it has begun.
      this.waits++;
      const wait = (w + 1) * ms - this.now();
      if (wait > 0) await sleep(wait, undefined, signal ? { signal } : undefined);
    }
  }
}
