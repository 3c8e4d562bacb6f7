import { errorMessage, FrameError, VenueError } from '@orderstream/kit';
import type { LiveOrderRef, ReconcileIO, RestAnswer, RestCall, VenueReconciler } from '../types.js';
import { BINANCE_USDM_ALGO_ID_PREFIX } from './mapper-uds.js';
import { BINANCE_USDM_REST_PATHS, parseBinanceUsdmRestBody, type BinanceUsdmOrder } from './frames.js';
import type { BinanceUsdmSigner } from './sign.js';

/**
 * Reconciliation over Binance USDⓈ-M's signed REST API (DESIGN.md decision 10): what the order.status poller cannot
 * know after a gap. Sources and limits: ./README.md ("Reconciliation").
 *
 *  1. Open orders: `GET /fapi/v1/openOrders` without `symbol` (every symbol in one array, weight 40). Binance does
 *     not page it: one answer is the complete list, hence a snapshot.
 *  2. History: `GET /fapi/v1/allOrders` per symbol the collector knows (configured `symbols`, symbols of tracked
 *     orders, symbols in the open-orders answer), `startTime`..`endTime` in windows shorter than 7 days (Binance's
 *     bound), from the gap start (at most 90 days back: older orders are not found). A full page (`limit` orders) is
 *     split in two halves by time and both asked again, so nothing is lost whichever end of a window Binance keeps.
 *  3. Detail: `GET /fapi/v1/order` (symbol + orderId, weight 1). -2013 "Order does not exist." → 'unknown'.
 * Every call is signed like the WebSocket API requests (HMAC-SHA256 hex or Ed25519 base64 of the query string,
 * `X-MBX-APIKEY` header), with the same key. `timestamp`, `recvWindow` and `signature` never go in `request.params`.
 * Error payloads become VenueErrors with `details.venueCode`: -1003 → VENUE_RATE_LIMITED (retriable), others →
 * VENUE_REST_REFUSED.
 */

/** Request weights (official REST pages). */
export const BINANCE_USDM_REST_WEIGHTS = {
  /** Current All Open Orders: "1 for a single symbol; 40 when the symbol parameter is omitted" */
  openOrdersAllSymbols: 40,
  /** Query Order */
  order: 1,
  /** All Orders */
  allOrders: 5,
} as const;

/**
 * The reconciliation's token bucket, in REQUEST_WEIGHT: 20 per second (1200 per minute, half of Binance's 2400 per
 * minute per IP, which the order.status poller shares: its default cap is 10 requests per second = 600 per minute,
 * so both together stay at 75 %, the poller's default safety margin), capacity 80 so that one all-symbols
 * open-orders call (40) and its first history calls go at once.
 */
export const BINANCE_USDM_REST_RATE_LIMIT = Object.freeze({ capacity: 80, refillPerSec: 20 });

/** "The query time period must be less than 7 days" (All Orders). */
export const BINANCE_USDM_HISTORY_WINDOW_MS = 7 * 24 * 60 * 60 * 1000 - 1;
/** "order create time + 90 days < current time" orders are not found (All Orders, Query Order). */
export const BINANCE_USDM_HISTORY_RETENTION_MS = 90 * 24 * 60 * 60 * 1000;

/** Error codes of transient trouble on Binance's side (error code page). */
const TRANSIENT_CODES: ReadonlySet<number> = new Set([-1000, -1001, -1006, -1007, -1008, -1016]);

export interface BinanceUsdmReconcilerDeps {
  /** https://fapi.binance.com (no trailing slash) */
  restUrl: string;
  apiKey: () => string;
  signer: BinanceUsdmSigner;
  recvWindowMs: number;
  clockOffsetMs: number;
  now: () => number;
  /** `limit` of allOrders pages (Binance: default 500, max 1000) */
  allOrdersLimit: number;
  /** the symbols whose history is asked for */
  symbols: () => Iterable<string>;
  /** a symbol seen in an answer (so later histories cover it) */
  noteSymbol: (symbol: string) => void;
  /** an order the open-orders answer lists: the order.status poller follows it from now on (Binance pushes nothing here) */
  noteOpen?: (order: BinanceUsdmOrder) => void;
  /** the IP's used weight Binance reports (`X-MBX-USED-WEIGHT-1M`), for the order.status poller's pacing */
  onUsedWeight?: (count: number) => void;
}

export class BinanceUsdmReconciler implements VenueReconciler {
  readonly rateLimit = BINANCE_USDM_REST_RATE_LIMIT;

  constructor(private readonly deps: BinanceUsdmReconcilerDeps) {}

  async openOrders(io: ReconcileIO): Promise<string[]> {
    const orders = await this.#orders(io, BINANCE_USDM_REST_PATHS.openOrders, {}, BINANCE_USDM_REST_WEIGHTS.openOrdersAllSymbols);
    for (const o of orders) this.deps.noteOpen?.(o);
    return orders.map((o) => o.orderId);
  }

