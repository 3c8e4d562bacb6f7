/**
 * The edge holds (issue 10): all five venue simulators push while the broker is down for 20 s; the collector (a real
 * OS process, built code, with its outage spool) is SIGKILLed during the outage, after taking in frames it could not
 * publish, and restarted at once with the same spool directory. When the broker returns, every frame each simulator
 * sent on its sockets must be in orders.raw.v1, in order per account (duplicates allowed, losses not), and
 * orders.state.v1 must equal every simulator's truth.
 *
 * Frames a simulator wrote into a socket whose collector had just been killed cannot arrive anywhere (they die in
 * the kernel with the process): only frames sent less than KILL_WINDOW_MS before the kill, at the very end of that
 * socket, may be missing. Without the spool every frame of the outage held by the killed process would be missing.
 * The pushes end, and have all reached the collector's spool, before the kill (the restarted collector connects only
 * once Kafka is back, and a push sent to no one, or into a dead process's socket, is lost at the venue: that is
 * reconciliation's business, not the spool's); heartbeats and Binance polling go on throughout, and are what the
 * kill may cut off. This test has a broker of its own, since it stops it.
 */
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, silentLogger, sleep } from '@orderstream/kit';
import { createKafka, ensurePipelineTopics, headerString, orderSerdes, readTopicToEnd, topicNames, type Kafka, type TopicNames } from '@orderstream/kafka';
import type { CanonicalOrder } from '@orderstream/schemas';
import {
  binanceUsdmExpectedCanonical, BinanceUsdmSimulator, bsxExpectedCanonical, BsxSimulator, DEFAULT_RECONCILE_OPTIONS, loopringExpectedCanonical,
  LoopringSimulator, mapperLookup, webseaExpectedState, WebseaSimulator, XtClient, xtClientConfigSchema, xtExpectedCanonical, XtSimulator,
  type ReferenceData, type SimLogEntry, type VenueSession,
} from '@orderstream/venues';
import { createCollectorApp, readSpoolDir } from '@orderstream/collector';
import { createNormalizerApp, type NormalizerApp } from '@orderstream/normalizer';
import { createOrderStateApp, type OrderStateApp } from '@orderstream/order-state';
import { findFreePort, startLocalBroker, uniqueName, waitFor, type LocalBroker } from '@orderstream/testing';
import { testBrokers } from '@orderstream/testing/vitest';
import { pickChecked } from './rigs/types.js';
import { waitForStateTopic } from './support/checks.js';
import { ServiceProcess } from './support/processes.js';

const LIFECYCLES = 40; // per venue
const PUSH_INTERVAL_MS = 50;
const OUTAGE_MS = 20_000;
const KILL_WINDOW_MS = 1_000;
const PREFIX = 'outage.';

/** One simulator as this test drives it: its accounts-file entry, its frame log, its play and its truth. */
interface Venue {
  venue: string;
  account: string;
  config: Record<string, unknown>;
  reference: ReferenceData;
  /** ws frames sent, per simulator socket id, in order */
  out: Map<number, SimLogEntry[]>;
  play(): Promise<void>;
  expected(): Map<string, Partial<CanonicalOrder>>;
  trackRequests: { venue: string; account: string; symbol: string; orderId: string }[];
  ready(): Promise<void>;
  stop(): Promise<void>;
}

function frameLog(): { out: Map<number, SimLogEntry[]>; sink: (e: SimLogEntry) => void } {
  const out = new Map<number, SimLogEntry[]>();
  return {
    out,
    sink: (e) => {
      if (e.direction !== 'out' || e.channel !== 'ws' || e.socketId === undefined) return;
      const list = out.get(e.socketId) ?? [];
      list.push(e);
      out.set(e.socketId, list);
    },
  };
}

