import { VenueError, type Secret } from '@orderstream/kit';
import type { LiveOrderRef, ReconcileIO, RestAnswer, RestCall, VenueReconciler } from '../types.js';
import { loopringOrderId } from './mapper.js';
import { LOOPRING_ORDER_NOT_FOUND, LOOPRING_REST_PATHS, type LoopringRestApi } from './rest.js';

/**
 * What the relayer is asked after a gap (./README.md "Reconciliation"):
 * - open orders: `GET <orders> ?accountId&market&status=processing,cancelling&limit&offset`, per configured market,
 *   every page (offset += page length until `totalNum` is reached or a page comes back short);
 * - history: the same endpoint with `start=<sinceMs>` (lower bound of the orders' creation time, ms) and no status
 *   filter, per market, every page: the orders created in the gap, whatever became of them;
 * - detail: `GET <order> ?accountId&orderHash`; code 107003 "Order does not exist" → 'unknown'.
 * Only `X-API-KEY` authenticates these calls (LRV2 REST_APIS.md: no signature on GETs); it travels in the header,
 * never in the rest-request header's params.
 */

/** "Rate limit: 3 every second" (LRV2 getOrders and getOrderDetail pages); LRV3: 5 every second. */
export const LOOPRING_REST_RATE_LIMITS: Readonly<Record<LoopringRestApi, { capacity: number; refillPerSec: number }>> = {
  v2: { capacity: 3, refillPerSec: 3 },
  v3: { capacity: 5, refillPerSec: 5 },
};
/**
 * `status` filter of the open-orders query: every live status. `waiting` is a documented order status but not among
 * the filter's documented values; a relayer that refuses it (100001 "Invalid parameter") is asked again without it
 * (LOOPRING_OPEN_STATUS_FILTER_DOCUMENTED), and the reconciler remembers.
 */
export const LOOPRING_OPEN_STATUS_FILTER = 'processing,cancelling,waiting';
export const LOOPRING_OPEN_STATUS_FILTER_DOCUMENTED = 'processing,cancelling';
const INVALID_PARAMETER = 100001;
/** Entries each page repeats of the previous one (pages of more than 10), against orders leaving the list while paging. */
const PAGE_OVERLAP = 5;
/** A runaway guard: no account pages through more than this many pages of one query. */
const MAX_PAGES = 10_000;

/** Codes worth retrying: "Unknown error", "Request timeout" (LRV2 common status codes). */
const RETRIABLE_CODES: ReadonlySet<number> = new Set([100000, 100002]);

export interface LoopringReconcilerConfig {
  restUrl: string;
  apiKey: Secret;
  accountId: number;
  markets: readonly string[];
  restApi: LoopringRestApi;
  pageSize: number;
}

interface Page {
  ids: string[];
  count: number;
  totalNum: number | null;
}

export class LoopringReconciler implements VenueReconciler {
  readonly #cfg: LoopringReconcilerConfig;
  #api: LoopringRestApi;
  /** the other generation was tried after a 404 (once per reconciler) */
  #switched = false;
  /** false once the relayer refused `waiting` in the status filter */
  #waitingFilter = true;

  constructor(config: LoopringReconcilerConfig) {
    this.#cfg = config;
    this.#api = config.restApi;
  }

  /** The API generation in use (the configured one, or the other after a 404). */
  get restApi(): LoopringRestApi {
    return this.#api;
  }

