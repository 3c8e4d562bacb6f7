import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createLogger } from '@orderstream/kit';
import type { CanonicalOrder, OrderState, OrderStatus } from '@orderstream/schemas';
import { createQueryServer, decodeCursor, encodeCursor, QUERY_ERROR_CODES, selectOrders, type QueryServer } from './http.js';
import { createOrderStateMetrics, tallyOrders } from './metrics.js';
import { reduce } from './reduce.js';
import { OrderStore } from './store.js';

// ---------------------------------------------------------------------------------------------------------------
// A realistic store: states folded by reduce() from canonical updates, across venues, accounts and statuses.

const T0 = 1_763_700_000_000_000; // epoch µs
let offset = 0;

function update(venue: string, account: string, orderId: string, status: OrderStatus, extra: Partial<CanonicalOrder> = {}): CanonicalOrder {
  offset++;
  return {
    orderKey: `${venue}|${account}|${orderId}`, venue, account, orderId, clientOrderId: `c-${orderId}`,
    venueSymbol: 'btc_usdt', symbol: 'BTC/USDT:USDT', instrumentKind: 'PERPETUAL', side: 'BUY', positionSide: 'LONG',
    orderType: 'LIMIT', venueOrderType: 'LIMIT', timeInForce: 'GTC', status, venueStatus: status.toLowerCase(),
    price: '97123.45', triggerPrice: null, quantity: '0.123456789012345678', venueQuantity: '1234', quoteQuantity: null,
    filledQuantity: '0', venueFilledQuantity: '0', filledQuoteQuantity: null, averagePrice: null, fee: null, feeAsset: null,
    lastFillQuantity: null, lastFillPrice: null, lastFillFee: null, lastFillId: null, reduceOnly: false, postOnly: false,
    createdAt: T0, updatedAt: T0 + offset * 1000, receivedAt: T0 + offset * 1000 + 7,
    source: { topic: 'orders.raw.v1', partition: 0, offset }, extras: {},
    ...extra,
  };
}

function fold(updates: CanonicalOrder[]): OrderState {
  let s: OrderState | undefined;
  for (const u of updates) s = reduce(s, u) ?? s;
  if (!s) throw new Error('no state');
  return s;
}

const LIVE: OrderStatus[] = ['PENDING_NEW', 'UNTRIGGERED', 'NEW', 'PARTIALLY_FILLED', 'PENDING_CANCEL'];
const TERMINAL: OrderStatus[] = ['FILLED', 'CANCELED', 'REJECTED', 'EXPIRED', 'CLOSED_UNKNOWN'];
const ALL: OrderStatus[] = [...LIVE, ...TERMINAL];

function buildStates(): OrderState[] {
  const states: OrderState[] = [
    fold([
      update('xt', 'main', '1001', 'NEW'),
      update('xt', 'main', '1001', 'PARTIALLY_FILLED', {
        filledQuantity: '0.05', venueFilledQuantity: '500', averagePrice: '97100.1', fee: '0.00000123', feeAsset: 'USDT',
      }),
    ]),
    fold([update('xt', 'main', '1002', 'NEW'), update('xt', 'main', '1002', 'FILLED', { filledQuantity: '0.123456789012345678', venueFilledQuantity: '1234' })]),
    // WebSea reports each execution: the state sums distinct executions
    fold([
      update('websea', 'main', '9001', 'NEW', { filledQuantity: null, venueFilledQuantity: null }),
      update('websea', 'main', '9001', 'PARTIALLY_FILLED', {
        filledQuantity: null, venueFilledQuantity: null, lastFillId: 't-1', lastFillQuantity: '0.01', lastFillPrice: '97000', lastFillFee: '0.1',
      }),
      update('websea', 'main', '9001', 'PARTIALLY_FILLED', {
        filledQuantity: null, venueFilledQuantity: null, lastFillId: 't-2', lastFillQuantity: '0.02', lastFillPrice: '97001', lastFillFee: '0.2',
      }),
    ]),
    // an order id with characters that must be percent-encoded in a path
    fold([update('loopring', 'main', 'a/b c%d+é?#', 'NEW')]),
  ];
  const closed = fold([update('bsx', 'main', '0xfeed', 'NEW')]);
  states.push({ ...closed, order: { ...closed.order, status: 'CLOSED_UNKNOWN' }, updateCount: 2, note: 'absent from the venue\'s snapshot of open orders' });
  // many more, so paging has several pages for most filters: every status on every venue account
  const accounts = [['xt', 'main'], ['xt', 'hedge'], ['bsx', 'main'], ['websea', 'main'], ['loopring', 'main']] as const;
  let n = 0;
  for (const [venue, account] of accounts) {
    for (const status of ALL) {
      n++;
      const id = `${(n * 7919) % 1000}`.padStart(3, '0'); // keys not in insertion order
      // statuses that rank before NEW are their own first update; the others follow a NEW
      const early = status === 'PENDING_NEW' || status === 'UNTRIGGERED' || status === 'NEW';
      const s = fold(early ? [update(venue, account, id, status)] : [update(venue, account, id, 'NEW'), update(venue, account, id, status)]);
      if (s.order.status !== status) throw new Error(`fixture: ${s.order.orderKey} is ${s.order.status}, not ${status}`);
      states.push(s);
    }
  }
  return states;
}

