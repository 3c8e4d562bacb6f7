import { z } from 'zod';
import { parseConfig } from '@orderstream/kit';
import { kafkaEnvSchema } from '@orderstream/kafka';

/** Environment of order-state (README: "Configuration"). The only file that reads process.env. */
export const orderStateEnvSchema = kafkaEnvSchema.extend({
  ORDER_STATE_GROUP_ID: z.string().min(1).default('orderstream-order-state'),
});

export type OrderStateConfig = z.infer<typeof orderStateEnvSchema>;

export function loadOrderStateConfig(env: NodeJS.ProcessEnv = process.env): OrderStateConfig {
  return parseConfig(orderStateEnvSchema, env);
}
