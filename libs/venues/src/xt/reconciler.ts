import { VenueError, type Secret } from '@orderstream/kit';
import { exactNumberText } from '../frame-kit.js';
import type { LiveOrderRef, ReconcileIO, RestAnswer, RestCall, VenueReconciler } from '../types.js';
import {
  parseXtPage,
  xtEnvelopeError,
  xtRestEnvelopeSchema,
  XT_ORDER_DETAIL_PATH,
  XT_ORDER_HISTORY_PATH,
  XT_ORDER_LIST_PATH,
  type XtRestEnvelope,
  type XtRestError,
} from './rest.js';
import { xtSignature } from './sign.js';

/**
 * XT's REST limits (./README.md "Reconciliation"): the order endpoints say 200/s/apikey each, but the futures
 * "Frequency Limiting Rules" page says 10 calls per second per user for every method but assets, 1000 per minute per
 * IP, and that exceeding them locks the account for 10 minutes. We keep under the stricter rule: a bucket of 5
 * refilled at 5/s never lets more than 10 calls into any one-second window (5 saved + 5 refilled).
 */
export const XT_RECONCILE_RATE_LIMIT = Object.freeze({ capacity: 5, refillPerSec: 5 });
/** `size` of order/list pages (XT default 10; the maximum is undocumented, so the answer's `ps` is trusted). */
export const XT_OPEN_ORDERS_PAGE_SIZE = 100;
/** `limit` of list-history pages (XT default 10; maximum undocumented). */
export const XT_HISTORY_PAGE_LIMIT = 100;
/** A list longer than this many pages is refused as a runaway (100,000 orders). */
const MAX_PAGES = 1000;

/** Codes XT puts in the envelope when the call may pass later: gateway/service faults (CCXT's xt.ts exceptions). */
const TRANSIENT_CODES: ReadonlySet<string> = new Set(['400', '500', '502', '503', 'COMMON_002', 'AUTH_105']);
const RATE_LIMIT_CODE_RE = /^429$|too_?many|rate_?limit|frequen/i;
/** Detail lookups of an id XT does not know (spot ORDER_005 "Order not exist"; futures wording UNCONFIRMED). */
const NO_SUCH_ORDER_RE = /^ORDER_005$|not_?exist|not_?found/i;

export interface XtReconcilerConfig {
  restUrl: string;
  apiKey: Secret;
  apiSecret: Secret;
  recvWindowMs: number;
}

/**
 * How XT answers "what did I miss?" (DESIGN.md decision 10), signed like the listen-key call (./sign.ts):
 * 1. open orders: `GET /future/trade/v1/order/list?state=UNFINISHED&page=N&size=100`, every page;
 * 2. one order: `GET /future/trade/v1/order/detail?orderId=…` (`result: null` = XT has no such order);
 * 3. history: `GET /future/trade/v1/order/list-history?startTime=…&limit=100&direction=NEXT[&id=<last orderId>]`,
 *    every page while `hasNext`.
 * Only non-secret parameters go in `request.params`; the key, timestamp and signature travel in headers.
 */
export class XtReconciler implements VenueReconciler {
  readonly rateLimit = XT_RECONCILE_RATE_LIMIT;
  readonly #config: XtReconcilerConfig;
  readonly #now: () => number;

  constructor(config: XtReconcilerConfig, now: () => number = Date.now) {
    this.#config = config;
    this.#now = now;
  }

