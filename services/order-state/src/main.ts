import { createLogger, onShutdown, runMain } from '@orderstream/kit';
import { createKafka, ensurePipelineTopics, orderSerdesFromConfig, pollConsumerLag, topicLayoutFromEnv, topicNames, waitForBrokers } from '@orderstream/kafka';
import { createOrderStateApp } from './app.js';
import { createQueryServer } from './http.js';
import { createOrderStateMetrics, tallyOrders } from './metrics.js';
import { loadOrderStateConfig } from './config.js';

// Exit codes: README "Configuration" → "Exit codes" (2 config, 69 Kafka unreachable at start, 70 consumer died,
// 71 query API cannot listen, 72 schema registry unreachable at start, 73 schema refused by it).
runMain('order-state', async () => {
  const config = loadOrderStateConfig();
  const logger = createLogger({ name: 'order-state', level: config.LOG_LEVEL });
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'orderstream-order-state', logger });
  // registry mode when ORDERSTREAM_SCHEMA_REGISTRY_URL is set (exit 72 unreachable, 73 schema refused)
  const serde = await orderSerdesFromConfig(config, { topics: topicNames(config.ORDERSTREAM_TOPIC_PREFIX), logger });
  const app = createOrderStateApp({
    kafka,
    topics: topicNames(config.ORDERSTREAM_TOPIC_PREFIX),
    groupId: config.ORDER_STATE_GROUP_ID,
    serde,
    logger,
    sessionTimeoutMs: config.ORDERSTREAM_SESSION_TIMEOUT_MS,
    terminalRetentionMs: config.ORDER_STATE_TERMINAL_RETENTION_MS,
    // Never sit idle with a dead consumer: exit, and let the supervisor (compose, systemd, k8s) restart us.
    onFatal: () => process.exit(70),
    // end-to-end latency (received-at → state committed); `metrics` exists before the consumer starts
    onCommitted: (receivedAt) => metrics.observeCommitted(receivedAt),
  });
  const lag: { poll?: ReturnType<typeof pollConsumerLag> } = {};
  const metrics = createOrderStateMetrics({
    lagByPartition: () => lag.poll?.current() ?? {},
    stats: app.stats,
    ordersByStatus: () => tallyOrders(app.store.values()).byStatus,
    ordersByVenue: () => tallyOrders(app.store.values()).byVenue,
    ready: app.isReady,
  });
  const http = createQueryServer(
    { store: app.store, isReady: app.isReady, isHealthy: app.isHealthy, metrics: metrics.render, logger, onRequest: metrics.observeRequest },
    { host: config.ORDER_STATE_HTTP_HOST, port: config.ORDER_STATE_HTTP_PORT },
  );
  // The port is taken before Kafka is touched: a port in use fails at once (exit 71), not after topic setup. The API
  // answers /healthz and /readyz (not ready) while the broker is awaited and the store is restored.
  await http.start(); // logs its URL
  onShutdown(async () => {
    lag.poll?.stop();
    await app.stop();
    await http.stop();
  }, logger);
  await waitForBrokers({ brokers: config.KAFKA_BROKERS, clientId: 'orderstream-order-state', logger, timeoutMs: config.ORDERSTREAM_BROKER_WAIT_MS });
  await ensurePipelineTopics(kafka, topicLayoutFromEnv(config), logger);
  lag.poll = pollConsumerLag(kafka, config.ORDER_STATE_GROUP_ID, topicNames(config.ORDERSTREAM_TOPIC_PREFIX).canonical);
  await app.start();
});
