import { z } from 'zod';
import { AppError, backoffDelay, errorMessage, sleep, VenueError, type BackoffPolicy } from '@orderstream/kit';
import type { LiveOrderRef, ReconcileIO, RestAnswer, RestCall, RestRequestInfo, SessionEvent, VenueReconciler } from './types.js';

/**
 * Reconciliation: after every gap, ask the venue what the stream missed (DESIGN.md decision 10).
 *
 * The rules, in the order `runReconciliation` follows them:
 *  1. Open orders first, every page. An incomplete list is no snapshot: a failed page fails the whole run, which
 *     the session retries with backoff (the stream keeps flowing meanwhile).
 *  2. History since the last frame before the gap (less a margin for clock skew), where the venue has it: it
 *     brings the orders that began and ended inside the gap, and the outcome of many live ones at once.
 *  3. Every order the state holds as live (then those it closed as CLOSED_UNKNOWN) that neither answer named gets a
 *     detail lookup, at most `maxDetailLookups` per run; the rest are deferred to the next run and kept open.
 *  4. The run ends with a `reconciled` session event whose snapshot lists every order the venue answered about
 *     (open orders, history, detail lookups that found the order) plus the deferred ones, as of the moment the
 *     open-orders request was sent. The normalizer turns it into snapshot markers, and order-state closes as
 *     CLOSED_UNKNOWN only the orders that are live, absent from that list and last heard of before it: those whose
 *     lookup failed or that the venue no longer knows. (An answer that changed nothing in the state emits nothing,
 *     so the order's last update stays older than the snapshot: being listed is what keeps it open.)
 * Every REST answer is published raw before the venue code sees it, so replaying orders.raw.v1 rebuilds the same
 * state; the venue's mapper maps those answers like any other frame.
 */

/** Options of one account's reconciliation (the `reconcile` block of an account in the collector's accounts file). */
export const reconcileOptionsSchema = z
  .object({
    /** reconcile at start and after every reconnect */
    enabled: z.boolean().default(true),
    /** also reconcile every intervalMs while connected (a safety net); 0 = off */
    intervalMs: z.coerce.number({ error: 'must be a number' }).int({ error: 'must be an integer' }).min(0).max(24 * 3600_000, { error: 'must be at most 24 h' }).default(0),
    /** detail lookups per run; orders beyond it wait for the next run (and stay open meanwhile) */
    maxDetailLookups: z.coerce.number({ error: 'must be a number' }).int({ error: 'must be an integer' }).min(0).max(100_000).default(200),
    /** history is asked from the last frame before the gap less this margin (clock skew between us and the venue) */
    historyMarginMs: z.coerce.number({ error: 'must be a number' }).int({ error: 'must be an integer' }).min(0).max(3600_000).default(60_000),
    /** timeout of one REST call */
    requestTimeoutMs: z.coerce.number({ error: 'must be a number' }).int({ error: 'must be an integer' }).min(100).max(120_000).default(10_000),
    /** attempts per REST call on 429/418/5xx and network errors before the call fails */
    maxAttempts: z.coerce.number({ error: 'must be a number' }).int({ error: 'must be an integer' }).min(1).max(20).default(4),
    /** overrides the venue's documented rate limit (token bucket) for this account */
    rateLimit: z
      .object({
        capacity: z.coerce.number({ error: 'must be a number' }).positive({ error: 'must be positive' }),
        refillPerSec: z.coerce.number({ error: 'must be a number' }).positive({ error: 'must be positive' }),
      })
      .strict()
      .optional(),
  })
  .strict();

export type ReconcileOptions = z.output<typeof reconcileOptionsSchema>;
export const DEFAULT_RECONCILE_OPTIONS: ReconcileOptions = reconcileOptionsSchema.parse({});

/** Backoff between failed runs of a reconciliation, and between retried REST calls. */
export const RECONCILE_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 60_000, jitter: 0.3 };

/** The `rest-request` header: `GET /path?a=1&b=2`. Only non-secret parameters ever go in. */
export function formatRestRequest(info: RestRequestInfo): string {
  const query = new URLSearchParams(info.params).toString();
  return `${info.method} ${info.path}${query ? `?${query}` : ''}`;
}

export function parseRestRequest(text: string): RestRequestInfo {
  const space = text.indexOf(' ');
  if (space <= 0) throw new RangeError(`rest-request ${JSON.stringify(text.slice(0, 80))} is not "METHOD /path?query"`);
  const target = text.slice(space + 1);
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const params = q < 0 ? {} : Object.fromEntries(new URLSearchParams(target.slice(q + 1)));
  return { method: text.slice(0, space), path, params };
}

/**
 * A token bucket: `capacity` tokens, refilled continuously at `refillPerSec`. take() waits (never throws) until the
 * tokens are there, so a burst of lookups spreads out at the venue's documented rate.
 */