async function startVenues(): Promise<Venue[]> {
  const xt = await XtSimulator.start({ apiKey: 'o-xt-key', apiSecret: 'o-xt-secret' });
  const websea = await WebseaSimulator.start({ token: 'o-ws-token', secretKey: 'o-ws-secret', binaryFrames: true });
  const loopring = await LoopringSimulator.start({ apiKey: 'o-lr-key', pingIntervalMs: 2_000 });
  const bsx = await BsxSimulator.start({ apiKey: 'o-bsx-key', apiSecret: 'o-bsx-secret' });
  const binance = await BinanceUsdmSimulator.start({ hmacKeys: [{ apiKey: 'o-bn-key', apiSecret: 'o-bn-secret' }] });
  xt.faults.duplicateRate = 0.1;
  xt.faults.reorder = 0.2;
  websea.faults.duplicateRate = 0.2;
  loopring.faults.duplicateRate = 0.1;
  bsx.faults.duplicateRate = 0.1;
  bsx.multiOrderRate = 0.3;
  const logs = [frameLog(), frameLog(), frameLog(), frameLog(), frameLog()] as const;
  xt.setLog(logs[0].sink);
  websea.setLog(logs[1].sink);
  loopring.setLog(logs[2].sink);
  bsx.setLog(logs[3].sink);
  binance.setLog(logs[4].sink);
  const xtRef = xt.referenceData();
  const lrRef = loopring.referenceData();
  const bnScript = binance.randomLifecycles(LIFECYCLES, 55);
  binance.place(bnScript);
  return [
    {
      venue: 'xt', account: 'main', reference: xtRef, out: logs[0].out, trackRequests: [],
      config: { restUrl: xt.restUrl, wsUrl: xt.wsUrl, apiKey: 'o-xt-key', apiSecret: 'o-xt-secret' },
      play: () => xt.play(xt.randomLifecycles(LIFECYCLES, 51), { intervalMs: PUSH_INTERVAL_MS }).then(() => undefined),
      expected: () => new Map([...xt.truth().values()].map((t) => {
        const e = xtExpectedCanonical(t, 'main', xtRef.xt?.[t.symbol]?.contractSize);
        return [e.orderKey, e];
      })),
      ready: () => xt.waitForSubscribers(1, 30_000), stop: () => xt.stop(),
    },
    {
      venue: 'websea', account: 'spot', reference: {}, out: logs[1].out, trackRequests: [],
      config: { wsUrl: websea.wsUrl, token: 'o-ws-token', secretKey: 'o-ws-secret' },
      play: () => websea.play(websea.randomLifecycles(LIFECYCLES, 52), { intervalMs: PUSH_INTERVAL_MS }).then(() => undefined),
      expected: () => new Map([...websea.truth().values()].map((t) => {
        const e = webseaExpectedState(t, 'spot').order;
        return [e.orderKey as string, e];
      })),
      ready: () => websea.waitForSubscribers(1, 30_000), stop: () => websea.stop(),
    },
    {
      venue: 'loopring', account: 'dex', reference: lrRef, out: logs[2].out, trackRequests: [],
      config: { restUrl: loopring.restUrl, wsUrl: loopring.wsUrl, apiKey: 'o-lr-key', markets: loopring.markets },
      play: () => loopring.play(loopring.randomLifecycles(LIFECYCLES, 53), { intervalMs: PUSH_INTERVAL_MS }).then(() => undefined),
      expected: () => new Map([...loopring.truth().values()].map((t) => {
        const e = loopringExpectedCanonical(t, 'dex', lrRef);
        return [e.orderKey, e];
      })),
      ready: () => loopring.waitForSubscribers(1, 30_000), stop: () => loopring.stop(),
    },
    {
      venue: 'bsx', account: 'perps', reference: {}, out: logs[3].out, trackRequests: [],
      config: { wsUrl: bsx.wsUrl, apiKey: 'o-bsx-key', apiSecret: 'o-bsx-secret' },
      play: () => bsx.play(bsx.randomLifecycles(LIFECYCLES, 54), { intervalMs: PUSH_INTERVAL_MS }).then(() => undefined),
      expected: () => new Map([...bsx.truth().values()].map((t) => {
        const e = bsxExpectedCanonical(t, 'perps');
        return [e.orderKey, e];
      })),
      ready: () => bsx.waitForSubscribers(1, 30_000), stop: () => bsx.stop(),
    },
    {
      venue: 'binance-usdm', account: 'futures', reference: {}, out: logs[4].out,
      trackRequests: bnScript.map((l) => ({ venue: 'binance-usdm', account: 'futures', symbol: l.symbol, orderId: l.orderId })),
      config: { wsUrl: binance.wsUrl, apiKey: 'o-bn-key', apiSecret: 'o-bn-secret', pollIntervalMs: 200 },
      play: () => binance.play(bnScript, { intervalMs: PUSH_INTERVAL_MS }).then(() => undefined),
      expected: () => new Map([...binance.truth().values()].map((t) => {
        const e = binanceUsdmExpectedCanonical(t, 'futures');
        return [e.orderKey, e];
      })),
      ready: () => binance.waitForConnections(1, 30_000), stop: () => binance.stop(),
    },
  ];
}

interface RawFrameSeen {
  kind: string;
  connId: string;
  connSeq: number;
  text: string;
}

