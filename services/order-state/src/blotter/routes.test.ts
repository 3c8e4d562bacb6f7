import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@orderstream/kit';
import type { OrderState, OrderStatus } from '@orderstream/schemas';
import { createQueryServer, type QueryServer } from '../http.js';
import { OrderStore } from '../store.js';
import { BlotterFeed } from './feed.js';

const T0 = 1_763_700_000_000_000;

function state(venue: string, account: string, id: number, status: OrderStatus, price: string, at = T0 + id): OrderState {
  return {
    order: {
      orderKey: `${venue}|${account}|${id}`, venue, account, orderId: String(id), clientOrderId: null, venueSymbol: venue === 'xt' ? 'btc_usdt' : 'ETH-USDC',
      symbol: venue === 'xt' ? 'BTC/USDT:USDT' : 'ETH/USDC', instrumentKind: 'PERPETUAL', side: 'BUY', positionSide: null, orderType: 'LIMIT', venueOrderType: 'LIMIT',
      timeInForce: 'GTC', status, venueStatus: status.toLowerCase(), price, triggerPrice: null, quantity: '1', venueQuantity: '1', quoteQuantity: null,
      filledQuantity: '0', venueFilledQuantity: '0', filledQuoteQuantity: null, averagePrice: null, fee: null, feeAsset: null, lastFillQuantity: null,
      lastFillPrice: null, lastFillFee: null, lastFillId: null, reduceOnly: false, postOnly: false, createdAt: T0, updatedAt: at, receivedAt: at,
      source: { topic: 'orders.raw.v1', partition: 0, offset: id }, extras: {},
    },
    updateCount: 1, stateUpdatedAt: at, executions: [], note: null,
  };
}

describe('BlotterFeed', () => {
  it('keeps counts per status and venue from the store changes, and windows filter, sort and page', () => {
    const store = new OrderStore();
    store.set('xt|a|1', state('xt', 'a', 1, 'NEW', '10'), 0);
    const feed = new BlotterFeed(store);
    for (let i = 2; i <= 30; i++) store.set(`${i % 2 ? 'xt' : 'bsx'}|a|${i}`, state(i % 2 ? 'xt' : 'bsx', 'a', i, i % 3 ? 'NEW' : 'FILLED', String(i * 10)), 0);
    store.set('xt|a|1', state('xt', 'a', 1, 'CANCELED', '10'), 0);
    store.delete('bsx|a|30');
    const c = feed.counts();
    expect(c.total).toBe(29);
    expect(c.byStatus.CANCELED).toBe(1);
    expect(c.byStatus.NEW! + c.byStatus.FILLED! + c.byStatus.CANCELED!).toBe(29);
    expect(c.byVenue).toEqual({ bsx: 14, xt: 15 });
    expect(c.liveByVenue.xt).toBe([...store.values()].filter((s) => s.order.venue === 'xt' && s.order.status === 'NEW').length);

    const w = feed.window({ venue: 'xt', sort: 'price', desc: true, offset: 2, limit: 3, statuses: new Set(['NEW']) });
    const want = [...store.values()].filter((s) => s.order.venue === 'xt' && s.order.status === 'NEW').sort((a, b) => Number(b.order.price) - Number(a.order.price));
    expect(w.matched).toBe(want.length);
    expect(w.rows.map((r) => r.key)).toEqual(want.slice(2, 5).map((s) => s.order.orderKey));
    expect(feed.window({ symbol: 'eth', sort: 'key', desc: false, offset: 0, limit: 100 }).matched).toBe(14);
    // history: every change this instance saw, oldest first
    expect(feed.detail('xt|a|1')?.history.map((h) => h.status)).toEqual(['CANCELED']); // the first set was before the feed
    store.set('xt|a|1', { ...state('xt', 'a', 1, 'CANCELED', '10'), updateCount: 2 }, 0);
    expect(feed.detail('xt|a|1')?.history.map((h) => h.updateCount)).toEqual([1, 2]);
    feed.close();
  });

  it('answers deep windows (past the bounded selection) in order, and again after a change', () => {
    const store = new OrderStore();
    for (let i = 0; i < 3_000; i++) store.set(`xt|a|${i}`, state('xt', 'a', i, 'NEW', String((i * 7919) % 3_001)), 0);
    const feed = new BlotterFeed(store);
    const q = { sort: 'price' as const, desc: false, offset: 2_500, limit: 5 };
    const byPrice = () => [...store.values()].sort((a, b) => Number(a.order.price) - Number(b.order.price) || (a.order.orderKey < b.order.orderKey ? -1 : 1)).map((s) => s.order.orderKey);
    expect(feed.window(q).rows.map((r) => r.key)).toEqual(byPrice().slice(2_500, 2_505));
    expect(feed.window({ ...q, offset: 2_600 }).rows.map((r) => r.key)).toEqual(byPrice().slice(2_600, 2_605)); // reused order
    store.set('xt|a|0', state('xt', 'a', 0, 'NEW', '2999.5'), 0); // moves into the window
    expect(feed.window(q).rows.map((r) => r.key)).toEqual(byPrice().slice(2_500, 2_505));
    feed.close();
  });

  it('sends changed rows in batches, one row per key, and overflow when a batch is too large', () => {
    const store = new OrderStore();
    const feed = new BlotterFeed(store, { maxBatch: 3 });
    const got: unknown[] = [];
    feed.subscribe((b) => got.push(b));
    store.set('xt|a|1', state('xt', 'a', 1, 'NEW', '1'), 0);
    store.set('xt|a|1', state('xt', 'a', 1, 'FILLED', '1'), 0);
    store.set('xt|a|2', state('xt', 'a', 2, 'NEW', '1'), 0);
    feed.flush();
    expect(got).toHaveLength(1);
    expect((got[0] as { rows: { key: string; status: string }[] }).rows.map((r) => [r.key, r.status])).toEqual([['xt|a|1', 'FILLED'], ['xt|a|2', 'NEW']]);
    for (let i = 3; i < 10; i++) store.set(`xt|a|${i}`, state('xt', 'a', i, 'NEW', '1'), 0);
    feed.flush();
    expect(got[1]).toMatchObject({ overflow: 7 });
    feed.flush();
    expect(got).toHaveLength(2); // nothing changed: nothing sent
    feed.close();
  });
});

