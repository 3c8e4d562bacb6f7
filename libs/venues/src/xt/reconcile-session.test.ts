import { afterEach, describe, expect, it } from 'vitest';
import { parseRestRequest, type ReconcileOptions } from '../reconcile.js';
import type { RawFrame } from '../session.js';
import { RecordingSession, type RecordedEvent } from '../sim/recording-session.js';
import type { LiveOrderRef } from '../types.js';
import { XtClient } from './client.js';
import type { XtLifecycle } from './lifecycles.js';
import { XT_ORDER_DETAIL_PATH, XT_ORDER_HISTORY_PATH, XT_ORDER_LIST_PATH } from './rest.js';
import { XtSimulator } from './simulator.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A VenueSession (XtClient) against an XtSimulator with a reconcile source; every sunk frame kept in order. */
async function harness(options: Partial<ReconcileOptions> = {}) {
  const sim = await XtSimulator.start();
  cleanups.push(() => sim.stop());
  const suspects: LiveOrderRef[] = [];
  let lastSeen: number | undefined;
  const client = XtClient.fromConfig({ restUrl: sim.restUrl, wsUrl: sim.wsUrl, apiKey: 'sim-api-key', apiSecret: 'sim-api-secret' });
  const rec = new RecordingSession({
    client,
    sim,
    timeoutMs: 15_000,
    reconcile: { suspects: () => [...suspects], lastSeenMs: () => lastSeen, options: { requestTimeoutMs: 2_000, maxAttempts: 2, ...options } },
  });
  return {
    sim, session: rec.session, frames: rec.frames, events: rec.events, until: rec.until, suspects,
    start: () => {
      rec.start();
      cleanups.push(rec.stop);
    },
    setLastSeen: (ms: number) => {
      lastSeen = ms;
    },
    indexOf: (pred: (f: RawFrame) => boolean) => rec.frames.findIndex(pred),
  };
}

const isEvent = (type: string) => (f: RawFrame) => f.kind === 'session' && (JSON.parse(f.value.toString()) as RecordedEvent).event === type;