export class TokenBucket {
  #tokens: number;
  #at: number;
  /** how many take() calls had to wait, and for how long in total */
  waits = 0;
  waitedMs = 0;

  constructor(
    readonly capacity: number,
    readonly refillPerSec: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(capacity > 0) || !(refillPerSec > 0)) throw new RangeError('TokenBucket: capacity and refillPerSec must be positive');
    this.#tokens = capacity;
    this.#at = now();
  }

  #refill(): void {
    const t = this.now();
    this.#tokens = Math.min(this.capacity, this.#tokens + ((t - this.#at) / 1000) * this.refillPerSec);
    this.#at = t;
  }

  async take(n: number, signal?: AbortSignal): Promise<void> {
    const want = Math.min(n, this.capacity);
    this.#refill();
    if (this.#tokens < want) {
      const waitMs = Math.ceil(((want - this.#tokens) / this.refillPerSec) * 1000);
      this.waits++;
      this.waitedMs += waitMs;
      await sleep(waitMs, signal);
      this.#refill();
    }
    this.#tokens -= want;
  }
}

/** What one REST round trip looked like, for metrics. */
export interface RestStats {
  calls: number;
  /** answers 429/418 (and 5xx) that were retried */
  retried: number;
  failures: number;
}

export interface RestIODeps {
  bucket: TokenBucket;
  /** publishes one answer raw: exact bytes, the rest-request header text, the HTTP status */
  publish(body: Buffer, request: string, status: number): void;
  event(e: SessionEvent): void;
  signal: AbortSignal;
  timeoutMs: number;
  maxAttempts: number;
  fetch?: typeof globalThis.fetch;
  stats?: RestStats;
  backoff?: BackoffPolicy;
}

/** Retry-After in ms (seconds or an HTTP date); undefined when absent or unreadable. */
function retryAfterMs(headers: Headers): number | undefined {
  const v = headers.get('retry-after');
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** The ReconcileIO a venue reconciler works through: rate-limited, timed out, retried, every answer published raw. */
export function createRestIO(deps: RestIODeps): ReconcileIO {
  const doFetch = deps.fetch ?? globalThis.fetch;
  const backoff = deps.backoff ?? RECONCILE_BACKOFF;
  const stats = deps.stats ?? { calls: 0, retried: 0, failures: 0 };
  return {
    signal: deps.signal,
    event: deps.event,
    async rest(call: RestCall): Promise<RestAnswer> {
      const named = formatRestRequest(call.request);
      for (let attempt = 1; ; attempt++) {
        await deps.bucket.take(call.weight ?? 1, deps.signal);
        if (deps.signal.aborted) throw new VenueError('VENUE_HTTP_ERROR', `${named}: reconciliation stopped`, { retriable: true });
        stats.calls++;
        let status: number;
        let headers: Headers;
        let body: Buffer;
        try {
          const res = await doFetch(call.url, { ...call.init, signal: AbortSignal.any([deps.signal, AbortSignal.timeout(deps.timeoutMs)]) });
          body = Buffer.from(await res.arrayBuffer());
          status = res.status;
          headers = res.headers;
        } catch (error) {
          if (deps.signal.aborted) throw new VenueError('VENUE_HTTP_ERROR', `${named}: reconciliation stopped`, { retriable: true });
          // The message of a fetch failure can hold the URL, and the URL can hold a signature: say only what failed.
          const why = error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${deps.timeoutMs} ms` : `network error (${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name})`;
          if (attempt >= deps.maxAttempts) {
            stats.failures++;
            throw new VenueError('VENUE_HTTP_ERROR', `${named}: ${why} (${attempt} attempts)`, { retriable: true });
          }
          stats.retried++;
          await sleep(backoffDelay(attempt - 1, backoff), deps.signal);
          continue;
        }
        deps.publish(body, named, status);
        const limited = status === 429 || status === 418;
        if (limited || status >= 500) {
          if (attempt >= deps.maxAttempts) {
            stats.failures++;
            throw new VenueError(limited ? 'VENUE_RATE_LIMITED' : 'VENUE_HTTP_ERROR', `${named}: HTTP ${status} (${attempt} attempts)`, {
              retriable: true,
              details: { httpStatus: status },
            });
          }
          stats.retried++;
          const wait = Math.max(retryAfterMs(headers) ?? 0, backoffDelay(attempt - 1, backoff));
          await sleep(wait, deps.signal);
          continue;
        }
        return { status, text: body.toString('utf8'), headers };
      }
    },
  };
}

export interface ReconcileInput {
  /** orders the state holds as live or CLOSED_UNKNOWN for this account */
  suspects: readonly LiveOrderRef[];
  /** epoch ms of the last frame before the gap; undefined when nothing is known (first start ever) */
  sinceMs?: number;
  maxDetailLookups: number;
  historyMarginMs: number;
  now?: () => number;
}

/** What a run found; the `reconciled` session event carries it. */
export interface ReconcileReport {
  /** epoch ms when the open-orders request was sent: the snapshot is as of then */
  asOfMs: number;
  openOrders: number;
  /** orders the history answered; null when the venue has no history endpoint or the gap start is unknown */
  history: number | null;
  historySinceMs: number | null;
  lookups: number;
  /** detail lookups the venue answered with "no such order" */
  unknown: string[];
  /** detail lookups that failed after their retries */
  failed: string[];
  /** suspects not looked up because of the bound: kept open until the next run */
  deferred: string[];
  /** ids the snapshot lists: every order the venue answered about, and the deferred ones */
  snapshotOrderIds: string[];
}

/** One reconciliation of one account (the rules at the top of this file). Throws when it cannot complete. */
export async function runReconciliation(reconciler: VenueReconciler, io: ReconcileIO, input: ReconcileInput): Promise<ReconcileReport> {
  const now = input.now ?? Date.now;
  const asOfMs = now();
  const open = await reconciler.openOrders(io);
  const answered = new Set(open);
  let history: string[] | null = null;
  let historySinceMs: number | null = null;
  if (reconciler.history && input.sinceMs !== undefined) {
    historySinceMs = Math.max(0, input.sinceMs - input.historyMarginMs);
    history = await reconciler.history(io, historySinceMs);
    for (const id of history) answered.add(id);
  }
  // Live orders first: they are the phantom orders a trading system would act on.
  const missing = input.suspects
    .filter((s) => !answered.has(s.orderId))
    .sort((a, b) => Number(a.status === 'CLOSED_UNKNOWN') - Number(b.status === 'CLOSED_UNKNOWN'));
  const toLook = missing.slice(0, input.maxDetailLookups);
  const deferred = missing.slice(input.maxDetailLookups).map((s) => s.orderId);
  const unknown: string[] = [];
  const failed: string[] = [];
  const found: string[] = [];
  for (const ref of toLook) {
    try {
      if ((await reconciler.orderDetail(io, ref)) === 'unknown') unknown.push(ref.orderId);
      else found.push(ref.orderId);
    } catch (error) {
      if (io.signal.aborted) throw error;
      if (!(error instanceof AppError)) throw error; // a programming error is not the venue's answer
      failed.push(ref.orderId);
    }
  }
  return {
    asOfMs,
    openOrders: open.length,
    history: history?.length ?? null,
    historySinceMs,
    lookups: toLook.length,
    unknown,
    failed,
    deferred,
    snapshotOrderIds: [...new Set([...answered, ...found, ...deferred])],
  };
}

/** The `reconciled` session event of a finished run. Its `details.snapshot` is what the normalizer reads. */
export function reconciledEvent(trigger: string, report: ReconcileReport): SessionEvent {
  const notes: string[] = [];
  if (report.deferred.length > 0) notes.push(`detail lookup bound hit: ${report.deferred.length} order(s) deferred to the next reconciliation`);
  if (report.failed.length > 0) notes.push(`${report.failed.length} detail lookup(s) failed`);
  if (report.unknown.length > 0) notes.push(`${report.unknown.length} order(s) unknown to the venue`);
  return {
    event: 'reconciled',
    reason: [trigger, ...notes].join('; '),
    details: {
      trigger,
      openOrders: report.openOrders,
      history: report.history,
      historySince: report.historySinceMs,
      lookups: report.lookups,
      unknown: report.unknown,
      failed: report.failed,
      deferred: report.deferred,
      boundHit: report.deferred.length > 0,
      snapshot: { asOf: report.asOfMs * 1000, orderIds: report.snapshotOrderIds },
    },
  };
}

/** The snapshot a `reconciled` session event carries, as the normalizer reads it back (epoch µs). */
export interface ReconciledSnapshot {
  asOf: number;
  orderIds: string[];
}

const reconciledSnapshotSchema = z.object({
  event: z.literal('reconciled'),
  details: z.object({ snapshot: z.object({ asOf: z.number().int().nonnegative(), orderIds: z.array(z.string()) }) }),
});

/** The snapshot of a session event's JSON, if it is a completed reconciliation; undefined for any other event. */
export function reconciledSnapshotOf(text: string): ReconciledSnapshot | undefined {
  if (!text.includes('"reconciled"')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const r = reconciledSnapshotSchema.safeParse(parsed);
  return r.success ? r.data.details.snapshot : undefined;
}

/** A failed run's error as a session event: the venue's own code first, ours in details. */
export function reconcileFailedEvent(error: unknown, attempt: number, retryInMs: number): SessionEvent {
  const appCode = error instanceof AppError ? error.code : undefined;
  const venueCode = error instanceof AppError ? (error.details.venueCode as string | number | undefined) : undefined;
  const code = venueCode ?? appCode;
  return {
    event: 'error',
    reason: `reconciliation failed: ${errorMessage(error)}`,
    ...(code !== undefined ? { code } : {}),
    details: { ...(appCode ? { errorCode: appCode } : {}), attempt, retryInMs },
  };
}
