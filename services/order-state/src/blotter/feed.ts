import { LIVE_STATUSES, ORDER_STATUSES, TERMINAL_STATUSES, type OrderState, type OrderStatus } from '@orderstream/schemas';
import type { StoreListener } from '../store.js';

/**
 * What the web blotter reads from order-state's store, kept current by the store's change events (never by
 * re-reading the whole store):
 *
 * 1. Counts per status and per venue are updated on every change (O(1)), so the live counts cost nothing per
 *    client and nothing per scrape.
 * 2. Changed orders are collected per key between flushes (a key changed ten times is sent once, in its last
 *    state) and sent to every connected client as one batch every `flushMs`. A batch larger than `maxBatch` is
 *    sent as "overflow" (counts only): the client then re-reads its window instead of receiving the rows.
 * 3. A window of the table (filters, sort, offset, limit) is selected on request in one pass over the store,
 *    keeping only offset + limit rows when that is small (bounded insertion), so a client never receives more
 *    than the rows it shows, whatever the store's size.
 * 4. Each order keeps the last `historyPerOrder` states this instance folded (restore included) for the detail
 *    view; histories are kept for the `historyOrders` most recently changed orders only, so memory is bounded.
 */

/** One table row: the fields the blotter shows for an order. Decimals stay exact strings. */
export interface BlotterRow {
  key: string;
  venue: string;
  account: string;
  orderId: string;
  symbol: string;
  side: string;
  type: string;
  status: OrderStatus;
  price: string | null;
  quantity: string | null;
  filled: string | null;
  avgPrice: string | null;
  /** epoch µs of the last state change */
  updatedAt: number;
  updates: number;
}

/** One entry of an order's history: the state after one change folded by this instance. */
export interface BlotterHistoryEntry {
  /** epoch µs when order-state changed the state */
  stateUpdatedAt: number;
  /** epoch µs when the collector received the frame behind it */
  receivedAt: number;
  status: OrderStatus;
  venueStatus: string;
  filledQuantity: string | null;
  averagePrice: string | null;
  lastFillQuantity: string | null;
  lastFillPrice: string | null;
  updateCount: number;
  /** the raw record the latest update came from: topic, partition, offset */
  source: string;
}

export interface BlotterCounts {
  total: number;
  byStatus: Record<string, number>;
  byVenue: Record<string, number>;
  /** live orders per venue */
  liveByVenue: Record<string, number>;
}

export const SORT_FIELDS = ['updatedAt', 'key', 'venue', 'account', 'symbol', 'side', 'status', 'price', 'quantity', 'filled'] as const;
export type SortField = (typeof SORT_FIELDS)[number];

export interface BlotterQuery {
  venue?: string | undefined;
  account?: string | undefined;
  /** any of these */
  statuses?: ReadonlySet<OrderStatus> | undefined;
  /** case-insensitive substring of the symbol or the venue's symbol */
  symbol?: string | undefined;
  sort: SortField;
  desc: boolean;
  offset: number;
  limit: number;
}

export interface BlotterWindow {
  /** orders matching the filters */
  matched: number;
  offset: number;
  rows: BlotterRow[];
  counts: BlotterCounts;
}

/** What the feed sends to its subscribers after each flush. */
export type BlotterBatch = { rows: BlotterRow[]; removed: string[]; counts: BlotterCounts } | { overflow: number; counts: BlotterCounts };

/** What the feed needs of OrderStore. */
export interface FeedStore {
  get(key: string): OrderState | undefined;
  values(): Iterable<OrderState>;
  subscribe(listener: StoreListener): () => void;
}

export interface BlotterFeedOptions {
  flushMs?: number;
  maxBatch?: number;
  historyPerOrder?: number;
  historyOrders?: number;
}

export const MAX_WINDOW = 500;

export function rowOf(s: OrderState): BlotterRow {
  const o = s.order;
  return {
    key: o.orderKey,
    venue: o.venue,
    account: o.account,
    orderId: o.orderId,
    symbol: o.symbol ?? o.venueSymbol,
    side: o.side,
    type: o.orderType,
    status: o.status,
    price: o.price,
    quantity: o.quantity ?? o.venueQuantity,
    filled: o.filledQuantity ?? o.venueFilledQuantity,
    avgPrice: o.averagePrice,
    updatedAt: s.stateUpdatedAt,
    updates: s.updateCount,
  };
}

function historyOf(s: OrderState): BlotterHistoryEntry {
  const o = s.order;
  return {
    stateUpdatedAt: s.stateUpdatedAt,
    receivedAt: o.receivedAt,
    status: o.status,
    venueStatus: o.venueStatus,
    filledQuantity: o.filledQuantity ?? o.venueFilledQuantity,
    averagePrice: o.averagePrice,
    lastFillQuantity: o.lastFillQuantity,
    lastFillPrice: o.lastFillPrice,
    updateCount: s.updateCount,
    source: `${o.source.topic}:${o.source.partition}@${o.source.offset}`,
  };
}