  /**
   * A signed GET. The headers are a getter, so every attempt of io.rest() (which spreads `init` per attempt) signs
   * with a fresh `validate-timestamp`: a call retried after a 429 never goes out stale (AUTH_105).
   */
  call(path: string, params: Record<string, string>): RestCall {
    const cfg = this.#config;
    const keys = Object.keys(params).sort();
    const query = keys.map((k) => `${k}=${params[k]}`).join('&');
    const urlQuery = keys.map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(params[k] as string)}`).join('&');
    const now = this.#now;
    const init: RequestInit = {
      method: 'GET',
      get headers(): Record<string, string> {
        const appKey = cfg.apiKey.reveal();
        const timestamp = String(now());
        return {
          accept: 'application/json',
          'validate-appkey': appKey,
          'validate-timestamp': timestamp,
          'validate-signature': xtSignature(cfg.apiSecret.reveal(), { appKey, timestamp, path, ...(query ? { query } : {}) }),
          'validate-recvwindow': String(cfg.recvWindowMs),
          'validate-algorithms': 'HmacSHA256',
        };
      },
    };
    return {
      request: { method: 'GET', path, params: { ...params } },
      url: `${cfg.restUrl.replace(/\/+$/, '')}${path}${urlQuery ? `?${urlQuery}` : ''}`,
      init,
      weight: 1,
    };
  }

  async openOrders(io: ReconcileIO): Promise<string[]> {
    const ids: string[] = [];
    for (let page = 1; page <= MAX_PAGES; page++) {
      const call = this.call(XT_ORDER_LIST_PATH, { state: 'UNFINISHED', page: String(page), size: String(XT_OPEN_ORDERS_PAGE_SIZE) });
      const answer = await io.rest(call);
      const { env, what } = readAnswer(answer, call);
      const p = readPage(env, answer.text, what);
      for (const id of p.ids) ids.push(id);
      // XT may cap `size` below what we ask: the page size it used is `ps`.
      const pageSize = p.ps !== null && p.ps > 0 ? p.ps : XT_OPEN_ORDERS_PAGE_SIZE;
      if (p.ids.length < pageSize || (p.total !== null && page * pageSize >= p.total)) return ids;
    }
    throw new VenueError('VENUE_REST_REFUSED', `XT open orders: more than ${MAX_PAGES} pages; refusing an endless list`, { details: { venueCode: null } });
  }

  async orderDetail(io: ReconcileIO, ref: LiveOrderRef): Promise<'found' | 'unknown'> {
    const call = this.call(XT_ORDER_DETAIL_PATH, { orderId: ref.orderId });
    const answer = await io.rest(call);
    const what = describe(call);
    const env = parseEnvelope(answer);
    const failed = env ? xtEnvelopeError(env) : undefined;
    if (env && failed && NO_SUCH_ORDER_RE.test(failed.code)) return 'unknown';
    const ok = readAnswer(answer, call, env);
    const result = ok.env.result;
    if (result === null || result === undefined) return 'unknown';
    if (typeof result !== 'object' || Array.isArray(result)) {
      throw new VenueError('VENUE_REST_REFUSED', `${what}: result is not an order`, { details: { venueCode: null, httpStatus: answer.status } });
    }
    return 'found';
  }

  async history(io: ReconcileIO, sinceMs: number): Promise<string[]> {
    const ids: string[] = [];
    let fromId: string | undefined;
    for (let page = 1; page <= MAX_PAGES; page++) {
      const params: Record<string, string> = { startTime: String(Math.floor(sinceMs)), limit: String(XT_HISTORY_PAGE_LIMIT), direction: 'NEXT' };
      if (fromId !== undefined) params.id = fromId;
      const call = this.call(XT_ORDER_HISTORY_PATH, params);
      const answer = await io.rest(call);
      const { env, what } = readAnswer(answer, call);
      const p = readPage(env, answer.text, what);
      for (const id of p.ids) ids.push(id);
      const last = p.ids[p.ids.length - 1];
      if (p.hasNext !== true || last === undefined) return ids;
      if (last === fromId) {
        throw new VenueError('VENUE_REST_REFUSED', `${what}: hasNext but the page did not move past order ${last}`, { details: { venueCode: null } });
      }
      fromId = last;
    }
    throw new VenueError('VENUE_REST_REFUSED', `XT order history: more than ${MAX_PAGES} pages; refusing an endless list`, { details: { venueCode: null } });
  }
}

function describe(call: RestCall): string {
  const q = new URLSearchParams(call.request.params).toString();
  return `XT ${call.request.method} ${call.request.path}${q ? `?${q}` : ''}`;
}

function parseEnvelope(answer: RestAnswer): XtRestEnvelope | undefined {
  let json: unknown;
  try {
    json = JSON.parse(answer.text);
  } catch {
    return undefined;
  }
  const r = xtRestEnvelopeSchema.safeParse(json);
  return r.success ? r.data : undefined;
}

/** The VenueError for an XT refusal: its own rate-limit code → VENUE_RATE_LIMITED; anything else VENUE_REST_REFUSED. */
export function xtRestError(what: string, httpStatus: number, failed: XtRestError | undefined): VenueError {
  const venueCode = failed?.code ?? null;
  const said = `HTTP ${httpStatus}${venueCode !== null ? `, code ${venueCode}` : ''}${failed?.msg ? ` (${failed.msg.slice(0, 200)})` : ''}`;
  const details = { venueCode, httpStatus, ...(failed?.msg ? { venueMessage: failed.msg.slice(0, 200) } : {}) };
  if (httpStatus === 429 || (venueCode !== null && RATE_LIMIT_CODE_RE.test(venueCode))) {
    return new VenueError('VENUE_RATE_LIMITED', `${what}: rate limited: ${said}`, { retriable: true, details });
  }
  const retriable = httpStatus >= 500 || (venueCode !== null && TRANSIENT_CODES.has(venueCode));
  return new VenueError('VENUE_REST_REFUSED', `${what} refused: ${said}`, { retriable, details });
}

/** A successful envelope, or the VenueError that the answer means. */
function readAnswer(answer: RestAnswer, call: RestCall, parsed?: XtRestEnvelope): { env: XtRestEnvelope; what: string } {
  const what = describe(call);
  const env = parsed ?? parseEnvelope(answer);
  if (!env) {
    throw new VenueError('VENUE_REST_REFUSED', `${what}: HTTP ${answer.status} with a body that is not XT's envelope: ${JSON.stringify(answer.text.slice(0, 80))}`, {
      retriable: answer.status >= 500,
      details: { venueCode: null, httpStatus: answer.status },
    });
  }
  const failed = xtEnvelopeError(env);
  if (failed || answer.status < 200 || answer.status >= 300) throw xtRestError(what, answer.status, failed);
  return { env, what };
}

/** Ids (exact digits, even when XT sends them as JSON numbers) and paging fields of a list answer. */
function readPage(env: XtRestEnvelope, text: string, what: string): { ids: string[]; ps: number | null; total: number | null; hasNext: boolean | null } {
  let page;
  try {
    page = parseXtPage(env.result, what);
  } catch (error) {
    throw new VenueError('VENUE_REST_REFUSED', `${what}: unexpected answer shape: ${(error as Error).message}`, { details: { venueCode: null } });
  }
  const ids: string[] = [];
  for (const [i, item] of page.items.entries()) {
    const id = (item as { orderId?: unknown } | null)?.orderId;
    if (typeof id === 'string' && id.length > 0) ids.push(id);
    else if (typeof id === 'number' && Number.isInteger(id)) ids.push(exactNumberText(text, 'orderId', id, what, `result.items.${i}.orderId`));
    else throw new VenueError('VENUE_REST_REFUSED', `${what}: result.items.${i} has no orderId`, { details: { venueCode: null } });
  }
  const int = (v: string | number | null | undefined) => (v === null || v === undefined ? null : Number(v));
  return { ids, ps: int(page.ps), total: int(page.total), hasNext: page.hasNext ?? null };
}
