import { z } from 'zod';
import { envWithoutEmpty, host, intFromEnv, parseConfig } from '@orderstream/kit';
import { kafkaEnvSchema } from '@orderstream/kafka';

/** Environment of order-state (README: "Configuration"). The only file that reads process.env. */
export const orderStateEnvSchema = kafkaEnvSchema.extend({
  ORDER_STATE_GROUP_ID: z.string().min(1).default('orderstream-order-state'),
  /** query API and metrics (docs/query-api.md); 0 picks a free port */
  ORDER_STATE_HTTP_PORT: intFromEnv(0, 65_535).default(8080),
  /** interface of the query API: an IP address or a host name */
  ORDER_STATE_HTTP_HOST: host().default('127.0.0.1'),
  /** terminal orders whose state is older than this get a tombstone; 0 (default) keeps them forever */
  ORDER_STATE_TERMINAL_RETENTION_MS: intFromEnv(0, 10 * 365 * 86_400_000).default(0),
});

export type OrderStateConfig = z.infer<typeof orderStateEnvSchema>;

/** All of order-state's configuration (environment only); every problem in one ConfigError. */
export function loadOrderStateConfig(env: NodeJS.ProcessEnv = process.env): OrderStateConfig {
  return parseConfig(orderStateEnvSchema, envWithoutEmpty(env));
}