describe('outage: broker down 20 s, collector SIGKILLed meanwhile', () => {
  let broker: LocalBroker;
  let port: number;
  let controllerPort: number;
  const dir = mkdtempSync(join(tmpdir(), 'orderstream-outage-'));
  const dataDir = join(dir, 'kafka');
  const spoolDir = join(dir, 'spool');
  const collectorLog = join(dir, 'collector.log');
  let kafka: Kafka;
  let topics: TopicNames;
  let venues: Venue[] = [];
  let collector: ServiceProcess;
  let normalizer: NormalizerApp;
  let orderState: OrderStateApp;
  const logger = process.env.OUTAGE_TEST_LOG ? createLogger({ name: 'outage', level: 'info', destination: createWriteStream(process.env.OUTAGE_TEST_LOG) }) : silentLogger();
  const serdes = orderSerdes();

  beforeAll(async () => {
    port = await findFreePort();
    controllerPort = await findFreePort();
    broker = await startLocalBroker({ port, controllerPort, dataDir });
    kafka = createKafka({ brokers: broker.brokers, clientId: 'e2e-outage', logger });
    topics = topicNames(PREFIX);
    await ensurePipelineTopics(kafka, { prefix: PREFIX, rawPartitions: 3, orderPartitions: 3, profile: 'test' });
    venues = await startVenues();
    const reference: ReferenceData = Object.assign({}, ...venues.map((v) => v.reference));
    const accountsFile = join(dir, 'accounts.json');
    writeFileSync(accountsFile, JSON.stringify({ accounts: venues.map((v) => ({ venue: v.venue, account: v.account, config: v.config })) }));
    // A downstream system asks for the polled venue's orders.
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: topics.track,
      messages: venues.flatMap((v) => v.trackRequests).map((q) => ({ key: `${q.venue}|${q.account}|${q.symbol}|${q.orderId}`, value: JSON.stringify(q) })),
    });
    await producer.disconnect();
    normalizer = createNormalizerApp({ kafka, topics, groupId: 'normalizer', lookup: mapperLookup, reference, serde: serdes, logger, progressEveryMs: 0, sessionTimeoutMs: 6_000 });
    orderState = createOrderStateApp({ kafka, topics, groupId: 'order-state', serde: serdes, logger, progressEveryMs: 0, sessionTimeoutMs: 6_000 });
    await Promise.all([normalizer.start(), orderState.start()]);
    collector = new ServiceProcess('collector', {
      KAFKA_BROKERS: broker.brokers.join(','),
      ORDERSTREAM_TOPIC_PREFIX: PREFIX,
      ORDERSTREAM_RAW_PARTITIONS: '3',
      ORDERSTREAM_ORDER_PARTITIONS: '3',
      ORDERSTREAM_BROKER_WAIT_MS: '120000',
      COLLECTOR_ACCOUNTS_FILE: accountsFile,
      COLLECTOR_SPOOL_DIR: spoolDir,
      COLLECTOR_SPOOL_MAX_BYTES: String(64 * 2 ** 20),
      LOG_LEVEL: 'info',
    }, collectorLog);
    collector.start();
    await Promise.all(venues.map((v) => v.ready()));
  }, 120_000);

  afterAll(async () => {
    await collector?.stop();
    await Promise.all([normalizer?.stop(), orderState?.stop()]);
    await Promise.all(venues.map((v) => v.stop()));
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('every frame sent is in orders.raw.v1 in per-account order, and the state equals the truth', async () => {
    const sentCount = () => venues.reduce((n, v) => n + [...v.out.values()].reduce((m, l) => m + l.length, 0), 0);
    const play = Promise.all(venues.map((v) => v.play()));
    // Some frames reach Kafka first; then the broker goes away mid-stream.
    const before = sentCount();
    await waitFor(() => sentCount() >= before + 100, { timeoutMs: 20_000, description: 'the simulators to push 100 frames' });
    await broker.stop();
    const downAt = Date.now();
    await play; // the rest of every lifecycle is pushed while Kafka is away: the collector spools it
    // Every push must have reached the collector before the kill (a push in a dead process's socket buffer would be
    // lost at the venue, and the state could not reach the truth): wait until its spool holds as many data frames per
    // account as the simulator had sent when play ended. Heartbeats and polls go on and may be cut off by the kill.
    const sentAtEnd = new Map(venues.map((v) => [`${v.venue}|${v.account}`, [...v.out.values()].reduce((n, l) => n + l.length, 0)]));
    const spooledData = () => {
      const counts = new Map<string, number>();
      for (const r of readSpoolDir(spoolDir).records) if (String(r.headers['frame-kind']) === 'data') counts.set(r.key, (counts.get(r.key) ?? 0) + 1);
      return counts;
    };
    await waitFor(() => [...sentAtEnd].every(([key, n]) => (spooledData().get(key) ?? 0) >= n), {
      timeoutMs: 10_000, description: 'the collector to have spooled every push the simulators sent',
    });
    expect(Date.now() - downAt, 'the pushes ended within the outage').toBeLessThan(OUTAGE_MS - 5_000);

    const killAt = Date.now();
    await collector.kill();
    collector.start(); // same spool directory; it waits for Kafka, then publishes what the killed one left, first

    await sleep(Math.max(0, downAt + OUTAGE_MS - Date.now())); // the outage lasts 20 s, by definition of the test
    broker = await startLocalBroker({ port, controllerPort, dataDir });

    const expected = new Map<string, Partial<CanonicalOrder>>();
    for (const v of venues) for (const [key, e] of v.expected()) expected.set(key, pickChecked(e));
    expect(expected.size).toBe(LIFECYCLES * venues.length);
    await waitForStateTopic(kafka, topics, expected, 90_000);

    // The restarted collector found the killed one's frames in the spool.
    let recovered = 0;
    await waitFor(() => {
      const m = /"records":(\d+)[^\n]*they go first/.exec(readFileSync(collectorLog, 'utf8'));
      recovered = m ? Number(m[1]) : 0;
      return recovered > 0;
    }, { timeoutMs: 10_000, description: 'the restarted collector to report the records it recovered from the spool' });

    // Stop the collector so that everything it took in is published, then compare with what the simulators sent.
    const stopAt = Date.now();
    await collector.stop();
    const raw = await readTopicToEnd(kafka, topics.raw);
    const byAccount = new Map<string, RawFrameSeen[]>();
    for (const r of raw) {
      const key = String(r.key);
      const list = byAccount.get(key) ?? [];
      list.push({
        kind: headerString(r.headers, 'frame-kind') ?? '',
        connId: headerString(r.headers, 'conn-id') ?? '',
        connSeq: Number(headerString(r.headers, 'conn-seq')),
        text: (r.value as Buffer).toString('utf8'),
      });
      byAccount.set(key, list);
    }

    const report: string[] = [];
    for (const v of venues) {
      const records = byAccount.get(`${v.venue}|${v.account}`) ?? [];
      // Duplicates (a batch re-sent after the kill) are allowed: keep each (conn-id, conn-seq) once, first copy.
      const seen = new Set<string>();
      const unique = records.filter((r) => {
        const id = `${r.connId}#${r.connSeq}`;
        if (seen.has(id)) return false;
        seen.add(id);
        return true;
      });
      const duplicates = records.length - unique.length;
      // Order within the account: every connection's records in conn-seq order 1, 2, 3… with no gap.
      const conns = new Map<string, RawFrameSeen[]>();
      for (const r of unique) conns.set(r.connId, [...(conns.get(r.connId) ?? []), r]);
      for (const [connId, list] of conns) {
        expect(list.map((r) => r.connSeq), `${v.venue} connection ${connId}: conn-seq in order, none missing`).toEqual(list.map((_, i) => i + 1));
      }
      // No loss: socket by socket (in the order the simulator accepted them), the data frames of the collector's
      // connections (in the order they first appear) are exactly what the simulator sent.
      const dataConns = [...conns.values()].map((list) => list.filter((r) => r.kind === 'data').map((r) => r.text)).filter((l) => l.length > 0);
      const sockets = [...v.out.entries()].sort(([a], [b]) => a - b).map(([, list]) => list);
      expect(dataConns.length, `${v.venue}: one collector connection per simulator socket`).toBe(sockets.length);
      let cutAtKill = 0;
      sockets.forEach((sent, i) => {
        const got = dataConns[i] as string[];
        expect(got, `${v.venue} socket ${i + 1}: nothing the simulator did not send`).toEqual(sent.slice(0, got.length).map((e) => e.text));
        const missing = sent.slice(got.length);
        // Only the tail a kill or the final stop cut off, sent in the last moment before it.
        const late = missing.filter((e) => !(e.at >= killAt - KILL_WINDOW_MS && e.at <= killAt + KILL_WINDOW_MS) && !(e.at >= stopAt - KILL_WINDOW_MS));
        expect(late.map((e) => e.text), `${v.venue} socket ${i + 1}: frames sent but not in orders.raw.v1`).toEqual([]);
        cutAtKill += missing.length;
      });
      report.push(`${v.venue}: ${sockets.reduce((n, s) => n + s.length, 0)} frames on ${sockets.length} sockets, ${duplicates} duplicates, ${cutAtKill} cut off in flight`);
    }
    console.info(`outage test: broker down ${OUTAGE_MS / 1000} s, collector killed ${killAt - downAt} ms into it; ${recovered} records recovered from the spool; ${expected.size} orders equal the truth; ${report.join('; ')}`);
  }, 240_000);
});

