import kafkajs, { type KafkaConfig, type logCreator } from 'kafkajs';
import type { Kafka as KafkaClient } from 'kafkajs';

// kafkajs is CommonJS: Node's ESM loader only offers its default export.
const { Kafka, logLevel: KafkaLogLevel } = kafkajs;
import type { Logger } from '@orderstream/kit';

/** Routes kafkajs' own log lines into the service's pino logger (kafkajs' ERROR→error … DEBUG→debug). */
function pinoLogCreator(logger: Logger): logCreator {
  const child = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, log }) => {
      const { message, ...rest } = log;
      switch (level) {
        case KafkaLogLevel.ERROR:
          child.error(rest, message);
          break;
        case KafkaLogLevel.WARN:
          child.warn(rest, message);
          break;
        case KafkaLogLevel.INFO:
          child.info(rest, message);
          break;
        default:
          child.debug(rest, message);
      }
    };
}

export interface KafkaClientConfig {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** kafkajs' own verbosity; its INFO lines are chatty, so WARN unless debugging */
  kafkaLogLevel?: 'error' | 'warn' | 'info' | 'debug';
  connectionTimeoutMs?: number;
}

const LEVELS = {
  error: KafkaLogLevel.ERROR,
  warn: KafkaLogLevel.WARN,
  info: KafkaLogLevel.INFO,
  debug: KafkaLogLevel.DEBUG,
} as const;

/** The one place a kafkajs client is built. */
export function createKafka(config: KafkaClientConfig): KafkaClient {
  const options: KafkaConfig = {
    clientId: config.clientId,
    brokers: config.brokers,
    logLevel: LEVELS[config.kafkaLogLevel ?? 'warn'],
    logCreator: pinoLogCreator(config.logger),
    connectionTimeout: config.connectionTimeoutMs ?? 3_000,
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 10_000 },
  };
  return new Kafka(options);
}

export type { Kafka } from 'kafkajs';