/** Expands status words (`live`, `terminal`, a status; case-insensitive, comma lists); undefined for an unknown word. */
export function parseStatuses(words: string): Set<OrderStatus> | undefined {
  const out = new Set<OrderStatus>();
  for (const raw of words.split(',')) {
    const w = raw.trim().toUpperCase();
    if (w === '') continue;
    if (w === 'LIVE') LIVE_STATUSES.forEach((s) => out.add(s));
    else if (w === 'TERMINAL') TERMINAL_STATUSES.forEach((s) => out.add(s));
    else if ((ORDER_STATUSES as readonly string[]).includes(w)) out.add(w as OrderStatus);
    else return undefined;
  }
  return out;
}

export function matches(s: OrderState, q: Pick<BlotterQuery, 'venue' | 'account' | 'statuses' | 'symbol'>, symbolLower?: string): boolean {
  const o = s.order;
  if (q.venue !== undefined && o.venue !== q.venue) return false;
  if (q.account !== undefined && o.account !== q.account) return false;
  if (q.statuses && !q.statuses.has(o.status)) return false;
  if (symbolLower !== undefined && !(o.symbol ?? '').toLowerCase().includes(symbolLower) && !o.venueSymbol.toLowerCase().includes(symbolLower)) return false;
  return true;
}

/** A sort field's value; decimals compare as numbers (display only: nothing is computed from them). */
function sortValue(field: SortField, s: OrderState): string | number {
  const o = s.order;
  switch (field) {
    case 'updatedAt': return s.stateUpdatedAt;
    case 'key': return o.orderKey;
    case 'venue': return o.venue;
    case 'account': return o.account;
    case 'symbol': return o.symbol ?? o.venueSymbol;
    case 'side': return o.side;
    case 'status': return ORDER_STATUSES.indexOf(o.status);
    case 'price': return o.price === null ? -Infinity : Number(o.price);
    case 'quantity': return Number(o.quantity ?? o.venueQuantity ?? -Infinity);
    case 'filled': return Number(o.filledQuantity ?? o.venueFilledQuantity ?? -Infinity);
  }
}

/** A matching order with its sort value computed once. */
type Keyed = { v: string | number; k: string; s: OrderState };

function comparator(desc: boolean): (a: Keyed, b: Keyed) => number {
  const sign = desc ? -1 : 1;
  // ties: by key, always ascending, so a window is stable between requests
  return (a, b) => (a.v < b.v ? -sign : a.v > b.v ? sign : a.k < b.k ? -1 : a.k > b.k ? 1 : 0);
}

export class BlotterFeed {
  readonly #store: FeedStore;
  readonly #flushMs: number;
  readonly #maxBatch: number;
  readonly #historyPerOrder: number;
  readonly #historyOrders: number;
  readonly #byStatus = new Map<string, number>();
  readonly #byVenue = new Map<string, number>();
  readonly #liveByVenue = new Map<string, number>();
  #total = 0;
  /** changed since the last flush: key → still present */
  readonly #pending = new Set<string>();
  /** key → last states, most recently changed order last (Map order) */
  readonly #history = new Map<string, BlotterHistoryEntry[]>();
  readonly #subscribers = new Set<(batch: BlotterBatch) => void>();
  readonly #unsubscribe: () => void;
  #timer: NodeJS.Timeout | undefined;
  /** bumped on every store change: a deep window's sorted matches are reused while it has not moved */
  #version = 0;
  #sorted: { query: string; version: number; rows: Keyed[] } | undefined;

  constructor(store: FeedStore, options: BlotterFeedOptions = {}) {
    this.#store = store;
    this.#flushMs = options.flushMs ?? 250;
    this.#maxBatch = options.maxBatch ?? 500;
    this.#historyPerOrder = options.historyPerOrder ?? 20;
    this.#historyOrders = options.historyOrders ?? 10_000;
    for (const s of store.values()) this.#count(s, 1);
    this.#unsubscribe = store.subscribe((key, before, after) => this.#onChange(key, before, after));
  }

