import { randomBytes } from 'node:crypto';
import { errorMessage } from '@orderstream/kit';

export interface WaitForOptions {
  /** Give up after this long. Default 10 s. */
  timeoutMs?: number;
  /** Pause between probes. Default 100 ms. */
  intervalMs?: number;
  /** What is awaited, for the timeout error ("topic orders.raw.v1 to exist"). */
  description?: string;
}

/**
 * Polls `probe` until it returns something other than `undefined` or `false`, and resolves with that. A probe that
 * throws counts as "not yet" (its error is kept). On timeout, rejects with an Error naming `description` and the
 * last probe error. A probe that hangs cannot hold the wait past its deadline.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitForOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 100;
  const description = options.description ?? 'condition';
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let attempts = 0;
  let hung = false;
  for (;;) {
    attempts += 1;
    const remaining = deadline - Date.now();
    const outcome = await settleWithin(probe, Math.max(remaining, 0));
    if (outcome.kind === 'value') {
      if (outcome.value !== undefined && outcome.value !== false) return outcome.value;
    } else if (outcome.kind === 'error') {
      lastError = outcome.error;
    }
    hung = outcome.kind === 'timeout';
    const left = deadline - Date.now();
    if (left <= 0) {
      const last =
        (hung ? '; the last probe never settled' : '') +
        (lastError === undefined ? '' : `; last probe error: ${errorMessage(lastError)}`);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description} (${attempts} probes${last})`, {
        cause: lastError,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, left)));
  }
}

type Outcome<T> = { kind: 'value'; value: T } | { kind: 'error'; error: unknown } | { kind: 'timeout' };

function settleWithin<T>(probe: () => Promise<T> | T, ms: number): Promise<Outcome<T>> {
  return new Promise<Outcome<T>>((resolve) => {
    const timer = setTimeout(() => resolve({ kind: 'timeout' }), ms);
    const finish = (outcome: Outcome<T>) => {
      clearTimeout(timer);
      resolve(outcome);
    };
    try {
      Promise.resolve(probe()).then(
        (value) => finish({ kind: 'value', value }),
        (error: unknown) => finish({ kind: 'error', error }),
      );
    } catch (error) {
      finish({ kind: 'error', error });
    }
  });
}

let counter = 0;

/**
 * A name no other test (or earlier run) uses, for topics and consumer groups: `<prefix>-<time>-<n>-<random>`, with
 * characters outside Kafka's `[a-zA-Z0-9._-]` replaced by '-'.
 */
export function uniqueName(prefix: string): string {
  counter += 1;
  const clean = prefix.replace(/[^a-zA-Z0-9._-]/g, '-').slice(0, 180) || 'test';
  return `${clean}-${Date.now().toString(36)}-${counter}-${randomBytes(3).toString('hex')}`;
}