const STATES = buildStates();

// ---------------------------------------------------------------------------------------------------------------
// The server under test, with flags the tests flip and every log line kept.

let ready = true;
let healthy = true;
let metricsFail = false;
const logLines: { level: number; msg: string; status?: number; url?: string; method?: string }[] = [];
const store = new OrderStore();
for (const s of STATES) store.set(s.order.orderKey, s, 0);
const orderMetrics = createOrderStateMetrics({
  stats: () => ({ restored: 50, updates: 99, changes: 60, unchanged: 39, deadLetters: 0, orders: store.size }),
  ordersByStatus: () => tallyOrders(store.values()).byStatus,
  ordersByVenue: () => tallyOrders(store.values()).byVenue,
  ready: () => ready,
});
const server: QueryServer = createQueryServer(
  {
    store,
    isReady: () => ready,
    isHealthy: () => healthy,
    metrics: () => {
      if (metricsFail) throw new Error('stats exploded');
      return orderMetrics.render();
    },
    logger: createLogger({ name: 'test', level: 'debug', destination: { write: (line: string) => void logLines.push(JSON.parse(line)) } }),
    onRequest: orderMetrics.observeRequest,
  },
  { port: 0 },
);
let base = '';

beforeAll(async () => {
  const { url, port } = await server.start();
  expect(url).toBe(`http://127.0.0.1:${port}`);
  expect(port).toBeGreaterThan(0);
  base = url;
});
afterAll(() => server.stop());
afterEach(() => {
  ready = true;
  healthy = true;
  metricsFail = false;
});

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

async function call(path: string, init?: RequestInit): Promise<Answer> {
  const res = await fetch(base + path, init);
  const text = await res.text();
  const isJson = res.headers.get('content-type') === 'application/json; charset=utf-8';
  return { status: res.status, headers: res.headers, text, json: isJson && text !== '' ? JSON.parse(text) : undefined };
}

