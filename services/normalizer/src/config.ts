import { z } from 'zod';
import { ConfigProblems, envWithoutEmpty, host, intFromEnv } from '@orderstream/kit';
import { kafkaEnvSchema } from '@orderstream/kafka';
import { EMPTY_REFERENCE, loadReferenceData, type ReferenceData } from '@orderstream/venues';

/** Environment of the normalizer (README: "Configuration"). The only file that reads process.env. */
export const normalizerEnvSchema = kafkaEnvSchema.extend({
  NORMALIZER_GROUP_ID: z.string().min(1).default('orderstream-normalizer'),
  /** JSON instrument reference data (contract sizes, token decimals); optional */
  REFERENCE_DATA_FILE: z.string().min(1).optional(),
  /** health, readiness and metrics (docs/metrics.md): port (0, the default: any free port, logged) and interface */
  NORMALIZER_HTTP_PORT: intFromEnv(0, 65_535).default(0),
  NORMALIZER_HTTP_HOST: host().default('127.0.0.1'),
});

export type NormalizerEnv = z.infer<typeof normalizerEnvSchema>;
export type NormalizerConfig = NormalizerEnv & { reference: ReferenceData };

/**
 * All of the normalizer's configuration: the environment and the reference data file it names, every problem of
 * both in one ConfigError.
 */
export function loadNormalizerConfig(env: NodeJS.ProcessEnv = process.env): NormalizerConfig {
  const problems = new ConfigProblems();
  const values = envWithoutEmpty(env);
  const base = problems.check(normalizerEnvSchema, values);
  let reference: ReferenceData = EMPTY_REFERENCE;
  const file = values.REFERENCE_DATA_FILE;
  if (file !== undefined) {
    try {
      reference = loadReferenceData(file);
    } catch (error) {
      problems.absorb(error);
    }
  }
  problems.throwIfAny();
  return { ...(base as NormalizerEnv), reference };
}
