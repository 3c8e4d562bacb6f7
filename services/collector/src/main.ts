import { createLogger, createOpsServer, onShutdown, runMain } from '@orderstream/kit';
import { createKafka, ensurePipelineTopics, orderSerdesFromConfig, topicLayoutFromEnv, topicNames, waitForBrokers } from '@orderstream/kafka';
import { createCollectorApp, type CollectorApp } from './app.js';
import { createCollectorMetrics } from './metrics.js';
import { createAccounts, loadCollectorConfig } from './config.js';

// Exit codes: README "Configuration" → "Exit codes" (2 config, 69 Kafka unreachable at start).
runMain('collector', async () => {
  const config = loadCollectorConfig();
  const logger = createLogger({ name: 'collector', level: config.LOG_LEVEL });
  await waitForBrokers({ brokers: config.KAFKA_BROKERS, clientId: 'orderstream-collector', logger, timeoutMs: config.ORDERSTREAM_BROKER_WAIT_MS });
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'orderstream-collector', logger });
  await ensurePipelineTopics(kafka, topicLayoutFromEnv(config), logger);
  const accounts = createAccounts(config.accounts, logger);
  // The metrics read the app at each scrape; the ops server starts once both exist.
  const ref: { app?: CollectorApp } = {};
  const metrics = createCollectorMetrics(
    accounts.map((a) => ({ venue: a.client.venue, account: a.account })),
    { stats: () => (ref.app as CollectorApp).stats(), sessions: () => (ref.app as CollectorApp).sessions() },
  );
  const app = createCollectorApp({
    kafka,
    topics: topicNames(config.ORDERSTREAM_TOPIC_PREFIX),
    accounts,
    onFrame: metrics.onFrame,
    // reads orders.state.v1 in either encoding (registry: ORDERSTREAM_SCHEMA_REGISTRY_URL, read only)
    decodeState: (await orderSerdesFromConfig(config, { topics: topicNames(config.ORDERSTREAM_TOPIC_PREFIX), logger, role: 'reader' })).decodeState,
    logger,
    spool: { dir: config.COLLECTOR_SPOOL_DIR, maxBytes: config.COLLECTOR_SPOOL_MAX_BYTES, fsyncIntervalMs: config.COLLECTOR_SPOOL_FSYNC_MS },
  });
  const ops = createOpsServer(
    { isHealthy: () => true, isReady: metrics.ready, metrics: metrics.render, logger },
    { host: config.COLLECTOR_HTTP_HOST, port: config.COLLECTOR_HTTP_PORT, configHint: 'COLLECTOR_HTTP_HOST / COLLECTOR_HTTP_PORT' },
  );
  ref.app = app;
  await ops.start(); // logs its URL
  onShutdown(async () => {
    metrics.setStarted(false);
    await app.stop();
    await ops.stop();
  }, logger);
  await app.start();
  metrics.setStarted(true);
});
