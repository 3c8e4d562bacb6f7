import { createLogger, envWithoutEmpty, parseConfig } from '@orderstream/kit';
import { createKafka, ensurePipelineTopics, kafkaEnvSchema, topicLayoutFromEnv, waitForBrokers } from '@orderstream/kafka';

/** Creates missing topics; prints what it created and any existing topic that differs from its spec. */
export async function ensureTopicsCommand(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const config = parseConfig(kafkaEnvSchema, envWithoutEmpty(env));
  const logger = createLogger({ name: 'ensure-topics', level: config.LOG_LEVEL });
  await waitForBrokers({ brokers: config.KAFKA_BROKERS, clientId: 'orderstream-ensure-topics', logger, timeoutMs: config.ORDERSTREAM_BROKER_WAIT_MS });
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'orderstream-ensure-topics', logger });
  const report = await ensurePipelineTopics(kafka, topicLayoutFromEnv(config), logger);
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return report.differences.length > 0 ? 3 : 0;
}
