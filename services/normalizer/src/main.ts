import { createLogger, onShutdown } from '@orderstream/kit';
import { createKafka, ensurePipelineTopics, orderSerdes, topicLayoutFromEnv, topicNames } from '@orderstream/kafka';
import { loadReferenceData, mapperLookup } from '@orderstream/venues';
import { createNormalizerApp } from './app.js';
import { loadNormalizerConfig } from './config.js';

const config = loadNormalizerConfig();
const logger = createLogger({ name: 'normalizer', level: config.LOG_LEVEL });
const reference = loadReferenceData(config.REFERENCE_DATA_FILE);
const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'orderstream-normalizer', logger });
await ensurePipelineTopics(kafka, topicLayoutFromEnv(config), logger);
const serdes = orderSerdes();
const app = createNormalizerApp({
  kafka,
  topics: topicNames(config.ORDERSTREAM_TOPIC_PREFIX),
  groupId: config.NORMALIZER_GROUP_ID,
  lookup: mapperLookup,
  reference,
  serde: serdes,
  logger,
  sessionTimeoutMs: config.ORDERSTREAM_SESSION_TIMEOUT_MS,
  // Never sit idle with a dead consumer: exit, and let the supervisor (compose, systemd, k8s) restart us.
  onFatal: () => process.exit(70),
});
onShutdown(() => app.stop(), logger);
await app.start();