  get rateLimit(): { capacity: number; refillPerSec: number } {
    return LOOPRING_REST_RATE_LIMITS[this.#cfg.restApi];
  }

  async openOrders(io: ReconcileIO): Promise<string[]> {
    const ids: string[] = [];
    for (const market of this.#cfg.markets) {
      try {
        ids.push(...(await this.#allPages(io, { market, status: this.#waitingFilter ? LOOPRING_OPEN_STATUS_FILTER : LOOPRING_OPEN_STATUS_FILTER_DOCUMENTED })));
      } catch (error) {
        if (!this.#waitingFilter || !(error instanceof VenueError) || error.details.venueCode !== INVALID_PARAMETER) throw error;
        this.#waitingFilter = false;
        ids.push(...(await this.#allPages(io, { market, status: LOOPRING_OPEN_STATUS_FILTER_DOCUMENTED })));
      }
    }
    return [...new Set(ids)];
  }

  async history(io: ReconcileIO, sinceMs: number): Promise<string[]> {
    const ids: string[] = [];
    for (const market of this.#cfg.markets) ids.push(...(await this.#allPages(io, { market, start: String(Math.max(0, Math.floor(sinceMs))) })));
    return [...new Set(ids)];
  }

  async orderDetail(io: ReconcileIO, ref: LiveOrderRef): Promise<'found' | 'unknown'> {
    const answer = await this.#get(io, 'order', { orderHash: ref.orderId });
    const body = readBody(answer, `detail of ${ref.orderId}`);
    if (body.code === LOOPRING_ORDER_NOT_FOUND) return 'unknown';
    if (body.code !== 0) throw refused(body.code, body.message, `detail of ${ref.orderId}`, answer.status);
    return 'found';
  }

  async #allPages(io: ReconcileIO, filter: Record<string, string>): Promise<string[]> {
    const ids: string[] = [];
    const limit = this.#cfg.pageSize;
    // An order leaving the list while we page (an open order that fills) moves the rest up by one: consecutive
    // pages overlap by a few entries (ids are de-duplicated) rather than let an open order slip between two pages.
    const overlap = limit > 10 ? PAGE_OVERLAP : 0;
    for (let offset = 0, page = 0; page < MAX_PAGES; page++) {
      const p = await this.#page(io, { ...filter, limit: String(limit), offset: String(offset) });
      ids.push(...p.ids);
      if (p.count === 0 || p.count < limit || (p.totalNum !== null && offset + p.count >= p.totalNum)) return [...new Set(ids)];
      offset += p.count - overlap;
    }
    throw new VenueError('VENUE_REST_REFUSED', `Loopring orders: more than ${MAX_PAGES} pages for ${JSON.stringify(filter)}`);
  }

  async #page(io: ReconcileIO, params: Record<string, string>): Promise<Page> {
    const answer = await this.#get(io, 'orders', params);
    const what = `orders ${JSON.stringify(params)}`;
    const body = readBody(answer, what);
    if (body.code !== 0) throw refused(body.code, body.message, what, answer.status);
    const payload = (body.hasEnvelope ? body.json.data : body.json) as { orders?: unknown; totalNum?: unknown } | null | undefined;
    if (payload === null || typeof payload !== 'object' || !Array.isArray(payload.orders)) {
      throw new VenueError('VENUE_REST_REFUSED', `Loopring ${what}: answer without an orders list`, { details: { httpStatus: answer.status } });
    }
    const ids = payload.orders.map((o) => hashOf(o)).filter((h): h is string => h !== undefined);
    const total = Number(payload.totalNum);
    return { ids, count: payload.orders.length, totalNum: payload.totalNum === undefined || payload.totalNum === null || !Number.isFinite(total) ? null : total };
  }

  /** One GET through io.rest; a 404 on the first call makes the other API generation the one in use (once). */
  async #get(io: ReconcileIO, endpoint: 'orders' | 'order', params: Record<string, string>): Promise<RestAnswer> {
    for (;;) {
      const api = this.#api;
      const answer = await io.rest(this.#call(api, endpoint, params));
      if (answer.status === 404 && !this.#switched) {
        this.#switched = true;
        this.#api = api === 'v2' ? 'v3' : 'v2';
        continue;
      }
      this.#switched = true;
      return answer;
    }
  }

  #call(api: LoopringRestApi, endpoint: 'orders' | 'order', params: Record<string, string>): RestCall {
    const path = LOOPRING_REST_PATHS[api][endpoint];
    const all = { accountId: String(this.#cfg.accountId), ...params };
    const query = new URLSearchParams(all).toString();
    return {
      request: { method: 'GET', path, params: all },
      url: `${this.#cfg.restUrl.replace(/\/+$/, '')}${path}?${query}`,
      init: { method: 'GET', headers: { accept: 'application/json', 'X-API-KEY': this.#cfg.apiKey.reveal() } },
      weight: 1,
    };
  }
}

interface Body {
  json: Record<string, unknown>;
  hasEnvelope: boolean;
  code: number;
  message: string;
}

/** Reads the answer's JSON and its result code (0 when the body carries none: a v3 success). */
function readBody(answer: RestAnswer, what: string): Body {
  let json: unknown;
  try {
    json = JSON.parse(answer.text);
  } catch {
    json = undefined;
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new VenueError('VENUE_REST_REFUSED', `Loopring ${what}: HTTP ${answer.status}, not a JSON object: ${answer.text.slice(0, 80)}`, {
      details: { httpStatus: answer.status },
    });
  }
  const j = json as Record<string, unknown>;
  const info = j.resultInfo as { code?: unknown; message?: unknown; msg?: unknown } | undefined;
  let code = 0;
  let message = '';
  if (info && typeof info === 'object') {
    code = Number(info.code ?? 0);
    message = String(info.message ?? info.msg ?? '');
  } else if ('code' in j && !('orders' in j) && !('hash' in j)) {
    code = Number(j.code);
    message = String(j.msg ?? j.message ?? '');
  }
  if (!Number.isFinite(code)) code = -1;
  if (code === 0 && (answer.status < 200 || answer.status >= 300)) {
    throw new VenueError('VENUE_REST_REFUSED', `Loopring ${what}: HTTP ${answer.status}`, { details: { httpStatus: answer.status } });
  }
  return { json: j, hasEnvelope: info !== undefined && info !== null, code, message };
}

function refused(code: number, message: string, what: string, httpStatus: number): VenueError {
  return new VenueError('VENUE_REST_REFUSED', `Loopring ${what}: code ${code}${message ? ` (${message})` : ''}`, {
    retriable: RETRIABLE_CODES.has(code),
    details: { venueCode: code, httpStatus },
  });
}

function hashOf(o: unknown): string | undefined {
  if (o === null || typeof o !== 'object') return undefined;
  const h = (o as { hash?: unknown }).hash;
  return typeof h === 'string' ? loopringOrderId(h) : typeof h === 'number' ? String(h) : undefined;
}
