import { createWriteStream, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AppError, brokerList, createLogger, createOpsServer, errorMessage, parseConfig, sleep, type Logger } from '@orderstream/kit';
import { connectSchemaRegistry, createKafka, createSchemaRegistryClient, ensurePipelineTopics, tailTopic, topicNames } from '@orderstream/kafka';
import { isTerminal, ORDER_STATUSES, type OrderState, type OrderStatus } from '@orderstream/schemas';
import { mapperLookup, type ReferenceData } from '@orderstream/venues';
import { startDemoVenues } from './demo-venues.js';
import { createCollectorApp, createCollectorMetrics, type CollectorApp } from '@orderstream/collector';
import { createNormalizerApp, createNormalizerMetrics, type NormalizerApp } from '@orderstream/normalizer';
import { createOrderStateApp, createOrderStateMetrics, createQueryServer, tallyOrders } from '@orderstream/order-state';
import { defaultForegroundDataDir, repoRoot, startLocalBroker, startSchemaRegistry } from '@orderstream/testing';
import { z } from 'zod';


export interface DemoOptions {
  /** broker client port; default 9092 */
  port?: number | undefined;
  /** query API and web blotter; default 8080 (a free port when taken); collector and normalizer metrics on the next two */
  httpPort?: number | undefined;
  /** delete the local broker's data first (every topic, every order of earlier runs) */
  fresh?: boolean | undefined;
}

/** Starts an HTTP server on `port`, or on any free port when that one is taken; says which. */
async function listenPreferring<T extends { url: string }>(port: number, start: (port: number) => Promise<T>, logger: Logger): Promise<T> {
  try {
    return await start(port);
  } catch (error) {
    if (!(error instanceof AppError && error.code === 'HTTP_LISTEN_FAILED') || port === 0) throw error;
    logger.warn({ port, err: errorMessage(error) }, 'port taken: using a free one');
    return start(0);
  }
}

