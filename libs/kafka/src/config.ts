import { z } from 'zod';
import { brokerList } from '@orderstream/kit';

/** Environment variables every service that talks to Kafka reads. */
export const kafkaEnvSchema = z.object({
  KAFKA_BROKERS: brokerList(),
  ORDERSTREAM_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9._-]*$/, { error: 'may only hold letters, digits, . _ -' }).default(''),
});
