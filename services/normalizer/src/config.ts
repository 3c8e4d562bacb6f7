import { z } from 'zod';
import { parseConfig } from '@orderstream/kit';
import { kafkaEnvSchema } from '@orderstream/kafka';

/** Environment of the normalizer (README: "Configuration"). The only file that reads process.env. */
export const normalizerEnvSchema = kafkaEnvSchema.extend({
  NORMALIZER_GROUP_ID: z.string().min(1).default('orderstream-normalizer'),
  /** JSON instrument reference data (contract sizes, token decimals); optional */
  REFERENCE_DATA_FILE: z.string().min(1).optional(),
});

export type NormalizerConfig = z.infer<typeof normalizerEnvSchema>;

export function loadNormalizerConfig(env: NodeJS.ProcessEnv = process.env): NormalizerConfig {
  return parseConfig(normalizerEnvSchema, env);
}
