import { z } from 'zod';
import { ConfigError } from './errors.js';
import { Secret } from './secret.js';

/**
 * Parses configuration once, in a service's `main`, and throws a ConfigError listing *every* problem
 * (never only the first), before the service opens any connection.
 */
export function parseConfig<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const where = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    return `${where}: ${issue.message}`;
  });
  throw new ConfigError(problems);
}

/** A required non-empty secret string, wrapped so it never prints. */
export const secretString = () =>
  z
    .string({ error: 'is required' })
    .min(1, { error: 'must not be empty' })
    .transform((v) => new Secret(v));

/** Comma-separated `host:port` list, as in KAFKA_BROKERS. */
export const brokerList = () =>
  z
    .string({ error: 'is required (comma-separated host:port list)' })
    .transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s.length > 0))
    .refine((list) => list.length > 0 && list.every((b) => /^[^\s:]+:\d{1,5}$/.test(b)), {
      error: 'must be a comma-separated list of host:port',
    });

export const logLevel = () =>
  z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

/** An integer read from an environment string. */
export const intFromEnv = (min: number, max: number) =>
  z.coerce.number({ error: 'must be a number' }).int({ error: 'must be an integer' }).min(min).max(max);