  async orderDetail(io: ReconcileIO, ref: LiveOrderRef): Promise<'found' | 'unknown'> {
    // An Algo Service order (user data stream ALGO_UPDATE, key algo-<algoId>): /fapi/v1/order does not know it and
    // Query Algo Order is not implemented; never closed by a lookup (README "User data stream", not done).
    if (ref.orderId.startsWith(BINANCE_USDM_ALGO_ID_PREFIX)) return 'found';
    const path = BINANCE_USDM_REST_PATHS.order;
    const answer = await io.rest(this.#call(path, { symbol: ref.symbol, orderId: ref.orderId }, BINANCE_USDM_REST_WEIGHTS.order));
    this.#noteWeight(answer);
    if (answer.status !== 200) {
      const e = refusal(path, answer);
      if (e.details.venueCode === -2013) return 'unknown';
      throw e;
    }
    this.#read(path, answer); // a readable order, or an error payload → throws
    return 'found';
  }

  async history(io: ReconcileIO, sinceMs: number): Promise<string[]> {
    const now = this.deps.now() + this.deps.clockOffsetMs;
    const from = Math.max(sinceMs, now - BINANCE_USDM_HISTORY_RETENTION_MS + 60_000);
    const ids = new Set<string>();
    const symbols = [...new Set(this.deps.symbols())].sort();
    for (const symbol of symbols) {
      const windows: Array<[number, number]> = [];
      for (let s = from; s <= now; s += BINANCE_USDM_HISTORY_WINDOW_MS + 1) windows.push([s, Math.min(now, s + BINANCE_USDM_HISTORY_WINDOW_MS)]);
      while (windows.length > 0) {
        const [start, end] = windows.shift() as [number, number];
        const orders = await this.#orders(
          io,
          BINANCE_USDM_REST_PATHS.allOrders,
          { symbol, startTime: String(start), endTime: String(end), limit: String(this.deps.allOrdersLimit) },
          BINANCE_USDM_REST_WEIGHTS.allOrders,
        );
        for (const o of orders) ids.add(o.orderId);
        // A full page may have left orders out (at either end): ask both halves again. A 1 ms window cannot split.
        if (orders.length >= this.deps.allOrdersLimit && end > start) {
          const mid = start + Math.floor((end - start) / 2);
          windows.unshift([start, mid], [mid + 1, end]);
        }
      }
    }
    return [...ids];
  }

  /** One call whose 200 answer is a list or an order; every order's symbol is noted. */
  async #orders(io: ReconcileIO, path: string, params: Record<string, string>, weight: number): Promise<BinanceUsdmOrder[]> {
    const answer = await io.rest(this.#call(path, params, weight));
    this.#noteWeight(answer);
    if (answer.status !== 200) throw refusal(path, answer);
    const orders = this.#read(path, answer);
    for (const o of orders) this.deps.noteSymbol(o.symbol);
    return orders;
  }

  /** The orders of a 200 answer; an error payload or an unreadable body throws (the mapper dead-letters the latter). */
  #read(path: string, answer: RestAnswer): BinanceUsdmOrder[] {
    let body;
    try {
      body = parseBinanceUsdmRestBody(answer.text, path);
    } catch (error) {
      const code = error instanceof FrameError ? error.code : 'FRAME_INVALID';
      throw new VenueError('VENUE_HTTP_ERROR', `GET ${path}: unreadable answer (${code}: ${errorMessage(error).slice(0, 200)})`, { retriable: true, cause: error });
    }
    if (body.kind === 'error') throw refusalOf(path, answer.status, body.code, body.msg);
    return body.orders;
  }

  #noteWeight(answer: RestAnswer): void {
    const used = answer.headers.get('x-mbx-used-weight-1m');
    if (used && /^\d+$/.test(used)) this.deps.onUsedWeight?.(Number(used));
  }

  /** A signed GET: `params` (not secret) + recvWindow + timestamp, signed as the query string; the key in a header. */
  #call(path: string, params: Record<string, string>, weight: number): RestCall {
    const query = new URLSearchParams({ ...params, recvWindow: String(this.deps.recvWindowMs), timestamp: String(this.deps.now() + this.deps.clockOffsetMs) }).toString();
    const signature = this.deps.signer.sign(query);
    return {
      request: { method: 'GET', path, params },
      url: `${this.deps.restUrl}${path}?${query}&signature=${encodeURIComponent(signature)}`,
      init: { method: 'GET', headers: { 'X-MBX-APIKEY': this.deps.apiKey() } },
      weight,
    };
  }
}

/** A non-200 answer as a VenueError, with Binance's code when the body is its error payload. */
function refusal(path: string, answer: RestAnswer): VenueError {
  let code: number | undefined;
  let msg = '';
  try {
    const parsed = parseBinanceUsdmRestBody(answer.text, path);
    if (parsed.kind === 'error') {
      code = parsed.code;
      msg = parsed.msg;
    }
  } catch {
    // not Binance's error payload: the HTTP status is all there is
  }
  return refusalOf(path, answer.status, code, msg);
}

function refusalOf(path: string, httpStatus: number, code: number | undefined, msg: string): VenueError {
  const said = `GET ${path}: HTTP ${httpStatus}${code !== undefined ? ` ${code}` : ''}${msg ? ` ${msg}` : ''}`;
  const details = { ...(code !== undefined ? { venueCode: code } : {}), httpStatus };
  if (code === -1003 || httpStatus === 429 || httpStatus === 418) return new VenueError('VENUE_RATE_LIMITED', said, { retriable: true, details });
  const transient = httpStatus >= 500 || (code !== undefined && TRANSIENT_CODES.has(code)) || code === -1021;
  return new VenueError('VENUE_REST_REFUSED', said, { retriable: transient, details });
}
