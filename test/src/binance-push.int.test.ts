/**
 * Issue 8, end to end on a real broker: Binance USDⓈ-M orders reach orders.state.v1 by the account's user data stream,
 * with no track request at all. A listen key that expires mid-play and abrupt disconnects while orders fill, cancel
 * and expire end with the state equal to the simulator's truth: pushes lost in a gap are recovered by the REST
 * reconciliation and order.status after every (re)connect of the stream. Then the shared gap scenario (interrupts,
 * orders beginning and ending inside gaps, REST faults, untellable orders, replay) in push mode.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@orderstream/kit';
import { createKafka, ensurePipelineTopics, headerString, orderSerdes, readTopicToEnd, topicNames, type Kafka, type TopicNames } from '@orderstream/kafka';
import type { CanonicalOrder } from '@orderstream/schemas';
import { mapperLookup } from '@orderstream/venues';
import { createCollectorApp, type CollectorApp } from '@orderstream/collector';
import { createNormalizerApp, type NormalizerApp } from '@orderstream/normalizer';
import { createOrderStateApp, type OrderStateApp } from '@orderstream/order-state';
import { uniqueName, waitFor } from '@orderstream/testing';
import { testBrokers } from '@orderstream/testing/vitest';
import { binanceUsdmPushGapRig, type BinanceUsdmPushGapRig } from './rigs/binance-usdm-push-gap.js';
import { pickChecked } from './rigs/types.js';
import { waitForStateTopic } from './support/checks.js';
import { GAP_RECONCILE, gapScenario, sessionEvents } from './support/gap-scenario.js';

describe('Binance USDⓈ-M by push (user data stream)', () => {
  const logger = silentLogger();
  const serdes = orderSerdes();
  let kafka: Kafka;
  let topics: TopicNames;
  let rig: BinanceUsdmPushGapRig;
  let collector: CollectorApp;
  let normalizer: NormalizerApp;
  let orderState: OrderStateApp;

  beforeAll(async () => {
    kafka = createKafka({ brokers: testBrokers(), clientId: 'e2e-bn-push', logger });
    const prefix = `${uniqueName('e2e-bn-push')}.`;
    topics = topicNames(prefix);
    await ensurePipelineTopics(kafka, { prefix, rawPartitions: 2, orderPartitions: 3, profile: 'test' });
    rig = await binanceUsdmPushGapRig('push');
    collector = createCollectorApp({
      kafka, topics, logger, progressEveryMs: 0, decodeState: serdes.decodeState,
      accounts: [{ account: rig.account, client: rig.client, reconcile: GAP_RECONCILE }],
    });
    normalizer = createNormalizerApp({ kafka, topics, groupId: uniqueName('normalizer'), lookup: mapperLookup, reference: rig.reference, serde: serdes, logger, progressEveryMs: 0 });
    orderState = createOrderStateApp({ kafka, topics, groupId: uniqueName('order-state'), serde: serdes, logger, progressEveryMs: 0 });
    await Promise.all([normalizer.start(), orderState.start()]);
    await collector.start();
    await rig.ready();
  });

  afterAll(async () => {
    await collector?.stop();
    await Promise.all([normalizer?.stop(), orderState?.stop()]);
    await rig?.stop();
  });

  async function converge(phase: string): Promise<Map<string, Partial<CanonicalOrder>>> {
    const want = new Map([...rig.expected()].map(([k, e]) => [k, pickChecked(e)]));
    const wrong = () => [...want].filter(([key, w]) => {
      const got = orderState.store.get(key)?.order;
      return !got || Object.entries(w).some(([k, v]) => got[k as keyof CanonicalOrder] !== v);
    });
    await waitFor(() => wrong().length === 0, { timeoutMs: 60_000, intervalMs: 250, description: `${phase}: order-state to equal the simulator's truth (${want.size} orders)` }).catch((error: unknown) => {
      const [key, w] = wrong()[0] ?? [];
      throw new Error(`${String(error)}; ${wrong().length} differ, first ${key}: want ${JSON.stringify(w)} got ${JSON.stringify(pickChecked(orderState.store.get(key ?? '')?.order ?? {}))}`);
    });
    return want;
  }

  /** Raw frames of the account's user data stream (data frames that are events). */
  async function pushedEvents(): Promise<string[]> {
    return (await readTopicToEnd(kafka, topics.raw))
      .filter((r) => String(r.key) === `binance-usdm|${rig.account}` && headerString(r.headers, 'frame-kind') === 'data')
      .map((r) => String(r.value))
      .filter((t) => t.startsWith('{"e":'));
  }

  it('orders nobody asked to track appear by push and end equal to the truth', { timeout: 120_000 }, async () => {
    await rig.play(25, { intervalMs: 10, seed: 501 });
    const want = await converge('after a play with no track request');
    expect(want.size).toBe(25);
    const track = await readTopicToEnd(kafka, topics.track);
    expect(track).toEqual([]);
    const events = await pushedEvents();
    const orderEvents = events.filter((t) => t.includes('"e":"ORDER_TRADE_UPDATE"'));
    // every order's creation and final state were pushed, and those frames went to the same raw key as order.status answers
    for (const [key, e] of want) {
      const id = key.split('|')[2] as string;
      const mine = orderEvents.filter((t) => t.includes(`"i":${id},`));
      expect(mine.length, `pushes of ${id}`).toBeGreaterThan(0);
      if (e.status !== 'REJECTED') expect(mine.some((t) => t.includes('"x":"NEW"')), `NEW push of ${id}`).toBe(true);
    }
    expect(events.some((t) => t.includes('"e":"TRADE_LITE"'))).toBe(true); // skipped by the normalizer, not dead-lettered
    expect(rig.sim.stats().userStreamEventsPushed).toBeGreaterThan(25);
  });

  it('a listen key expiry and abrupt disconnects during lifecycles end with the state equal to the truth', { timeout: 180_000 }, async () => {
    const keysBefore = rig.sim.stats().listenKeysCreated;
    const play = rig.play(30, { intervalMs: 40, seed: 502 });
    await waitFor(() => rig.liveOrderIds().length >= 5, { timeoutMs: 20_000, intervalMs: 10, description: 'live orders' });
    /** after a disruption: the stream is back and its reconnect's reconciliation completed (a new drop would abort it) */
    const recovered = async (runs: number, what: string) =>
      waitFor(() => rig.sim.stats().userStreamSockets > 0 && collector.stats().reconcile.runs > runs, { timeoutMs: 60_000, intervalMs: 20, description: what });
    let runs = collector.stats().reconcile.runs;
    expect(rig.sim.expireListenKeys()).toBe(1);
    await recovered(runs, 'a new listen key, the stream back and reconciled');
    expect(rig.sim.stats().listenKeysCreated).toBeGreaterThan(keysBefore);
    for (let i = 0; i < 2; i++) {
      runs = collector.stats().reconcile.runs;
      rig.sim.dropConnections();
      await recovered(runs, `the stream back and reconciled after drop ${i + 1}`);
    }
    await play;
    await converge('after a key expiry and two disconnects');
    const events = await sessionEvents(kafka, topics, 'binance-usdm', rig.account);
    expect(events.some((e) => e.event === 'error' && e.code === 'listenKeyExpired')).toBe(true);
    expect([...orderState.store.values()].filter((s) => s.order.status === 'CLOSED_UNKNOWN')).toEqual([]);
    await waitForStateTopic(kafka, topics, new Map([...rig.expected()].map(([k, e]) => [k, pickChecked(e)])), 60_000);
    const dlq = await readTopicToEnd(kafka, topics.dlq);
    expect(dlq.map((r) => `${String(r.headers['dlq-code'])}: ${String(r.headers['dlq-message'])}`)).toEqual([]);
  });
});

