import { createLogger, onShutdown } from '@orderstream/kit';
import { createKafka, ensurePipelineTopics, orderSerdes, topicLayoutFromEnv, topicNames } from '@orderstream/kafka';
import { createOrderStateApp } from './app.js';
import { loadOrderStateConfig } from './config.js';

const config = loadOrderStateConfig();
const logger = createLogger({ name: 'order-state', level: config.LOG_LEVEL });
const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'orderstream-order-state', logger });
await ensurePipelineTopics(kafka, topicLayoutFromEnv(config), logger);
const app = createOrderStateApp({
  kafka,
  topics: topicNames(config.ORDERSTREAM_TOPIC_PREFIX),
  groupId: config.ORDER_STATE_GROUP_ID,
  serde: orderSerdes(),
  logger,
  sessionTimeoutMs: config.ORDERSTREAM_SESSION_TIMEOUT_MS,
});
onShutdown(() => app.stop(), logger);
await app.start();