/** A request sent exactly as written (fetch would normalise the path). */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/`, { path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const keyPath = (key: string) => `/orders/${encodeURIComponent(key)}`;

// ---------------------------------------------------------------------------------------------------------------

describe('GET /orders/<orderKey>', () => {
  it('returns the stored state exactly: decimals as strings, times as epoch-µs numbers', async () => {
    for (const s of STATES) {
      const a = await call(keyPath(s.order.orderKey));
      expect(a.status, s.order.orderKey).toBe(200);
      expect(a.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(a.json).toEqual(s);
    }
    const xt = await call(keyPath('xt|main|1001'));
    expect(xt.text).toContain('"quantity":"0.123456789012345678"');
    expect(xt.text).toContain('"fee":"0.00000123"');
    expect(xt.json.order.createdAt).toBe(T0);
    expect(xt.json.order.status).toBe('PARTIALLY_FILLED');
    const websea = await call(keyPath('websea|main|9001'));
    expect(websea.json.order.filledQuantity).toBe('0.03');
    expect(websea.json.executions.map((e: { id: string }) => e.id)).toEqual(['t-1', 't-2']);
  });

  it('accepts the key with raw or encoded "|" and decodes every escape', async () => {
    expect((await rawGet('/orders/xt|main|1002')).status).toBe(200);
    expect(JSON.parse((await rawGet('/orders/xt%7Cmain%7C1002')).body).order.orderKey).toBe('xt|main|1002');
    const weird = 'loopring|main|a/b c%d+é?#';
    expect((await call(keyPath(weird))).json.order.orderId).toBe('a/b c%d+é?#');
    // "+" in a path is a plus, not a space
    expect((await rawGet('/orders/loopring%7Cmain%7Ca%2Fb%20c%25d+%C3%A9%3F%23')).status).toBe(200);
  });

  it('answers 404 ORDER_NOT_FOUND for an unknown key', async () => {
    const a = await call(keyPath('xt|main|nope'));
    expect(a.status).toBe(404);
    expect(a.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(a.json).toEqual({ error: 'ORDER_NOT_FOUND', message: 'no order with key "xt|main|nope"' });
  });

  it('answers 400 for malformed percent-encoding in the key', async () => {
    for (const bad of ['/orders/xt%7Cmain%7C%E0%A4%A', '/orders/%ZZ', '/orders/%C3%28']) {
      const a = await rawGet(bad);
      expect(a.status, bad).toBe(400);
      expect(JSON.parse(a.body)).toEqual({ error: 'BAD_REQUEST', message: 'malformed percent-encoding in the order key' });
    }
  });
});

/** Every page of a query, following nextCursor; checks each page's shape on the way. */
async function allPages(query: string, limit: number): Promise<{ keys: string[]; pages: number; total: number }> {
  const keys: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  let total = -1;
  do {
    const sep = query === '' ? '' : '&';
    const a: Answer = await call(`/orders?${query}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(a.status, `${query} ${a.text}`).toBe(200);
    expect(Object.keys(a.json).sort()).toEqual(['count', 'nextCursor', 'orders', 'total']);
    expect(a.json.count).toBe(a.json.orders.length);
    expect(a.json.count).toBeLessThanOrEqual(limit);
    if (a.json.nextCursor !== null) expect(a.json.count).toBe(limit);
    if (total >= 0) expect(a.json.total).toBe(total);
    total = a.json.total;
    for (const o of a.json.orders as OrderState[]) {
      expect(o).toEqual(store.get(o.order.orderKey));
      keys.push(o.order.orderKey);
    }
    cursor = a.json.nextCursor;
    pages++;
    expect(pages).toBeLessThan(200);
  } while (cursor !== null);
  return { keys, pages, total };
}

function expected(venue?: string, account?: string, statuses?: OrderStatus[]): string[] {
  return STATES.filter((s) => (venue === undefined || s.order.venue === venue) && (account === undefined || s.order.account === account) && (statuses === undefined || statuses.includes(s.order.status)))
    .map((s) => s.order.orderKey)
    .sort();
}

