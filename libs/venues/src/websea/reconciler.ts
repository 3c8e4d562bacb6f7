import { compareDecimals, normalizeDecimal, VenueError } from '@orderstream/kit';
import type { LiveOrderRef, ReconcileIO, VenueReconciler } from '../types.js';
import { WEBSEA_AUTH_ERRNOS, WEBSEA_ERRNO } from './client.js';
import { WEBSEA_REST_BUSY_ERRNOS, WEBSEA_REST_PATHS, WEBSEA_REST_UNKNOWN_ORDER_ERRNO, webseaCtimeToSeconds, webseaRestEnvelopeSchema } from './rest.js';
import { webseaNonce, webseaParam, webseaSignature, type WebseaSortOrder } from './sign.js';

/**
 * WebSea's answers to "what did I miss?" (DESIGN.md decision 10), over its signed spot REST API (./README.md,
 * "Reconciliation"):
 * - open orders: `GET /openApi/entrust/currentList`, every page (`limit` 100, `direct=prev`, `from` = the last
 *   entry's id), until a page is short;
 * - history: `GET /openApi/entrust/historyList`, newest first, paged the same way, until an order created before the
 *   gap (its `ctime`) or a short page: WebSea has no time filter, so the walk stops at the gap's start;
 * - one order: `GET /openApi/entrust/status?order_sn=…`; errno 20515 ("unable to query this order") is "unknown";
 * - and, for every order those answers show with `deal_number` > 0, its trade list `GET /openApi/entrust/deal`
 *   (trade ids: what restores executions whose pushes were lost and tells identical ones apart).
 * Every call is signed like the socket's subscribe (token, secret, nonce and every `k=v` parameter, SHA1 of the
 * sorted concatenation) with the headers `Token`, `Nonce`, `Signature`; none of them enters `request.params`.
 */

/**
 * WSREPO `en/about/limit`: 100 requests per 10 s for each of these endpoints, and 100 per 10 s per API key over all
 * open endpoints. The bucket keeps well under the global figure so that the trading system sharing the key keeps
 * at least 40 % of it: 10 tokens, 5 per second (at most 60 calls in any 10 s).
 */
export const WEBSEA_REST_RATE_LIMIT = { capacity: 10, refillPerSec: 5 } as const;

/** Page size of the list endpoints: the documented maximum. */
export const WEBSEA_REST_PAGE_LIMIT = 100;

export interface WebseaReconcilerConfig {
  /** `https://oapi.websea.com` (WSREPO doc index) */
  restUrl: string;
  token: string;
  secretKey: string;
  signatureSort: WebseaSortOrder;
  /** history pages read at most per run (the walk normally stops at the gap's start long before) */
  historyMaxPages: number;
  /** page size; default 100, the documented maximum */
  pageLimit?: number;
}

export interface WebseaReconcilerDeps {
  now?: () => number;
  nonce?: (nowMs: number) => string;
}

interface RestOrderEntry {
  order_id?: unknown;
  order_sn?: unknown;
  ctime?: unknown;
  deal_number?: unknown;
}

export class WebseaReconciler implements VenueReconciler {
  readonly rateLimit = WEBSEA_REST_RATE_LIMIT;
  readonly #config: () => WebseaReconcilerConfig;
  readonly #now: () => number;
  readonly #nonce: (nowMs: number) => string;
  #lastNonce = '';

  /** `config` is read at each call, so the secrets stay in their `Secret` wrappers until then. */
  constructor(config: () => WebseaReconcilerConfig, deps: WebseaReconcilerDeps = {}) {
    this.#config = config;
    this.#now = deps.now ?? Date.now;
    this.#nonce = deps.nonce ?? webseaNonce;
  }

  async openOrders(io: ReconcileIO): Promise<string[]> {
    const ids: string[] = [];
    for (const entry of await this.#pages(io, WEBSEA_REST_PATHS.openOrders, undefined)) {
      const sn = String(entry.order_sn);
      ids.push(sn);
      if (hasDeals(entry)) await this.#trades(io, sn);
    }
    return ids;
  }

  async history(io: ReconcileIO, sinceMs: number): Promise<string[]> {
    const ids: string[] = [];
    for (const entry of await this.#pages(io, WEBSEA_REST_PATHS.history, sinceMs)) {
      const sn = String(entry.order_sn);
      ids.push(sn);
      if (hasDeals(entry)) await this.#trades(io, sn);
    }
    return ids;
  }

  async orderDetail(io: ReconcileIO, ref: LiveOrderRef): Promise<'found' | 'unknown'> {
    const r = await this.#call(io, WEBSEA_REST_PATHS.detail, { order_sn: ref.orderId }, [WEBSEA_REST_UNKNOWN_ORDER_ERRNO]);
    if (r.errno === WEBSEA_REST_UNKNOWN_ORDER_ERRNO || r.result === null || r.result === undefined) return 'unknown';
    if (typeof r.result !== 'object' || Array.isArray(r.result)) throw this.#shape(WEBSEA_REST_PATHS.detail, 'result is not an object');
    if (hasDeals(r.result as RestOrderEntry)) await this.#trades(io, ref.orderId);
    return 'found';
  }