describe('XT reconciliation in a VenueSession', () => {
  it('once subscribed, publishes the REST answers raw and then a reconciled event whose snapshot lists the open orders', async () => {
    const h = await harness();
    const open = h.sim.placeOrders(h.sim.randomLifecycles(3, 61).map((lc) => ({ ...lc, kind: 'fill' as const, fills: undefined })));
    const finished = h.sim.randomLifecycles(1, 62)[0] as XtLifecycle;
    await h.sim.play([finished]);
    h.suspects.push({ orderId: finished.orderId, symbol: finished.symbol, status: 'NEW' });
    h.setLastSeen(Date.now() - 1_000);
    h.start();
    await h.until(() => h.indexOf(isEvent('reconciled')) >= 0, 'a reconciled event');

    const subscribedAt = h.indexOf(isEvent('subscribed'));
    const rest = h.frames.filter((f) => f.kind === 'rest');
    expect(subscribedAt).toBeGreaterThanOrEqual(0);
    expect(h.indexOf((f) => f.kind === 'rest')).toBeGreaterThan(subscribedAt);
    expect(rest.map((f) => parseRestRequest(f.rest?.request as string).path)).toEqual([XT_ORDER_LIST_PATH, XT_ORDER_HISTORY_PATH]);
    expect(rest.every((f) => f.rest?.status === 200)).toBe(true);
    // the finished order came back in the history answer, so no detail lookup was needed
    expect(rest[1]?.value.toString()).toContain(finished.orderId);
    const reconciled = h.events().find((e) => e.event === 'reconciled');
    expect(reconciled?.details).toMatchObject({ openOrders: 3, history: 1, lookups: 0 });
    // the snapshot lists every order the venue answered about: the open ones and the one the history named
    expect(((reconciled?.details?.snapshot as { orderIds: string[] }).orderIds).sort()).toEqual([...open, finished.orderId].sort());
    // no secret in any published frame or header
    for (const f of h.frames) {
      expect(f.value.toString()).not.toMatch(/sim-api-(key|secret)/);
      expect(f.rest?.request ?? '').not.toMatch(/validate|signature|sim-api/);
    }
  });

  it('looks up live suspects the lists did not name, one detail call each', async () => {
    const h = await harness();
    const old = h.sim.randomLifecycles(1, 63)[0] as XtLifecycle;
    await h.sim.play([{ ...old, createdTime: Date.now() - 3_600_000 }]);
    h.suspects.push({ orderId: old.orderId, symbol: old.symbol, status: 'PARTIALLY_FILLED' });
    h.setLastSeen(Date.now() - 1_000);
    h.start();
    await h.until(() => h.indexOf(isEvent('reconciled')) >= 0, 'a reconciled event');
    const detail = h.frames.filter((f) => f.kind === 'rest' && parseRestRequest(f.rest?.request as string).path === XT_ORDER_DETAIL_PATH);
    expect(detail.map((f) => f.rest?.request)).toEqual([`GET ${XT_ORDER_DETAIL_PATH}?orderId=${old.orderId}`]);
    expect(h.events().find((e) => e.event === 'reconciled')?.details).toMatchObject({ lookups: 1, failed: [], unknown: [] });
  });

  it('rate limits and server errors: data keeps flowing, a failed run is an error event, a later run succeeds, nothing throws', async () => {
    const h = await harness({ maxAttempts: 2 });
    h.sim.restFaults.knobs.rateLimitNext = 2; // the first run's first call: 429, 429 → the run fails
    h.sim.restFaults.knobs.retryAfterSec = 1;
    h.sim.restFaults.knobs.errorNext = 2; // the second run: 500, 500 → fails too
    h.start();
    await h.until(() => h.indexOf(isEvent('subscribed')) >= 0, 'subscribed');
    const report = h.sim.play(h.sim.randomLifecycles(10, 64), { intervalMs: 30 });
    await h.until(() => h.indexOf(isEvent('reconciled')) >= 0, 'a reconciled event after the faults', 30_000);
    await report;

    const events = h.events();
    const failures = events.filter((e) => e.event === 'error' && String(e.reason).startsWith('reconciliation failed'));
    expect(failures.length).toBe(2);
    expect(failures[0]?.code).toBe('VENUE_RATE_LIMITED');
    expect(failures[1]?.code).toBe('VENUE_HTTP_ERROR');
    // pushes arrived while the reconciliation was failing
    const firstFailure = h.indexOf(isEvent('error'));
    const reconciledAt = h.indexOf(isEvent('reconciled'));
    const dataBetween = h.frames.slice(firstFailure, reconciledAt).filter((f) => f.kind === 'data' && f.value.toString().startsWith('{"topic":"order"'));
    expect(dataBetween.length).toBeGreaterThan(0);
    expect(h.frames.filter((f) => f.kind === 'rest').map((f) => f.rest?.status)).toEqual([429, 429, 500, 500, 200]);
    expect(h.session.reconcileStats).toMatchObject({ runs: 1, runFailures: 2 });
    expect(h.session.connections).toBe(1);
    expect(h.sim.restFaults.stats).toMatchObject({ rateLimited: 2, errors: 2 });
  });

  it('reconciles again after every reconnect (interrupt/resume), asking history from the last frame before the gap', async () => {
    const h = await harness();
    h.start();
    await h.until(() => h.indexOf(isEvent('reconciled')) >= 0, 'the first reconciliation');
    await h.sim.play(h.sim.randomLifecycles(3, 65), { intervalMs: 5 });
    await h.until(() => h.frames.filter((f) => f.kind === 'data' && f.value.toString().startsWith('{"topic":"order"')).length > 0, 'pushes');
    h.sim.interrupt();
    const inGap = h.sim.randomLifecycles(2, 66);
    await h.sim.play(inGap);
    h.sim.resume();
    await h.until(() => h.events().filter((e) => e.event === 'reconciled').length >= 2, 'a second reconciliation after the gap', 20_000);
    const second = h.events().filter((e) => e.event === 'reconciled')[1];
    expect(second?.details?.history).toBeGreaterThanOrEqual(inGap.length);
    const lastHistory = h.frames.filter((f) => f.kind === 'rest' && f.rest?.request.includes(XT_ORDER_HISTORY_PATH)).pop();
    for (const lc of inGap) expect(lastHistory?.value.toString()).toContain(lc.orderId);
  });
});