describe('orderstream normalize --venue binance-usdm', () => {
  it('answers both kinds of Binance frame, WebSocket API replies and user data stream events, with no extra flag', () => {
    const main = fileURLToPath(new URL('../../services/cli/dist/main.js', import.meta.url));
    const answer = '{"id":"q1","status":200,"result":{"avgPrice":"0.00000","clientOrderId":"c1","cumQuote":"0","executedQty":"0","orderId":9007199254740993,"origQty":"0.100","origType":"LIMIT","price":"64000.0","reduceOnly":false,"side":"BUY","positionSide":"BOTH","status":"NEW","stopPrice":"0","closePosition":false,"symbol":"BTCUSDT","time":1767225600000,"timeInForce":"GTC","type":"LIMIT","updateTime":1767225600000}}';
    const push = '{"e":"ORDER_TRADE_UPDATE","E":1767225601001,"T":1767225601000,"o":{"s":"BTCUSDT","c":"c1","S":"BUY","o":"LIMIT","f":"GTC","q":"0.100","p":"64000.0","ap":"64000.00000","sp":"0","x":"TRADE","X":"PARTIALLY_FILLED","i":9007199254740993,"l":"0.040","z":"0.040","L":"64000.0","N":"USDT","n":"1.024","T":1767225601000,"t":9007199254741001,"R":false,"ps":"BOTH","ot":"LIMIT"}}';
    const algo = '{"e":"ALGO_UPDATE","T":1767225700000,"E":1767225700005,"o":{"caid":"a1","aid":9007199254760001,"at":"CONDITIONAL","o":"STOP_MARKET","s":"BTCUSDT","S":"SELL","ps":"BOTH","f":"GTC","q":"0.100","X":"NEW","ai":"","ap":"0","aq":"0","act":"0","tp":"62000.0","p":"0","R":true}}';
    const other = '{"e":"ACCOUNT_UPDATE","E":1564745798939,"T":1564745798938,"a":{"m":"ORDER","B":[],"P":[]}}';
    const error = '{"id":"q2","status":400,"error":{"code":-2013,"msg":"Order does not exist."}}';
    const r = spawnSync(process.execPath, [main, 'normalize', '--venue', 'binance-usdm'], { input: [answer, push, algo, other, error].join('\n') + '\n', encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { orders?: Array<Record<string, unknown>>; skipped?: string; dlq?: unknown });
    expect(out).toHaveLength(5);
    expect(out[0]?.orders?.[0]).toMatchObject({ orderId: '9007199254740993', status: 'NEW', createdAt: 1767225600000000 });
    expect(out[1]?.orders?.[0]).toMatchObject({ orderId: '9007199254740993', status: 'PARTIALLY_FILLED', filledQuantity: '0.04', lastFillId: '9007199254741001' });
    expect(out[2]?.orders?.[0]).toMatchObject({ orderId: 'algo-9007199254760001', status: 'UNTRIGGERED', triggerPrice: '62000' });
    expect(out[3]).toEqual({ skipped: 'user data event ACCOUNT_UPDATE' });
    expect(out[4]?.skipped).toContain('-2013');
  });
});

// Interrupts (connections refused while orders finish and orders begin and end), REST faults, untellable orders, replay.
gapScenario((account) => binanceUsdmPushGapRig(account), { history: true });