describe('blotter routes on the query server', () => {
  const store = new OrderStore();
  let server: QueryServer;
  let url: string;

  beforeAll(async () => {
    for (let i = 1; i <= 50; i++) store.set(`xt|main|${i}`, state('xt', 'main', i, 'NEW', String(i)), 0);
    server = createQueryServer({ store, isReady: () => true, isHealthy: () => true, metrics: () => '', logger: silentLogger() }, { port: 0, blotter: { flushMs: 20 } });
    url = (await server.start()).url;
  });
  afterAll(async () => {
    await server.stop();
  });

  it('serves the page at / with nothing from other hosts', async () => {
    const res = await fetch(`${url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await res.text();
    expect(html).toContain('<script type="module" src="/blotter/app.js">');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('answers a window and an order detail, and 400 for a bad window', async () => {
    const w = (await (await fetch(`${url}/blotter/api/window?sort=price&dir=desc&limit=5&offset=10`)).json()) as { matched: number; rows: { key: string }[] };
    expect(w.matched).toBe(50);
    expect(w.rows.map((r) => r.key)).toEqual(['xt|main|40', 'xt|main|39', 'xt|main|38', 'xt|main|37', 'xt|main|36']);
    const d = await fetch(`${url}/blotter/api/order/${encodeURIComponent('xt|main|7')}`);
    expect(((await d.json()) as { state: OrderState }).state.order.orderId).toBe('7');
    expect((await fetch(`${url}/blotter/api/order/nope`)).status).toBe(404);
    const bad = await fetch(`${url}/blotter/api/window?sort=colour&status=open`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { problems: string[] }).problems).toHaveLength(2);
    expect((await fetch(`${url}/blotter/api/window`, { method: 'POST' })).status).toBe(405);
  });

  it('streams store changes as Server-Sent Events, and stop() ends the stream', async () => {
    const events: { event: string; data: unknown }[] = [];
    let resolveFirst: () => void;
    const changed = new Promise<void>((r) => (resolveFirst = r));
    const req = request(`${url}/blotter/events`);
    const ended = new Promise<void>((resolve) => {
      req.on('response', (res) => {
        expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event && data) events.push({ event, data: JSON.parse(data) });
            if (event === 'hello') store.set('xt|main|7', state('xt', 'main', 7, 'FILLED', '7'), 0);
            if (event === 'changes') resolveFirst();
          }
        });
        res.on('close', resolve);
        res.on('error', () => resolve());
      });
    });
    req.on('error', () => undefined);
    req.end();
    await changed;
    expect(events[0]).toMatchObject({ event: 'hello', data: { ready: true, counts: { total: 50 } } });
    expect(events[1]).toMatchObject({ event: 'changes', data: { rows: [{ key: 'xt|main|7', status: 'FILLED' }], removed: [], counts: { byStatus: { FILLED: 1, NEW: 49 } } } });
    await server.stop(); // must not wait for the open stream
    await ended;
  });
});
