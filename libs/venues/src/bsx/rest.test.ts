import { describe, expect, it } from 'vitest';
import { FrameError } from '@orderstream/kit';
import type { CanonicalOrder } from '@orderstream/schemas';
import type { MapContext, MapResult } from '../types.js';
import { testMapContext, testRestContext } from '../sim/test-context.js';
import { bsxFixture, readBsxFixtures } from './fixtures.js';
import { bsxMapper } from './mapper.js';
import { bsxRestShapeOf, parseBsxRestBody } from './rest.js';

const RECEIVED = 1_719_320_999_000_001;
const SOURCE = { topic: 'orders.raw.v1', partition: 1, offset: 9 };

function restCtx(name: string): MapContext {
  const f = bsxFixture('rest.jsonl', name);
  if (!f.rest) throw new Error(`fixture ${name} has no rest request`);
  return testRestContext('bsx', f.rest, f.rest.status, { receivedAt: RECEIVED, source: SOURCE });
}

const pushCtx = (): MapContext => testMapContext('bsx', { receivedAt: RECEIVED, source: SOURCE });

function mapRest(name: string): MapResult {
  return bsxMapper.map(bsxFixture('rest.jsonl', name).text, restCtx(name));
}

function orders(name: string): CanonicalOrder[] {
  const r = mapRest(name);
  if (r.kind !== 'orders') throw new Error(`expected orders, got skipped: ${r.what}`);
  expect(r.snapshot).toBeUndefined(); // the reconciled event, not the answer, is the snapshot
  return r.orders;
}

/** A push frame carrying `objects` (the same order objects), mapped without ctx.rest. */
function pushOf(objects: unknown[]): CanonicalOrder[] {
  const text = JSON.stringify({ channel: 'orders', type: 'update', data: objects, timestamp: '1719319688307036691' });
  const r = bsxMapper.map(text, pushCtx());
  if (r.kind !== 'orders') throw new Error('push not mapped');
  return r.orders;
}

