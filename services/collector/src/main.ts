import { createLogger, onShutdown, runMain } from '@orderstream/kit';
import { createKafka, ensurePipelineTopics, orderSerdesFromConfig, topicLayoutFromEnv, topicNames, waitForBrokers } from '@orderstream/kafka';
import { createCollectorApp } from './app.js';
import { createAccounts, loadCollectorConfig } from './config.js';

// Exit codes: README "Configuration" → "Exit codes" (2 config, 69 Kafka unreachable at start).
runMain('collector', async () => {
  const config = loadCollectorConfig();
  const logger = createLogger({ name: 'collector', level: config.LOG_LEVEL });
  await waitForBrokers({ brokers: config.KAFKA_BROKERS, clientId: 'orderstream-collector', logger, timeoutMs: config.ORDERSTREAM_BROKER_WAIT_MS });
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'orderstream-collector', logger });
  await ensurePipelineTopics(kafka, topicLayoutFromEnv(config), logger);
  const app = createCollectorApp({
    kafka,
    topics: topicNames(config.ORDERSTREAM_TOPIC_PREFIX),
    accounts: createAccounts(config.accounts, logger),
    // reads orders.state.v1 in either encoding (registry: ORDERSTREAM_SCHEMA_REGISTRY_URL, read only)
    decodeState: (await orderSerdesFromConfig(config, { topics: topicNames(config.ORDERSTREAM_TOPIC_PREFIX), logger, role: 'reader' })).decodeState,
    logger,
    spool: { dir: config.COLLECTOR_SPOOL_DIR, maxBytes: config.COLLECTOR_SPOOL_MAX_BYTES, fsyncIntervalMs: config.COLLECTOR_SPOOL_FSYNC_MS },
  });
  onShutdown(() => app.stop(), logger);
  await app.start();
});