/**
 * `npm start`: a local broker (unless KAFKA_BROKERS is set), the pipeline's topics, the venue simulators
 * playing a steady stream of order lifecycles, the collector, the normalizer and order-state, and a live view
 * of orders.state.v1 (what any downstream consumer reads). Ctrl-C stops everything, broker included.
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  const env = parseConfig(z.object({ KAFKA_BROKERS: brokerList().optional() }), process.env);
  const dir = join(repoRoot(), '.local', 'demo');
  mkdirSync(dir, { recursive: true });
  const logFile = join(dir, 'services.log');
  const logger = createLogger({ name: 'demo', level: 'info', destination: createWriteStream(logFile, { flags: 'a' }) });
  const say = (line: string) => process.stdout.write(`${line}\n`);

  // Stopped in reverse order of start: collector first (its buffered frames drain), the broker last.
  const stops: { name: string; stop: () => Promise<void> }[] = [];
  const stopAll = async () => {
    for (const { name, stop } of stops.reverse()) {
      const outcome = await Promise.race([
        stop().then(() => 'stopped', (error: unknown) => `failed: ${errorMessage(error)}`),
        sleep(15_000).then(() => 'did not stop within 15 s'),
      ]);
      if (outcome !== 'stopped') say(`  ${name}: ${outcome}`);
    }
  };
  let interrupted = false;
  const interrupt = new Promise<void>((resolve) => {
    const onSignal = () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });

  try {
    // The registry's JVM starts while the broker's does (both take seconds).
    const registryStarting = startSchemaRegistry({ logger });
    registryStarting.catch(() => undefined);
    let brokers: string[];
    // Earlier runs' orders are kept in the local broker's data (topics, committed offsets): say so, and how to drop them.
    let reusing: string | undefined;
    if (env.KAFKA_BROKERS) {
      brokers = env.KAFKA_BROKERS;
      say(`Using the Kafka broker at ${brokers.join(',')} (KAFKA_BROKERS).`);
      if (options.fresh) say('  --fresh only empties the local broker: the topics on this broker are left as they are.');
    } else {
      const dataDir = defaultForegroundDataDir();
      const hasData = existsSync(dataDir) && readdirSync(dataDir).length > 0;
      if (options.fresh && hasData) {
        rmSync(dataDir, { recursive: true, force: true });
        say(`--fresh: deleted the data of earlier runs (${dataDir}).`);
      } else if (hasData) reusing = dataDir;
      say('Starting a local Kafka broker (Apache Kafka 3.9.2 on this machine\'s JVM)…');
      const broker = await startLocalBroker({ port: options.port ?? 9092, dataDir: defaultForegroundDataDir(), logger });
      stops.push({ name: 'broker', stop: () => broker.stop() });
      brokers = broker.brokers;
      say(`  ready on ${brokers.join(',')} in ${broker.startupMs} ms; data in ${broker.dataDir}`);
    }

    // Registry mode, as most Kafka shops read Avro: ORDERSTREAM_SCHEMA_REGISTRY_URL, else a local Apicurio Registry.
    say('Waiting for the schema registry (Apicurio Registry, in memory; ORDERSTREAM_SCHEMA_REGISTRY_URL to use yours)…');
    const registry = await registryStarting;
    stops.push({ name: 'schema registry', stop: () => registry.stop() });
    say(`  ready: ORDERSTREAM_SCHEMA_REGISTRY_URL=${registry.url}`);

    const kafka = createKafka({ brokers, clientId: 'orderstream-demo', logger });
    const topics = topicNames('');
    await ensurePipelineTopics(kafka, {}, logger);

    const venues = await startDemoVenues(logger);
    for (const v of venues) stops.push({ name: `${v.venue} simulator`, stop: () => v.stop() });
    // Our schemas are registered in a fixed order, so a fresh in-memory registry gives them the same ids as last time.
    const serdes = await connectSchemaRegistry({ client: createSchemaRegistryClient({ url: registry.url }), topics, logger });
    const reference: ReferenceData = Object.assign({}, ...venues.map((v) => v.reference));
    const collector = createCollectorApp({
      kafka, topics, accounts: venues.map((v) => ({ account: v.account, client: v.client })), decodeState: serdes.decodeState, logger: logger.child({ service: 'collector' }),
      onFrame: (venue, account, frame) => collectorMetrics.onFrame(venue, account, frame),
    });
    const normalizer = createNormalizerApp({
      kafka, topics, groupId: 'orderstream-demo-normalizer', lookup: mapperLookup, reference,
      serde: serdes, logger: logger.child({ service: 'normalizer' }),
      observeFrame: (outcome, seconds, code, age) => normalizerMetrics.observeFrame(outcome, seconds, code, age),
    });
    const orderState = createOrderStateApp({
      kafka, topics, groupId: 'orderstream-demo-order-state', serde: serdes, logger: logger.child({ service: 'order-state' }),
      onCommitted: (receivedAt) => stateMetrics.observeCommitted(receivedAt),
    });
    const stateMetrics = createOrderStateMetrics({
      stats: orderState.stats, ready: orderState.isReady,
      ordersByStatus: () => tallyOrders(orderState.store.values()).byStatus, ordersByVenue: () => tallyOrders(orderState.store.values()).byVenue,
    });
    // The query API and the web blotter answer (not ready) while order-state restores earlier runs' orders.
    const httpPort = options.httpPort ?? 8080;
    const api = await listenPreferring(httpPort, async (port) => {
      const server = createQueryServer(
        { store: orderState.store, isReady: orderState.isReady, isHealthy: orderState.isHealthy, metrics: stateMetrics.render, logger, onRequest: stateMetrics.observeRequest },
        { port },
      );
      const { url } = await server.start();
      stops.push({ name: 'query API and blotter', stop: () => server.stop() });
      return { url };
    }, logger);
    const collectorMetrics = createCollectorMetrics(venues.map((v) => ({ venue: v.venue, account: v.account })), {
      stats: () => (collectorRef.app as CollectorApp).stats(), sessions: () => (collectorRef.app as CollectorApp).sessions(),
    });
    const normalizerMetrics = createNormalizerMetrics({ stats: () => (normalizerRef.app as NormalizerApp).stats(), ready: () => normalizerRef.running });
    const collectorRef: { app?: CollectorApp } = { app: collector };
    const normalizerRef: { app?: NormalizerApp; running: boolean } = { app: normalizer, running: false };
    const ops = async (name: string, port: number, deps: { isReady(): boolean; metrics(): string }) =>
      listenPreferring(port, async (p) => {
        const server = createOpsServer({ isHealthy: () => true, ...deps, logger }, { port: p, configHint: '--http-port' });
        const { url } = await server.start();
        stops.push({ name: `${name} metrics`, stop: () => server.stop() });
        return { url };
      }, logger);
    const collectorOps = await ops('collector', httpPort === 0 ? 0 : httpPort + 1, { isReady: collectorMetrics.ready, metrics: collectorMetrics.render });
    const normalizerOps = await ops('normalizer', httpPort === 0 ? 0 : httpPort + 2, { isReady: () => normalizerRef.running, metrics: normalizerMetrics.render });
    // Each stop is registered before its start, so a failed start still stops what did start.
    stops.push({ name: 'order-state', stop: () => orderState.stop() }, { name: 'normalizer', stop: () => normalizer.stop() });
    await Promise.all([normalizer.start(), orderState.start()]);
    normalizerRef.running = true;
    stops.push({ name: 'collector', stop: () => collector.stop() });
    await collector.start();
    collectorMetrics.setStarted(true);

    // The live view reads the state topic like any downstream consumer would.
    const latest = new Map<string, OrderState>();
    const changed: string[] = [];
    const tail = await tailTopic(kafka, topics.state, {
      prepare: (records) => serdes.prefetch(records.map((r) => r.value)), // schema ids not seen yet
      onRecords: (records) => {
        for (const r of records) {
          const key = r.key?.toString() ?? '';
          if (r.value === null) latest.delete(key);
          else latest.set(key, serdes.decodeState(r.value));
          changed.push(key);
        }
        if (changed.length > 1000) changed.splice(0, changed.length - 1000);
      },
    });
    stops.push({ name: 'live view', stop: () => tail.stop() });

    say(`Pipeline running. Topics: ${Object.values(topics).join(', ')} on ${brokers.join(',')}.`);
    say(`Service logs: ${logFile}`);
    if (reusing) {
      say(`Reusing the data of earlier runs (broker data in ${reusing}): their orders are restored from orders.state.v1 and shown too.`);
      say('  To start from nothing: npm start -- --fresh');
    }
    const info = [
      `Blotter (live orders in a browser): ${api.url}/`,
      `Query API: ${api.url}/orders?status=live · metrics: ${api.url}/metrics (order-state), ${collectorOps.url}/metrics (collector), ${normalizerOps.url}/metrics (normalizer)`,
      `Try in another terminal (export KAFKA_BROKERS=${brokers.join(',')} ORDERSTREAM_SCHEMA_REGISTRY_URL=${registry.url}):`,
      `  npx orderstream orders --status live --api ${api.url}      npx orderstream get '<order key>' --api ${api.url}`,
      '  npx orderstream tail state --from-beginning               npx orderstream dlq list',
    ];
    for (const line of info) say(line);
    say('Press Ctrl-C to stop everything.\n');

    await Promise.all(venues.map((v) => v.ready()));
    say(`Venues: ${venues.map((v) => `${v.venue}|${v.account}`).join(', ')} (simulated, signatures checked).`);
    // Each venue plays rounds of a few lifecycles, paced, so orders are seen moving through their states.
    // Now and then a venue sends a frame nobody can read (XT, every 5th round): it becomes a dead letter, the
    // pipeline goes on, and `orderstream dlq list` shows it with its reason.
    const feed = Promise.all(
      venues.map(async (v) => {
        for (let round = 0; !interrupted; round++) {
          await v.round(3, round);
          if (v.malformed && round % 5 === 4) {
            try {
              logger.info({ venue: v.venue, kind: v.malformed(round) }, 'demo: malformed frame sent');
            } catch (error) {
              logger.debug({ err: errorMessage(error) }, 'demo: no subscriber for a malformed frame');
            }
          }
          await sleep(200);
        }
      }),
    );
    const tty = process.stdout.isTTY === true;
    const render = () => {
      const n = normalizer.stats();
      const lines = view(latest, changed, { collector: collector.stats(), normalizer: n, orderState: orderState.stats() });
      const dlq = `Dead letters: ${n.deadLetters} (the XT simulator sends a malformed frame every few rounds); see them: npx orderstream dlq list`;
      if (tty) process.stdout.write(`\u001b[2J\u001b[H${[...info, dlq, '', ...lines].join('\n')}\n\nCtrl-C to stop. Logs: ${logFile}\n`);
      else say(`${lines[1] ?? ''} | blotter ${api.url}/`);
    };
    const timer = setInterval(render, tty ? 1_000 : 5_000);
    await interrupt;
    clearInterval(timer);
    say('\nStopping…');
    await stopAll();
    await feed.catch(() => undefined); // ends at its next round; its pushes find no subscriber now
    say('Stopped: services, simulators and broker are down.');
    return 0;
  } catch (error) {
    say(`demo failed: ${errorMessage(error)}`);
    if (error instanceof AppError && error.code === 'AVRO_UNKNOWN_FINGERPRINT' && !env.KAFKA_BROKERS) {
      say(`  The demo's topics in ${defaultForegroundDataDir()} hold records of an older, unreleased schema version.`);
      say(`  Delete that directory (rm -rf ${defaultForegroundDataDir()}) and run npm start again.`);
    }
    await stopAll();
    return 1;
  }
}

interface Stats {
  collector: { frames: number; published: number; pending: number };
  normalizer: { orders: number; skipped: number; deadLetters: number };
  orderState: { changes: number; unchanged: number; orders: number };
}

function view(latest: Map<string, OrderState>, changed: string[], stats: Stats): string[] {
  const counts = new Map<OrderStatus, number>(ORDER_STATUSES.map((s) => [s, 0]));
  let live = 0;
  for (const s of latest.values()) {
    counts.set(s.order.status, (counts.get(s.order.status) ?? 0) + 1);
    if (!isTerminal(s.order.status)) live++;
  }
  const lines = [
    'orderstream demo: orders.state.v1, latest state per order (newest changes first)',
    `orders ${latest.size} (live ${live}) | ${[...counts].filter(([, n]) => n > 0).map(([s, n]) => `${s} ${n}`).join(' · ')} | ` +
      `raw frames ${stats.collector.published} · canonical ${stats.normalizer.orders} · skipped ${stats.normalizer.skipped} · dlq ${stats.normalizer.deadLetters} · state changes ${stats.orderState.changes}`,
    '',
    pad(['order key', 'symbol', 'side', 'status', 'filled / qty', 'avg price', 'updates']),
  ];
  const seen = new Set<string>();
  for (let i = changed.length - 1; i >= 0 && seen.size < 15; i--) {
    const key = changed[i] as string;
    if (seen.has(key)) continue;
    seen.add(key);
    const s = latest.get(key);
    if (!s) continue;
    const o = s.order;
    lines.push(pad([key, o.symbol ?? o.venueSymbol, o.side, o.status, `${o.filledQuantity ?? o.venueFilledQuantity ?? '?'} / ${o.quantity ?? o.venueQuantity ?? (o.quoteQuantity ? `${o.quoteQuantity} quote` : '?')}`, o.averagePrice ?? '-', String(s.updateCount)]));
  }
  return lines;
}

const WIDTHS = [48, 20, 5, 17, 26, 18, 7];
function pad(cells: string[]): string {
  return cells.map((c, i) => c.padEnd(WIDTHS[i] ?? 10).slice(0, WIDTHS[i] ?? 10)).join(' ');
}