describe('BSX REST answers → canonical orders (ctx.rest set)', () => {
  it('open orders (the doc snapshot as a REST list): one canonical order per entry, identical to the pushed ones', () => {
    const got = orders('doc-open-orders');
    expect(got.map((o) => [o.orderId, o.status, o.venueStatus, o.filledQuantity, o.fee])).toEqual([
      ['6cb26475-a6df-404a-b00c-3ebc2e8fc846', 'NEW', 'OPEN', '0', '0'],
      ['b83f7c94-8779-4089-b15f-58e3d40cdfed', 'PARTIALLY_FILLED', 'OPEN', '0.011', '-0.0385'],
      ['f9d68224-5127-4dc6-98f6-037f7f178c67', 'PARTIALLY_FILLED', 'OPEN', '0.2', '-0.03'],
      ['572c6d1f-cb3d-4db2-8328-d164017bbfaf', 'UNTRIGGERED', 'STOP_ACCEPTED', '0', '0'],
    ]);
    // the official doc's snapshot frame carries the same objects: REST and push map to the same canonical orders
    const snapshot = bsxMapper.map(bsxFixture('orders.jsonl', 'doc-snapshot').text.replace(/\/\/[^\n]*/g, ''), pushCtx());
    if (snapshot.kind !== 'orders') throw new Error('snapshot not mapped');
    expect(got).toEqual(snapshot.orders);
  });

  it('units and times as for pushes: ns → µs exactly, ns verbatim in extras, orderKey venue|account|id', () => {
    const o = orders('doc-open-orders')[1] as CanonicalOrder;
    expect(o.orderKey).toBe('bsx|acc-1|b83f7c94-8779-4089-b15f-58e3d40cdfed');
    expect(o.createdAt).toBe(1_718_911_292_630_380);
    expect(o.updatedAt).toBe(1_719_249_149_768_837);
    expect(o.extras.created_at_ts).toBe('1718911292630380000');
    expect(o.extras.updated_at).toBe('1719249149768837378');
    expect(o.averagePrice).toBe('70000');
    expect(o.filledQuoteQuantity).toBe('770');
    expect(o.quantity).toBe('0.014');
    expect(o.receivedAt).toBe(RECEIVED);
    expect(o.source).toEqual(SOURCE);
  });

  it('an empty open-orders list → no orders (not an error)', () => {
    expect(orders('open-orders-empty')).toEqual([]);
  });

  it('order detail by id: one order, live or finished, with its last fill from last_trades', () => {
    const open = orders('doc-order-detail-open');
    expect(open).toHaveLength(1);
    expect(open[0]?.status).toBe('PARTIALLY_FILLED');
    const [done] = orders('order-detail-done-filled');
    expect(done?.status).toBe('FILLED');
    expect(done?.venueStatus).toBe('DONE');
    expect(done?.lastFillId).not.toBeNull();
    const raw = JSON.parse(bsxFixture('rest.jsonl', 'order-detail-done-filled').text) as Record<string, unknown>;
    expect(pushOf([raw])).toEqual([done]);
  });

  it('history: every DONE flavour, trade times as JSON numbers kept exact; equal to the pushes of the same objects', () => {
    const got = orders('order-history-done');
    expect(got.map((o) => o.status)).toEqual(['FILLED', 'CANCELED', 'REJECTED', 'EXPIRED', 'CANCELED', 'CANCELED']);
    expect(got.every((o) => o.venueStatus === 'DONE')).toBe(true);
    const raw = JSON.parse(bsxFixture('rest.jsonl', 'order-history-done').text.replace(/"time":(\d+)/g, '"time":"$1"')) as unknown[];
    expect(pushOf(raw)).toEqual(got);
    expect(orders('order-history-empty')).toEqual([]);
  });

  it('covers every documented status word in REST answers', () => {
    const words = new Set(readBsxFixtures('rest.jsonl').flatMap((f) => {
      const r = f.rest && f.rest.status === 200 ? bsxMapper.map(f.text, restCtx(f.name)) : undefined;
      return r?.kind === 'orders' ? r.orders.map((o) => o.venueStatus) : [];
    }));
    expect([...words].sort()).toEqual(['DONE', 'OPEN', 'PENDING', 'STOP_ACCEPTED']);
    expect(orders('doc-order-detail-pending').map((o) => [o.status, o.venueStatus, o.createdAt, o.extras.created_at_ts])).toEqual([
      ['PENDING_NEW', 'PENDING', 1_719_319_688_307_036, '1719319688307036691'],
    ]);
  });

  it('an error envelope inside a 2xx answer is skipped, saying what it was', () => {
    const r = mapRest('error-in-200');
    expect(r).toEqual({ kind: 'skipped', what: 'REST GET /orders error code 8 (too many requests)' });
  });

  it('error envelopes of non-2xx answers map as skipped too (the normalizer skips them before; replay stays safe)', () => {
    for (const name of ['error-unauthenticated', 'error-not-found', 'error-rate-limited', 'error-internal']) {
      expect(mapRest(name).kind).toBe('skipped');
    }
  });

  it('malformed REST answers get FrameErrors naming the problem and the order', () => {
    const ctx = restCtx('doc-open-orders');
    const err = (text: string, c: MapContext = ctx) => {
      try {
        bsxMapper.map(text, c);
      } catch (e) {
        expect(e).toBeInstanceOf(FrameError);
        return e as FrameError;
      }
      throw new Error('expected a FrameError');
    };
    expect(err('[{"id":').code).toBe('FRAME_NOT_JSON');
    expect(err('{"orders":[]}').code).toBe('FRAME_UNKNOWN_VARIANT');
    const bad = JSON.parse(bsxFixture('rest.jsonl', 'doc-open-orders').text) as Record<string, unknown>[];
    (bad[1] as Record<string, unknown>).size = 'ten';
    const invalid = err(JSON.stringify(bad));
    expect(invalid.code).toBe('FRAME_INVALID');
    expect(invalid.message).toContain('1.size');
    expect(invalid.message).toContain('[order b83f7c94-8779-4089-b15f-58e3d40cdfed]');
    expect(err('[]', { ...ctx, rest: { method: 'GET', path: '/portfolio/detail', params: {}, status: 200 } }).code).toBe('FRAME_UNKNOWN_VARIANT');
    const unknownStatus = err(JSON.stringify([{ ...bad[0], status: 'CANCELLED' }]));
    expect(unknownStatus.code).toBe('FRAME_UNKNOWN_STATUS');
  });

  it('routes REST paths by shape', () => {
    expect(bsxRestShapeOf('/orders')).toBe('list');
    expect(bsxRestShapeOf('/order-history')).toBe('list');
    expect(bsxRestShapeOf('/orders/abc')).toBe('one');
    expect(bsxRestShapeOf('/orders/')).toBeUndefined();
    expect(parseBsxRestBody('{"code":16,"message":"Unauthenticated","details":[]}', '/orders')).toEqual({ kind: 'error', error: { code: 16, message: 'Unauthenticated' } });
  });
});
