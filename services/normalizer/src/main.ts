import { createLogger, onShutdown, runMain } from '@orderstream/kit';
import { createKafka, ensurePipelineTopics, orderSerdesFromConfig, topicLayoutFromEnv, topicNames, waitForBrokers } from '@orderstream/kafka';
import { mapperLookup } from '@orderstream/venues';
import { createNormalizerApp } from './app.js';
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
  const app = createNormalizerApp({
    kafka,
    topics: topicNames(config.ORDERSTREAM_TOPIC_PREFIX),
    groupId: config.NORMALIZER_GROUP_ID,
    lookup: mapperLookup,
    reference: config.reference,
    serde: serdes,
    logger,
    sessionTimeoutMs: config.ORDERSTREAM_SESSION_TIMEOUT_MS,
    // Never sit idle with a dead consumer: exit, and let the supervisor (compose, systemd, k8s) restart us.
    onFatal: () => process.exit(70),
  });
  onShutdown(() => app.stop(), logger);
  await app.start();
});