  #count(s: OrderState, by: 1 | -1): void {
    const { status, venue } = s.order;
    this.#total += by;
    this.#byStatus.set(status, (this.#byStatus.get(status) ?? 0) + by);
    this.#byVenue.set(venue, (this.#byVenue.get(venue) ?? 0) + by);
    if (LIVE_STATUSES.has(status)) this.#liveByVenue.set(venue, (this.#liveByVenue.get(venue) ?? 0) + by);
  }

  #onChange(key: string, before: OrderState | undefined, after: OrderState | undefined): void {
    this.#version++;
    this.#sorted = undefined;
    if (before) this.#count(before, -1);
    if (after) {
      this.#count(after, 1);
      let h = this.#history.get(key);
      if (h) this.#history.delete(key); // re-inserted last: most recently changed
      else h = [];
      h.push(historyOf(after));
      if (h.length > this.#historyPerOrder) h.shift();
      this.#history.set(key, h);
      if (this.#history.size > this.#historyOrders) {
        const oldest = this.#history.keys().next().value;
        if (oldest !== undefined) this.#history.delete(oldest);
      }
    } else this.#history.delete(key);
    this.#pending.add(key);
  }

  counts(): BlotterCounts {
    const obj = (m: Map<string, number>) => Object.fromEntries([...m].filter(([, n]) => n !== 0).sort(([a], [b]) => (a < b ? -1 : 1)));
    return {
      total: this.#total,
      byStatus: Object.fromEntries(ORDER_STATUSES.map((s) => [s, this.#byStatus.get(s) ?? 0])),
      byVenue: obj(this.#byVenue),
      liveByVenue: obj(this.#liveByVenue),
    };
  }

  /** One window of the table: the rows at `offset` of the orders matching the filters, in the given order. */
  window(q: BlotterQuery): BlotterWindow {
    const limit = Math.max(0, Math.min(q.limit, MAX_WINDOW));
    const need = q.offset + limit;
    const cmp = comparator(q.desc);
    const symbolLower = q.symbol?.toLowerCase();
    let matched = 0;
    let kept: Keyed[] = [];
    // Small windows (the usual case: the first screens): keep only the best `need` rows, sorted, by insertion.
    const bounded = need <= 2_000;
    // Deep windows (scrolling far down) sort every match; while nothing changed, the next window reuses that order.
    const cacheKey = JSON.stringify([q.venue, q.account, q.statuses ? [...q.statuses].sort() : null, symbolLower, q.sort, q.desc]);
    if (!bounded && this.#sorted?.query === cacheKey && this.#sorted.version === this.#version) {
      const rows = this.#sorted.rows;
      return { matched: rows.length, offset: q.offset, rows: rows.slice(q.offset, need).map((e) => rowOf(e.s)), counts: this.counts() };
    }
    for (const s of this.#store.values()) {
      if (!matches(s, q, symbolLower)) continue;
      matched++;
      const e: Keyed = { v: sortValue(q.sort, s), k: s.order.orderKey, s };
      if (!bounded) {
        kept.push(e);
        continue;
      }
      if (kept.length === need && (need === 0 || cmp(e, kept[need - 1] as Keyed) >= 0)) continue;
      let lo = 0;
      let hi = kept.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cmp(kept[mid] as Keyed, e) <= 0) lo = mid + 1;
        else hi = mid;
      }
      kept.splice(lo, 0, e);
      if (kept.length > need) kept.pop();
    }
    if (!bounded) {
      kept.sort(cmp);
      this.#sorted = { query: cacheKey, version: this.#version, rows: kept };
    }
    kept = kept.slice(q.offset, need);
    return { matched, offset: q.offset, rows: kept.map((e) => rowOf(e.s)), counts: this.counts() };
  }

  /** The order's full state and the states this instance folded for it (oldest first). */
  detail(key: string): { state: OrderState; history: BlotterHistoryEntry[] } | undefined {
    const state = this.#store.get(key);
    if (!state) return undefined;
    return { state, history: [...(this.#history.get(key) ?? [])] };
  }

  /** Calls `send` with every batch of changes from now on; returns the unsubscribe. */
  subscribe(send: (batch: BlotterBatch) => void): () => void {
    this.#subscribers.add(send);
    if (!this.#timer) {
      this.#timer = setInterval(() => this.flush(), this.#flushMs);
      this.#timer.unref();
    }
    return () => {
      this.#subscribers.delete(send);
      if (this.#subscribers.size === 0) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    };
  }

  get subscribers(): number {
    return this.#subscribers.size;
  }

  /** Sends the changes collected since the last flush (nothing when there are none). */
  flush(): void {
    if (this.#pending.size === 0) return;
    if (this.#subscribers.size === 0) {
      this.#pending.clear();
      return;
    }
    let batch: BlotterBatch;
    if (this.#pending.size > this.#maxBatch) batch = { overflow: this.#pending.size, counts: this.counts() };
    else {
      const rows: BlotterRow[] = [];
      const removed: string[] = [];
      for (const key of this.#pending) {
        const s = this.#store.get(key);
        if (s) rows.push(rowOf(s));
        else removed.push(key);
      }
      batch = { rows, removed, counts: this.counts() };
    }
    this.#pending.clear();
    for (const send of this.#subscribers) send(batch);
  }

  close(): void {
    this.#unsubscribe();
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#subscribers.clear();
  }
}
