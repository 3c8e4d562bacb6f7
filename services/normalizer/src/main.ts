import { createLogger, createOpsServer, onShutdown, runMain } from '@orderstream/kit';
import { createKafka, ensurePipelineTopics, orderSerdesFromConfig, pollConsumerLag, topicLayoutFromEnv, topicNames, waitForBrokers } from '@orderstream/kafka';
import { mapperLookup } from '@orderstream/venues';
import { createNormalizerApp, type NormalizerApp } from './app.js';
import { createNormalizerMetrics } from './metrics.js';
import { loadNormalizerConfig } from './config.js';

// Exit codes: README "Configuration" → "Exit codes" (2 config, 69 Kafka unreachable at start, 70 consumer died,
// 72 schema registry unreachable at start, 73 schema refused by it).
runMain('normalizer', async () => {
  const config = loadNormalizerConfig();
  const logger = createLogger({ name: 'normalizer', level: config.LOG_LEVEL });
  await waitForBrokers({ brokers: config.KAFKA_BROKERS, clientId: 'orderstream-normalizer', logger, timeoutMs: config.ORDERSTREAM_BROKER_WAIT_MS });
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'orderstream-normalizer', logger });
  await ensurePipelineTopics(kafka, topicLayoutFromEnv(config), logger);
  // registry mode when ORDERSTREAM_SCHEMA_REGISTRY_URL is set (exit 72 unreachable, 73 schema refused)
  const serdes = await orderSerdesFromConfig(config, { topics: topicNames(config.ORDERSTREAM_TOPIC_PREFIX), logger });
  const ref: { app?: NormalizerApp; running: boolean } = { running: false };
  const lag = pollConsumerLag(kafka, config.NORMALIZER_GROUP_ID, topicNames(config.ORDERSTREAM_TOPIC_PREFIX).raw);
  const metrics = createNormalizerMetrics({ stats: () => (ref.app as NormalizerApp).stats(), ready: () => ref.running, lagByPartition: lag.current });
  const app = createNormalizerApp({
    kafka,
    topics: topicNames(config.ORDERSTREAM_TOPIC_PREFIX),
    observeFrame: metrics.observeFrame,
    groupId: config.NORMALIZER_GROUP_ID,
    lookup: mapperLookup,
    reference: config.reference,
    serde: serdes,
    logger,
    sessionTimeoutMs: config.ORDERSTREAM_SESSION_TIMEOUT_MS,
    // Never sit idle with a dead consumer: exit, and let the supervisor (compose, systemd, k8s) restart us.
    onFatal: () => process.exit(70),
  });
  ref.app = app;
  const ops = createOpsServer(
    { isHealthy: () => true, isReady: () => ref.running, metrics: metrics.render, logger },
    { host: config.NORMALIZER_HTTP_HOST, port: config.NORMALIZER_HTTP_PORT, configHint: 'NORMALIZER_HTTP_HOST / NORMALIZER_HTTP_PORT' },
  );
  await ops.start(); // logs its URL
  onShutdown(async () => {
    ref.running = false;
    lag.stop();
    await app.stop();
    await ops.stop();
  }, logger);
  await app.start();
  ref.running = true;
});