describe('GET /orders', () => {
  it('pages through every order in orderKey order with cursors', async () => {
    const all = STATES.map((s) => s.order.orderKey).sort();
    expect(all.length).toBe(55);
    for (const limit of [1, 7, 54, 55, 56, 1000]) {
      const { keys, pages, total } = await allPages('', limit);
      expect(keys, `limit ${limit}`).toEqual(all);
      expect(pages).toBe(Math.max(1, Math.ceil(all.length / limit)));
      expect(total).toBe(55);
    }
  });

  it('defaults to 100 per page', async () => {
    const extra = Array.from({ length: 150 }, (_, i) => fold([update('extra', 'main', String(i).padStart(3, '0'), 'NEW')]));
    for (const s of extra) store.set(s.order.orderKey, s, 1);
    try {
      const first = await call('/orders');
      expect(first.json.count).toBe(100);
      expect(first.json.total).toBe(205);
      const second = await call(`/orders?cursor=${first.json.nextCursor}`);
      expect(second.json.count).toBe(100);
      const third = await call(`/orders?cursor=${second.json.nextCursor}`);
      expect(third.json.count).toBe(5);
      expect(third.json.nextCursor).toBeNull();
    } finally {
      for (const s of extra) store.delete(s.order.orderKey);
    }
  });

  it('filters by every combination of venue, account and status', async () => {
    const venues = [undefined, 'xt', 'websea', 'bsx', 'loopring', 'nope'];
    const accounts = [undefined, 'main', 'hedge', 'nope'];
    const statusQueries: [string | undefined, OrderStatus[] | undefined][] = [
      [undefined, undefined],
      ['live', LIVE],
      ['terminal', TERMINAL],
      ...ALL.map((s) => [s, [s]] as [string, OrderStatus[]]),
      ['NEW,FILLED', ['NEW', 'FILLED']],
      ['live&status=CANCELED', [...LIVE, 'CANCELED']],
      ['live,terminal', ALL],
      ['new&status=Partially_Filled', ['NEW', 'PARTIALLY_FILLED']],
      ['LIVE,CLOSED_UNKNOWN,NEW', [...LIVE, 'CLOSED_UNKNOWN']],
    ];
    let nonEmpty = 0;
    for (const venue of venues) {
      for (const account of accounts) {
        for (const [status, statuses] of statusQueries) {
          const parts = [venue && `venue=${venue}`, account && `account=${account}`, status && `status=${status}`].filter(Boolean);
          const want = expected(venue, account, statuses);
          const { keys, total } = await allPages(parts.join('&'), 4);
          expect(keys, parts.join('&')).toEqual(want);
          expect(total).toBe(want.length);
          if (want.length > 0) nonEmpty++;
        }
      }
    }
    expect(nonEmpty).toBeGreaterThan(100); // the combinations really select something
  });

  it('keeps paging consistent while the store changes: the next page starts after the cursor key', async () => {
    const first = await call('/orders?venue=xt&account=main&limit=3');
    const keys = (first.json.orders as OrderState[]).map((o) => o.order.orderKey);
    const last = keys[2] as string;
    const before = fold([update('xt', 'main', '000-before', 'NEW')]); // sorts before the cursor
    const after = fold([update('xt', 'main', 'zzz-after', 'NEW')]);
    store.set(before.order.orderKey, before, 0);
    store.set(after.order.orderKey, after, 0);
    try {
      expect(decodeCursor(first.json.nextCursor)).toBe(last);
      const rest = await allPagesFrom(`/orders?venue=xt&account=main&limit=3`, first.json.nextCursor);
      expect(rest).toEqual(expected('xt', 'main').filter((k) => k > last).concat('xt|main|zzz-after'));
    } finally {
      store.delete(before.order.orderKey);
      store.delete(after.order.orderKey);
    }
  });

  it('lists every problem of bad parameters in one 400', async () => {
    const a = await call('/orders?status=FOO,live&status=&limit=0&cursor=xyz&colour=red&venue=a&venue=b&account=&Venue=x&__proto__=1');
    expect(a.status).toBe(400);
    expect(a.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const words = 'expected live, terminal or one of PENDING_NEW, UNTRIGGERED, NEW, PARTIALLY_FILLED, PENDING_CANCEL, FILLED, CANCELED, REJECTED, EXPIRED, CLOSED_UNKNOWN';
    expect(a.json).toEqual({
      error: 'BAD_REQUEST',
      message: 'invalid query parameters',
      problems: [
        'venue: must be given at most once',
        'account: must not be empty',
        `status: unknown status "FOO" (${words})`,
        'status: empty status word',
        'limit: must be from 1 to 1000',
        'cursor: is not a cursor this API returned',
        'colour: unknown parameter',
        'Venue: unknown parameter',
        '__proto__: unknown parameter',
      ],
    });
  });

  it('refuses every bad limit and cursor, and accepts the bounds', async () => {
    for (const limit of ['abc', '1.5', '-1', '', '1001', '99999999', '1e3', '0x10']) {
      const a = await call(`/orders?limit=${encodeURIComponent(limit)}`);
      expect(a.status, limit).toBe(400);
      expect(a.json.problems, limit).toEqual([expect.stringMatching(/^limit: must be (a whole number )?from 1 to 1000$/)]);
    }
    expect((await call('/orders?limit=1000')).json.count).toBe(55);
    expect((await call('/orders?limit=1')).json.count).toBe(1);
    expect((await call('/orders?limit=1&limit=2')).json.problems).toEqual(['limit: must be given at most once']);
    const foreign = Buffer.from('xt|main|1001').toString('base64url'); // base64 of a key, but not one of our cursors
    const notUtf8 = Buffer.from([...Buffer.from('o1:'), 0xff, 0xfe]).toString('base64url');
    for (const cursor of ['', '!!', foreign, notUtf8, `${encodeCursor('xt|main|1001')}=`]) {
      const a = await call(`/orders?cursor=${encodeURIComponent(cursor)}`);
      expect(a.status, cursor).toBe(400);
      expect(a.json.problems).toEqual([cursor === '' ? 'cursor: must not be empty' : 'cursor: is not a cursor this API returned']);
    }
  });

  it('answers 400 for malformed percent-encoding in the query', async () => {
    for (const qs of ['venue=%ZZ', 'venue=%E0%A4%A', '%C3%28=1']) {
      const a = await rawGet(`/orders?${qs}`);
      expect(a.status, qs).toBe(400);
      expect(JSON.parse(a.body)).toEqual({ error: 'BAD_REQUEST', message: 'malformed percent-encoding in the query string' });
    }
    // "+" is a space in a query value
    expect((await call('/orders?status=a+b')).json.problems).toEqual([expect.stringMatching(/^status: unknown status "a b" /)]);
    expect((await call('/orders?venue=x%74')).json.total).toBe(expected('xt').length);
  });
});

async function allPagesFrom(path: string, cursor: string | null): Promise<string[]> {
  const keys: string[] = [];
  while (cursor !== null) {
    const a: Answer = await call(`${path}&cursor=${cursor}`);
    keys.push(...(a.json.orders as OrderState[]).map((o) => o.order.orderKey));
    cursor = a.json.nextCursor;
  }
  return keys;
}

describe('selectOrders', () => {
  it('pages any store into exactly the sorted matching keys (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.string({ maxLength: 6 }), fc.constantFrom<OrderStatus>(...ALL)), { selector: (t) => t[0], maxLength: 60 }),
        fc.integer({ min: 1, max: 12 }),
        fc.option(fc.subarray(ALL, { minLength: 1 })),
        (entries, limit, statuses) => {
          const states = entries.map(([key, status]) => ({ order: { orderKey: key, venue: 'v', account: 'a', status } }) as OrderState);
          const query = { limit, statuses: statuses ? new Set(statuses) : undefined };
          const want = entries.filter(([, s]) => !statuses || statuses.includes(s)).map(([k]) => k).sort();
          const got: string[] = [];
          let after: string | undefined;
          for (let pages = 0; ; pages++) {
            expect(pages).toBeLessThanOrEqual(entries.length); // a page that does not advance would loop forever
            const page = selectOrders(states, { ...query, after });
            expect(page.total).toBe(want.length);
            got.push(...page.orders.map((o) => o.order.orderKey));
            if (page.nextCursor === null) break;
            after = decodeCursor(page.nextCursor);
          }
          expect(got).toEqual(want);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('round-trips any key through a cursor', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (key) => {
        expect(decodeCursor(encodeCursor(key))).toBe(key);
      }),
    );
  });
});

