import kafkajs, { type KafkaConfig, type logCreator } from 'kafkajs';
import type { Kafka as KafkaClient } from 'kafkajs';

// kafkajs is CommonJS: Node's ESM loader only offers its default export.
const { Kafka, logLevel: KafkaLogLevel } = kafkajs;
import { backoffDelay, errorMessage, KafkaError, sleep, type Logger } from '@orderstream/kit';

/** How often the same kafkajs error or warning is logged at its own level; repeats in between go to debug. */
const REPEAT_WINDOW_MS = 10_000;

/**
 * Routes kafkajs' own log lines into the service's pino logger (kafkajs' ERROR→error … DEBUG→debug). While a broker
 * is down kafkajs logs every failed connection attempt twice (the socket error, then the retry); the same message
 * is logged at its level at most once per 10 s (with how many were folded into it), the rest at debug.
 */
export function pinoLogCreator(logger: Logger, now: () => number = Date.now): logCreator {
  const child = logger.child({ component: 'kafkajs' });
  const lastSeen = new Map<string, { at: number; folded: number }>();
  return () =>
    ({ level, log }) => {
      const { message, ...rest } = log;
      if (level === KafkaLogLevel.ERROR || level === KafkaLogLevel.WARN) {
        // the message without numbers (retry counts, ports, times): one key per kind of failure
        const key = `${level}|${String(message).replace(/\d+/g, '#').slice(0, 120)}`;
        const seen = lastSeen.get(key);
        const t = now();
        if (seen && t - seen.at < REPEAT_WINDOW_MS) {
          seen.folded++;
          child.debug(rest, message);
          return;
        }
        if (lastSeen.size > 1000) lastSeen.clear();
        lastSeen.set(key, { at: t, folded: 0 });
        if (seen && seen.folded > 0) Object.assign(rest, { repeatedSinceLastLine: seen.folded });
      }
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
  /** kafkajs' own verbosity; default WARN, DEBUG when the logger is at trace */
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
    // kafkajs' own debug lines only when the service runs at trace (its INFO/DEBUG lines are chatty)
    logLevel: LEVELS[config.kafkaLogLevel ?? (config.logger.isLevelEnabled('trace') ? 'debug' : 'warn')],
    logCreator: pinoLogCreator(config.logger),
    connectionTimeout: config.connectionTimeoutMs ?? 3_000,
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 10_000 },
  };
  return new Kafka(options);
}

export interface WaitForBrokersOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** give up after this long (ORDERSTREAM_BROKER_WAIT_MS); 0: one attempt */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** The innermost message of a kafkajs error (its `cause` chain), e.g. `connect ECONNREFUSED 127.0.0.1:9092`. */
function rootReason(error: unknown): string {
  let e: unknown = error;
  const seen = new Set<unknown>();
  while (e instanceof Error && e.cause instanceof Error && !seen.has(e)) {
    seen.add(e);
    e = e.cause;
  }
  return errorMessage(e);
}

/**
 * At start, before anything else talks to Kafka: tries to reach the broker(s) with a bounded, logged retry (one
 * warn line per failed attempt, kafkajs' own lines silenced), then throws KafkaError KAFKA_UNAVAILABLE (exit 69)
 * with the reason in one line.
 */
export async function waitForBrokers(options: WaitForBrokersOptions): Promise<void> {
  const { brokers, logger, timeoutMs } = options;
  const started = Date.now();
  const deadline = started + timeoutMs;
  const probe = new Kafka({
    clientId: `${options.clientId}-probe`,
    brokers,
    logLevel: KafkaLogLevel.NOTHING,
    connectionTimeout: 3_000,
    retry: { retries: 0 },
  });
  for (let attempt = 1; ; attempt++) {
    const admin = probe.admin({ retry: { retries: 0 } });
    try {
      await admin.connect();
      await admin.disconnect();
      if (attempt > 1) logger.info({ brokers, attempts: attempt }, 'Kafka reachable');
      return;
    } catch (error) {
      await admin.disconnect().catch(() => undefined);
      const reason = rootReason(error);
      const left = deadline - Date.now();
      if (left <= 0 || options.signal?.aborted) {
        const seconds = Math.round((Date.now() - started) / 100) / 10;
        throw new KafkaError(
          'KAFKA_UNAVAILABLE',
          `cannot reach Kafka at ${brokers.join(',')} (${attempt} ${attempt === 1 ? 'attempt' : 'attempts'} in ${seconds} s, ORDERSTREAM_BROKER_WAIT_MS=${timeoutMs}): ${reason}`,
          { retriable: true, cause: error },
        );
      }
      const delay = Math.min(backoffDelay(attempt - 1, { initialMs: 1_000, maxMs: 8_000, jitter: 0.2 }), left);
      logger.warn({ brokers, attempt, retryInMs: delay, reason }, 'Kafka not reachable yet; retrying');
      await sleep(delay, options.signal);
    }
  }
}

export type { Kafka } from 'kafkajs';
