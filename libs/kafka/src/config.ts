import { z } from 'zod';
import { brokerList, intFromEnv, logLevel, secretString, urlWithoutCredentials } from '@orderstream/kit';
import { COMPATIBILITY_LEVELS, type CompatibilityLevel } from './avro/registry-client.js';
import type { TopicLayout } from './topics.js';

/** Environment variables every service that talks to Kafka reads. */
export const kafkaEnvSchema = z.object({
  KAFKA_BROKERS: brokerList(),
  ORDERSTREAM_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9._-]*$/, { error: 'may only hold letters, digits, . _ -' }).default(''),
  ORDERSTREAM_RAW_PARTITIONS: intFromEnv(1, 1000).default(3),
  ORDERSTREAM_ORDER_PARTITIONS: intFromEnv(1, 1000).default(3),
  ORDERSTREAM_REPLICATION_FACTOR: intFromEnv(1, 10).default(1),
  LOG_LEVEL: logLevel(),
  /** consumer group session timeout: how soon a crashed instance's partitions move to the others (≥ 6000) */
  ORDERSTREAM_SESSION_TIMEOUT_MS: intFromEnv(6_000, 300_000).default(10_000),
  /** at start, how long to keep trying to reach the broker before exiting with KAFKA_UNAVAILABLE (exit 69) */
  ORDERSTREAM_BROKER_WAIT_MS: intFromEnv(0, 600_000).default(30_000),
  /**
   * Registry mode (docs/avro.md): base URL of a Confluent-compatible schema registry API (Confluent, Apicurio's
   * /apis/ccompat/v7, Karapace, Redpanda). Unset: single-object encoding, no registry.
   */
  ORDERSTREAM_SCHEMA_REGISTRY_URL: urlWithoutCredentials(['http:', 'https:']).optional(),
  /** register (default): register our schemas at start; lookup: only look them up (locked-down registries) */
  ORDERSTREAM_SCHEMA_REGISTRY_MODE: z.enum(['register', 'lookup']).default('register'),
  /** HTTP basic auth for the registry, `user:password` */
  ORDERSTREAM_SCHEMA_REGISTRY_BASIC_AUTH: secretString().optional(),
  /** bearer token for the registry */
  ORDERSTREAM_SCHEMA_REGISTRY_BEARER_TOKEN: secretString().optional(),
  /** compatibility level set on each of our subjects in register mode */
  ORDERSTREAM_SCHEMA_COMPATIBILITY: z.enum(COMPATIBILITY_LEVELS as [CompatibilityLevel, ...CompatibilityLevel[]]).default('FULL_TRANSITIVE'),
  /** at start, how long to keep trying to reach the registry before exiting with SCHEMA_REGISTRY_UNAVAILABLE (exit 72) */
  ORDERSTREAM_SCHEMA_REGISTRY_WAIT_MS: intFromEnv(0, 600_000).default(30_000),
});

export type KafkaEnv = z.infer<typeof kafkaEnvSchema>;

/** The topic layout the environment asks for. */
export function topicLayoutFromEnv(env: KafkaEnv): TopicLayout {
  return {
    prefix: env.ORDERSTREAM_TOPIC_PREFIX,
    rawPartitions: env.ORDERSTREAM_RAW_PARTITIONS,
    orderPartitions: env.ORDERSTREAM_ORDER_PARTITIONS,
    replicationFactor: env.ORDERSTREAM_REPLICATION_FACTOR,
  };
}
