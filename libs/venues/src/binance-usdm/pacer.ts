import type { BinanceUsdmRateLimit } from './frames.js';

/**
 * Request pacing for the polled `order.status` traffic (the algorithm is described in ./README.md, "Pacing").
 *
 * 1. A token bucket: refill rate = min(budget × (1 − safetyMargin) per minute, maxRequestsPerSecond), capacity
 *    `burst`. Every request takes its weight (order.status: 1). Over any minute this sends at most
 *    burst + rate × 60 s, which stays below the budget because the margin is larger than the burst.
 * 2. Feedback from the venue: every response's `rateLimits` entry of type REQUEST_WEIGHT says how much weight the
 *    IP has used in the current window (`count`, shared with every other connection and process on that IP) and
 *    the window's `limit`. Requests sent since that report are still in flight and not yet counted, so the
 *    projected use is count + in flight. When it reaches limit × (1 − safetyMargin), nothing more is sent until the
 *    window ends (windows are aligned to the clock: a MINUTE window ends at the next full minute).
 * 3. Holds: 429/418 (`retryAfter`, or the window end), auth and clock errors (exponential backoff) stop all
 *    requests until a given time.
 * The pacer does not choose *which* order goes next; the client does (oldest due first, so a busy budget is shared
 * round-robin).
 */

export interface PacerOptions {
  /** REQUEST_WEIGHT budget per minute this client may use (Binance: 2400 per IP) */
  budgetPerMinute: number;
  /** 0..1: the share of the budget (and of any reported limit) kept unused */
  safetyMargin: number;
  /** hard cap on requests per second on this connection */
  maxRequestsPerSecond: number;
  /** bucket capacity: requests that may go out back to back */
  burst: number;
}

const INTERVAL_MS: Readonly<Record<string, number>> = { SECOND: 1_000, MINUTE: 60_000, HOUR: 3_600_000, DAY: 86_400_000 };

/** Length of a rate-limit window in ms (`interval` × `intervalNum`); undefined for an unknown interval. */
export function rateLimitWindowMs(rl: Pick<BinanceUsdmRateLimit, 'interval' | 'intervalNum'>): number | undefined {
  const unit = INTERVAL_MS[rl.interval];
  return unit === undefined ? undefined : unit * rl.intervalNum;
}

/** End of the clock-aligned window of `windowMs` that contains `now`. */
export function windowEnd(now: number, windowMs: number): number {
  return (Math.floor(now / windowMs) + 1) * windowMs;
}

export interface HoldInfo {
  until: number;
  reason: string;
}

export class WeightPacer {
  readonly #now: () => number;
  readonly #ratePerMs: number;
  readonly #capacity: number;
  readonly #margin: number;
  #tokens: number;
  #refilledAt: number;
  #hold: HoldInfo | undefined;
  /** venue-reported REQUEST_WEIGHT windows, by window length */
  readonly #windows = new Map<number, { start: number; limit: number; count: number; sentSince: number }>();
  #holds = 0;

  constructor(options: PacerOptions, now: () => number) {
    this.#now = now;
    this.#margin = options.safetyMargin;
    const perMinute = options.budgetPerMinute * (1 - options.safetyMargin);
    this.#ratePerMs = Math.min(perMinute / 60_000, options.maxRequestsPerSecond / 1_000);
    this.#capacity = Math.max(1, options.burst);
    this.#tokens = this.#capacity;
    this.#refilledAt = now();
  }

  /** Requests per minute the bucket allows at most in steady state. */
  get steadyRatePerMinute(): number {
    return this.#ratePerMs * 60_000;
  }

  /** Number of holds applied so far (venue windows, 429/418, backoffs). */
  get holds(): number {
    return this.#holds;
  }

  /** The active hold, if any. */
  get hold(): HoldInfo | undefined {
    const h = this.#hold;
    if (h && h.until <= this.#now()) this.#hold = undefined;
    return this.#hold;
  }

  /** Stops every request until `until` (epoch ms); a later hold wins over an earlier one. */
  holdUntil(until: number, reason: string): void {
    if (this.#hold && this.#hold.until >= until) return;
    this.#hold = { until, reason };
    this.#holds++;
  }

  /** Takes `weight` tokens if nothing holds requests back; false (nothing taken) otherwise. */
  tryTake(weight = 1): boolean {
    const now = this.#now();
    if (this.hold) return false;
    for (const [len, w] of this.#windows) {
      if (now >= w.start + len) this.#windows.delete(len); // a new window: the venue's count started over
      else if (w.count + w.sentSince + weight > Math.floor(w.limit * (1 - this.#margin))) {
        this.holdUntil(w.start + len, `REQUEST_WEIGHT ${w.count}+${w.sentSince} in flight of ${w.limit} per ${len} ms`);
        return false;
      }
    }
    this.#refill(now);
    if (this.#tokens < weight) return false;
    this.#tokens -= weight;
    for (const w of this.#windows.values()) w.sentSince += weight;
    return true;
  }

  /** Whole tokens in the bucket now (what tryTake could hand out if nothing holds requests back). */
  available(): number {
    this.#refill(this.#now());
    return Math.floor(this.#tokens);
  }

  /** ms until the bucket has `weight` tokens (0 when it has them now); ignores holds. */
  waitMs(weight = 1): number {
    this.#refill(this.#now());
    return this.#tokens >= weight ? 0 : Math.ceil((weight - this.#tokens) / this.#ratePerMs);
  }

  /**
   * Reads the REQUEST_WEIGHT entries of a response. `inFlight` = requests sent and not yet answered, not counting
   * the one this response answers (they are not in `count` yet).
   */
  noteRateLimits(rateLimits: readonly BinanceUsdmRateLimit[], inFlight: number): void {
    const now = this.#now();
    for (const rl of rateLimits) {
      if (rl.rateLimitType !== 'REQUEST_WEIGHT' || rl.count === undefined) continue;
      const len = rateLimitWindowMs(rl);
      if (len === undefined) continue;
      const start = windowEnd(now, len) - len;
      const known = this.#windows.get(len);
      // Within one window the count only grows; a smaller count is a late answer from before the window turned.
      if (known && known.start === start && rl.count < known.count) continue;
      this.#windows.set(len, { start, limit: rl.limit, count: rl.count, sentSince: inFlight });
      if (rl.count + inFlight >= Math.floor(rl.limit * (1 - this.#margin))) {
        this.holdUntil(start + len, `REQUEST_WEIGHT ${rl.count}+${inFlight} in flight of ${rl.limit} per ${len} ms`);
      }
    }
  }

  #refill(now: number): void {
    const elapsed = now - this.#refilledAt;
    if (elapsed > 0) {
      this.#tokens = Math.min(this.#capacity, this.#tokens + elapsed * this.#ratePerMs);
      this.#refilledAt = now;
    }
  }
}