  async #trades(io: ReconcileIO, orderSn: string): Promise<void> {
    await this.#call(io, WEBSEA_REST_PATHS.trades, { order_sn: orderSn });
  }

  /** Every page of a list endpoint; with `sinceMs`, stops after the first order created before it. */
  async #pages(io: ReconcileIO, path: string, sinceMs: number | undefined): Promise<RestOrderEntry[]> {
    const limit = this.#config().pageLimit ?? WEBSEA_REST_PAGE_LIMIT;
    const maxPages = sinceMs === undefined ? Number.POSITIVE_INFINITY : this.#config().historyMaxPages;
    const out: RestOrderEntry[] = [];
    const seen = new Set<string>();
    let from: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      const params: Record<string, string> = { direct: 'prev', limit: String(limit), ...(from !== undefined ? { from } : {}) };
      const { result } = await this.#call(io, path, params);
      if (!Array.isArray(result)) throw this.#shape(path, 'result is not a list');
      let older = false;
      let fresh = 0;
      for (const e of result as RestOrderEntry[]) {
        if (e === null || typeof e !== 'object' || typeof e.order_sn !== 'string') throw this.#shape(path, 'an entry has no order_sn');
        if (seen.has(e.order_sn)) continue;
        seen.add(e.order_sn);
        fresh++;
        const created = typeof e.ctime === 'string' ? webseaCtimeToSeconds(e.ctime) : undefined;
        if (sinceMs !== undefined && created !== undefined && created * 1000 < sinceMs) {
          older = true;
          continue;
        }
        out.push(e);
      }
      const last = result.at(-1) as RestOrderEntry | undefined;
      // `from`: "start query order_sn", typed int in the doc (its example 122 is an order_id): the integer id when
      // the entry has one, else the order_sn.
      const next = last?.order_id !== undefined && last.order_id !== null ? String(last.order_id) : last?.order_sn !== undefined ? String(last.order_sn) : undefined;
      if (older || result.length < limit || fresh === 0 || next === undefined || next === from) break;
      from = next;
    }
    return out;
  }

  /** One signed GET; returns the envelope. errno ≠ 0 → VenueError, unless the caller accepts that errno. */
  async #call(io: ReconcileIO, path: string, params: Record<string, string>, accept: number[] = []): Promise<{ errno: number; result: unknown }> {
    const c = this.#config();
    const nowMs = this.#now();
    let nonce = this.#nonce(nowMs);
    if (nonce === this.#lastNonce && this.#nonce === webseaNonce) nonce = webseaNonce(nowMs);
    this.#lastNonce = nonce;
    const signature = webseaSignature({
      token: c.token,
      secretKey: c.secretKey,
      nonce,
      params: Object.entries(params).map(([k, v]) => webseaParam(k, v)),
      order: c.signatureSort,
    });
    const query = new URLSearchParams(params).toString();
    const url = `${c.restUrl.replace(/\/+$/, '')}${path}${query ? `?${query}` : ''}`;
    const named = `GET ${path}`;
    const answer = await io.rest({
      request: { method: 'GET', path, params },
      url,
      init: { method: 'GET', headers: { Token: c.token, Nonce: nonce, Signature: signature, Accept: 'application/json' } },
      weight: 1,
    });
    if (answer.status < 200 || answer.status > 299) {
      throw new VenueError('VENUE_HTTP_ERROR', `WebSea ${named}: HTTP ${answer.status}`, { retriable: true, details: { httpStatus: answer.status } });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer.text);
    } catch {
      throw this.#shape(path, 'the answer is not JSON');
    }
    const env = webseaRestEnvelopeSchema.safeParse(parsed);
    if (!env.success) throw this.#shape(path, 'the answer is not an envelope {errno, errmsg, result}');
    const errno = Number(env.data.errno);
    if (errno !== 0 && !accept.includes(errno)) {
      const text = (WEBSEA_ERRNO as Record<number, string>)[errno] ?? this.#scrub(env.data.errmsg ?? '');
      const said = `errno ${errno}${text ? ` (${text})` : ''}`;
      if (WEBSEA_REST_BUSY_ERRNOS.has(errno)) {
        throw new VenueError('VENUE_RATE_LIMITED', `WebSea ${named}: ${said}`, { retriable: true, details: { venueCode: errno } });
      }
      // A used or stale nonce passes on the next try; other refusals need a person (key, permission).
      const retriable = errno === 20519 || errno === 20520 || errno === 20500 || errno === 20001;
      throw new VenueError('VENUE_REST_REFUSED', `WebSea ${named}: ${said}`, { retriable, details: { venueCode: errno, auth: WEBSEA_AUTH_ERRNOS.has(errno) } });
    }
    return { errno, result: env.data.result };
  }

  #shape(path: string, problem: string): VenueError {
    return new VenueError('VENUE_REST_REFUSED', `WebSea GET ${path}: ${problem}`, { retriable: true });
  }

  #scrub(text: string): string {
    const c = this.#config();
    let s = text.length > 200 ? `${text.slice(0, 197)}...` : text;
    for (const secret of [c.token, c.secretKey]) if (secret.length >= 4) s = s.split(secret).join('[redacted]');
    return s;
  }
}

function hasDeals(e: RestOrderEntry): boolean {
  const d = e.deal_number;
  if (typeof d !== 'string' && typeof d !== 'number') return false;
  try {
    return compareDecimals(normalizeDecimal(String(d)), '0') > 0;
  } catch {
    return false;
  }
}