describe('health, readiness and metrics', () => {
  it('/healthz follows isHealthy', async () => {
    let a = await call('/healthz');
    expect([a.status, a.json]).toEqual([200, { status: 'ok' }]);
    healthy = false;
    a = await call('/healthz');
    expect([a.status, a.json]).toEqual([503, { status: 'unhealthy' }]);
    healthy = true;
    expect((await call('/healthz')).status).toBe(200);
  });

  it('/readyz and the order routes follow isReady; health and metrics do not', async () => {
    ready = false;
    expect(await call('/readyz').then((a) => [a.status, a.json])).toEqual([503, { status: 'restoring' }]);
    const notReady = { error: 'NOT_READY', message: 'the store is still being restored from orders.state.v1; retry shortly' };
    expect(await call('/orders').then((a) => [a.status, a.json])).toEqual([503, notReady]);
    expect(await call(keyPath('xt|main|1001')).then((a) => [a.status, a.json])).toEqual([503, notReady]);
    expect((await call('/orders?limit=0')).status).toBe(400); // bad input is still bad input
    expect((await call('/healthz')).status).toBe(200);
    const m = await call('/metrics');
    expect(m.status).toBe(200);
    expect(m.text).toContain('\norderstream_order_state_ready 0\n');
    ready = true;
    expect(await call('/readyz').then((a) => [a.status, a.json])).toEqual([200, { status: 'ready' }]);
    expect((await call('/orders')).status).toBe(200);
    expect((await call('/metrics')).text).toContain('\norderstream_order_state_ready 1\n');
  });

  it('/metrics serves the Prometheus text of the store, with the request histogram', async () => {
    const histogramBefore = (await call('/metrics')).text;
    const countOf = (text: string, route: string, code: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`orderstream_order_state_http_request_duration_seconds_count{route="${route}",code="${code}"} `));
      return line ? Number(line.split(' ')[1]) : 0;
    };
    await call(keyPath('xt|main|1001'));
    await call(keyPath('xt|main|1001'));
    await call(keyPath('xt|main|missing'));
    await call('/orders?limit=0');
    await call('/nowhere');
    await call('/orders', { method: 'POST' });
    const a = await call('/metrics');
    expect(a.status).toBe(200);
    expect(a.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const lines = a.text.split('\n');
    // the store: 5 of every status (one per venue account), plus the five named orders
    const want: Record<OrderStatus, number> = {
      PENDING_NEW: 5, UNTRIGGERED: 5, NEW: 6, PARTIALLY_FILLED: 7, PENDING_CANCEL: 5,
      FILLED: 6, CANCELED: 5, REJECTED: 5, EXPIRED: 5, CLOSED_UNKNOWN: 6,
    };
    expect(lines.filter((l) => l.startsWith('orderstream_order_state_orders_by_status'))).toEqual(
      ALL.map((s) => `orderstream_order_state_orders_by_status{status="${s}"} ${want[s]}`),
    );
    expect(lines).toContain('orderstream_order_state_orders 55');
    expect(lines.filter((l) => l.startsWith('orderstream_order_state_orders_by_venue'))).toEqual([
      'orderstream_order_state_orders_by_venue{venue="bsx"} 11',
      'orderstream_order_state_orders_by_venue{venue="loopring"} 11',
      'orderstream_order_state_orders_by_venue{venue="websea"} 11',
      'orderstream_order_state_orders_by_venue{venue="xt"} 22',
    ]);
    expect(lines).toContain('orderstream_order_state_updates_total 99');
    for (const [route, code, n] of [['order', '200', 2], ['order', '404', 1], ['orders', '400', 1], ['unknown', '404', 1], ['orders', '405', 1]] as const) {
      expect(countOf(a.text, route, code) - countOf(histogramBefore, route, code), `${route} ${code}`).toBe(n);
    }
  });

  it('answers 500 when metrics fail, logs it at warn, and keeps serving', async () => {
    metricsFail = true;
    const before = logLines.length;
    const a = await call('/metrics');
    expect([a.status, a.json]).toEqual([500, { error: 'INTERNAL', message: 'internal error' }]);
    const warned = logLines.slice(before).filter((l) => l.level === 40);
    expect(warned).toHaveLength(1);
    expect(warned[0]?.msg).toBe('query api request failed: stats exploded');
    expect(warned[0]?.status).toBe(500);
    metricsFail = false;
    expect((await call('/metrics')).status).toBe(200);
  });
});

