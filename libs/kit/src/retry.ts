import { AppError } from './errors.js';

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** 0..1: the share of each delay that is random. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 30_000, jitter: 0.5 };

/** Capped exponential backoff with jitter: attempt 0 waits about initialMs, then doubling up to maxMs. */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random = Math.random): number {
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
  const spread = base * policy.jitter;
  return Math.round(base - spread + random() * spread);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', done);
      clearTimeout(timer);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export interface RetryOptions extends Partial<BackoffPolicy> {
  retries: number;
  signal?: AbortSignal;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Runs `fn` until it succeeds, retrying only errors that say they are retriable (an AppError with
 * `retriable: true`). Programming errors (TypeError and friends) and non-retriable AppErrors fail at once.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const policy = { ...DEFAULT_BACKOFF, ...options };
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      const retriable = error instanceof AppError && error.retriable;
      if (!retriable || attempt >= options.retries || options.signal?.aborted) throw error;
      const delay = backoffDelay(attempt, policy);
      options.onRetry?.(error, attempt, delay);
      await sleep(delay, options.signal);
    }
  }
}