/**
 * The bound (issue 10): a spool of 16 KiB while orders.raw.v1 cannot be written (the topic does not exist yet, on the
 * shared broker). The collector must stop reading the venue socket and say so (stats, `paused` session event), drop
 * nothing, and once the topic exists publish everything in order and read again (`resumed`).
 */
describe('outage spool full: the venue socket is paused, nothing is dropped', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orderstream-spool-full-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('pauses at the bound, resumes when drained, and every frame arrives in order', async () => {
    const logger = silentLogger();
    const kafka = createKafka({ brokers: testBrokers(), clientId: 'e2e-spool-full', logger });
    const prefix = `${uniqueName('e2e-spool-full')}.`;
    await ensurePipelineTopics(kafka, { prefix, rawPartitions: 1, orderPartitions: 1, profile: 'test' });
    const topics: TopicNames = { ...topicNames(prefix), raw: `${prefix}raw-created-late` };
    const sim = await XtSimulator.start({ apiKey: 'f-xt-key', apiSecret: 'f-xt-secret' });
    const log = frameLog();
    sim.setLog(log.sink);
    const client = new XtClient(xtClientConfigSchema.parse({ restUrl: sim.restUrl, wsUrl: sim.wsUrl, apiKey: 'f-xt-key', apiSecret: 'f-xt-secret' }), { logger });
    const maxBytes = 16 * 1024;
    const collector = createCollectorApp({
      kafka, topics, accounts: [{ account: 'main', client, reconcile: { ...DEFAULT_RECONCILE_OPTIONS, enabled: false } }],
      decodeState: orderSerdes().decodeState, logger, progressEveryMs: 0, spool: { dir, maxBytes },
    });
    try {
      await collector.start();
      await sim.waitForSubscribers(1, 20_000);
      const play = sim.play(sim.randomLifecycles(60, 61), { intervalMs: 2 });
      const session = collector.sessions()[0] as VenueSession;
      await waitFor(() => session.paused && collector.stats().spool?.full === true, { timeoutMs: 20_000, description: 'the spool to fill and the session to pause' });
      const atPause = collector.stats();
      expect(atPause.spool?.fullCount).toBe(1);
      await play; // the simulator wrote everything into the socket; the collector is not reading it
      const sent = () => [...log.out.values()].flat().map((e) => e.text);
      expect(atPause.frames, 'frames read before the pause').toBeLessThan(sent().length);
      expect(collector.stats().frames, 'frames read while paused').toBeLessThan(sent().length);
      // Bounded: past the bound only what ws had already read from the socket (one read, ≤ 64 KiB) and the event.
      expect(atPause.spool?.unpublishedBytes).toBeLessThan(maxBytes + 80 * 1024);

      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: topics.raw, numPartitions: 1 }], waitForLeaders: true });
      await admin.disconnect();
      await waitFor(() => !session.paused && collector.stats().frames === sent().length && collector.stats().pending === 0, {
        timeoutMs: 90_000, description: 'the spool to drain, the session to resume and every frame to be published',
      });

      const records = await readTopicToEnd(kafka, topics.raw);
      const data = records.filter((r) => headerString(r.headers, 'frame-kind') === 'data').map((r) => (r.value as Buffer).toString('utf8'));
      expect(data).toEqual(sent());
      const events = records.filter((r) => headerString(r.headers, 'frame-kind') === 'session').map((r) => JSON.parse((r.value as Buffer).toString('utf8')) as { event: string; reason?: string });
      // The backlog is larger than the bound: it may fill again after each resume (at half). Always in pairs.
      const flow = events.filter((e) => e.event === 'paused' || e.event === 'resumed');
      expect(flow.length).toBeGreaterThanOrEqual(2);
      expect(flow.map((e) => e.event)).toEqual(flow.map((_, i) => (i % 2 === 0 ? 'paused' : 'resumed')));
      for (const e of flow.filter((x) => x.event === 'paused')) expect(e.reason).toMatch(/spool full/);
      expect(collector.stats().spool).toMatchObject({ full: false, fullCount: flow.length / 2 });
      console.info(`spool full: paused after ${atPause.frames} of ${sent().length} frames with ${atPause.spool?.unpublishedBytes} bytes unpublished (bound ${maxBytes}); ${flow.length / 2} pause/resume cycles while draining; all ${data.length} published in order`);
    } finally {
      await collector.stop();
      await sim.stop();
    }
  }, 150_000);
});