describe('errors and robustness', () => {
  it('answers 404 NOT_FOUND for unknown paths, whatever the method', async () => {
    for (const [path, method] of [['/nope', 'GET'], ['/orders/', 'GET'], ['/blotter', 'GET'], ['/orders/x/../', 'DELETE'], ['/metricsx', 'POST'], ['/Orders', 'GET']] as const) {
      const a = await call(path, { method });
      expect(a.status, `${method} ${path}`).toBe(404);
      expect(a.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(a.json.error).toBe('NOT_FOUND');
    }
    expect((await rawGet('/orders/')).status).toBe(404);
    expect(JSON.parse((await rawGet('/nope?x=%ZZ')).body)).toEqual({ error: 'NOT_FOUND', message: 'no such path: /nope' });
  });

  it('answers 405 with Allow: GET for other methods on known paths, body or not', async () => {
    for (const [path, method] of [['/orders', 'POST'], [keyPath('xt|main|1001'), 'DELETE'], ['/metrics', 'PUT'], ['/healthz', 'PATCH'], ['/readyz', 'HEAD']] as const) {
      const a = await call(path, { method, body: method === 'POST' || method === 'PUT' ? '{"x":1}'.repeat(1000) : undefined });
      expect(a.status, `${method} ${path}`).toBe(405);
      expect(a.headers.get('allow')).toBe('GET');
      if (method !== 'HEAD') expect(a.json).toEqual({ error: 'METHOD_NOT_ALLOWED', message: `${method} is not allowed on ${path}; use GET` });
    }
    expect((await call('/healthz')).status).toBe(200); // the connection is still usable
  });

  it('answers 400 to a request Node cannot parse, and keeps serving', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(base).port), '127.0.0.1', () => socket.write('GET /orders HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n'));
      let data = '';
      socket.on('data', (c) => (data += c.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(reply.startsWith('HTTP/1.1 400 Bad Request\r\n')).toBe(true);
    expect((await call('/healthz')).status).toBe(200);
  });

  it('logs one debug line per request', async () => {
    const before = logLines.length;
    await call(keyPath('xt|main|1001'));
    await call('/orders?limit=0');
    await call('/nope', { method: 'POST' });
    const lines = logLines.slice(before);
    expect(lines.map((l) => [l.level, l.msg, l.method, l.url, l.status])).toEqual([
      [20, 'query api request', 'GET', '/orders/xt%7Cmain%7C1001', 200],
      [20, 'query api request', 'GET', '/orders?limit=0', 400],
      [20, 'query api request', 'POST', '/nope', 404],
    ]);
  });

  it('documents every error code in docs/query-api.md, and no other', () => {
    const doc = readFileSync(new URL('../../../docs/query-api.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/^\| `([A-Z_]+)` \| \d{3} \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...QUERY_ERROR_CODES].sort());
  });
});

describe('start and stop', () => {
  it('listens where asked, refuses a taken port, and stops listening', async () => {
    const silent = createLogger({ name: 'test', level: 'silent' });
    const deps = { store, isReady: () => true, isHealthy: () => true, metrics: () => '', logger: silent };
    const s = createQueryServer(deps, { port: 0, host: 'localhost' });
    const { url, port } = await s.start();
    expect(url).toBe(`http://localhost:${port}`);
    await expect(s.start()).rejects.toThrow(/already started/);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const clash = createQueryServer(deps, { port, host: 'localhost' });
    await expect(clash.start()).rejects.toThrow(/EADDRINUSE/);
    await s.stop();
    await s.stop(); // twice is fine
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    await clash.stop(); // never started: nothing to do
  });
});
