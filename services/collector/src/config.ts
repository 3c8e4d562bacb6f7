import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, errorMessage, intFromEnv, parseConfig, type Logger } from '@orderstream/kit';
import { kafkaEnvSchema } from '@orderstream/kafka';
import { reconcileOptionsSchema, registeredVenues, venueModule, type ReconcileOptions } from '@orderstream/venues';
import type { CollectorAccount } from './app.js';

/** Environment of the collector (README: "Configuration"). The only file that reads process.env. */
export const collectorEnvSchema = kafkaEnvSchema.extend({
  /** JSON file listing the venue accounts to collect (format in README) */
  COLLECTOR_ACCOUNTS_FILE: z.string({ error: 'is required (path of the accounts JSON file)' }).min(1),
  // Outage spool (issue 10; README "Outage spool").
  /** directory of the collector's write-ahead spool of raw records (one collector per directory) */
  COLLECTOR_SPOOL_DIR: z.string().min(1).default('.local/collector-spool'),
  /** unpublished bytes at which the collector stops reading the venue sockets (≥ 1 MiB; default 1 GiB) */
  COLLECTOR_SPOOL_MAX_BYTES: intFromEnv(2 ** 20, Number.MAX_SAFE_INTEGER).default(2 ** 30),
  /** fdatasync the spool this often, against machine crashes (0: leave it to the OS) */
  COLLECTOR_SPOOL_FSYNC_MS: intFromEnv(0, 60_000).default(1_000),
});

const accountsFileSchema = z.object({
  accounts: z
    .array(
      z.object({
        venue: z.string(),
        account: z.string().regex(/^[A-Za-z0-9._-]+$/, { error: 'may only hold letters, digits, . _ -' }),
        config: z.record(z.string(), z.unknown()),
        /** reconciliation options (libs/venues/src/reconcile.ts); defaults when absent */
        reconcile: z.unknown().optional(),
      }),
    )
    .min(1, { error: 'must list at least one account' }),
});

export interface AccountSpec {
  venue: string;
  account: string;
  /** venue client config, already validated by the venue's own schema (secrets wrapped) */
  config: unknown;
  reconcile: ReconcileOptions;
}

/**
 * Values written `{"env": "NAME"}` in the accounts file are taken from the environment, so secrets need not
 * sit in the file. Every missing variable is reported.
 */
function resolveEnvRefs(value: unknown, env: NodeJS.ProcessEnv, path: string, problems: string[]): unknown {
  if (Array.isArray(value)) return value.map((v, i) => resolveEnvRefs(v, env, `${path}[${i}]`, problems));
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 1 && keys[0] === 'env' && typeof obj.env === 'string') {
      const v = env[obj.env];
      if (v === undefined || v === '') problems.push(`${path}: environment variable ${obj.env} is not set`);
      return v;
    }
    return Object.fromEntries(keys.map((k) => [k, resolveEnvRefs(obj[k], env, `${path}.${k}`, problems)]));
  }
  return value;
}

/** Parses and validates the accounts file; lists every problem in one ConfigError. */
export function parseAccounts(json: unknown, env: NodeJS.ProcessEnv = process.env): AccountSpec[] {
  const file = parseConfig(accountsFileSchema, json);
  const problems: string[] = [];
  const specs: AccountSpec[] = [];
  const seen = new Set<string>();
  file.accounts.forEach((a, i) => {
    const where = `accounts[${i}]`;
    const m = venueModule(a.venue);
    if (!m) {
      problems.push(`${where}.venue: unknown venue ${JSON.stringify(a.venue)} (known: ${registeredVenues().join(', ')})`);
      return;
    }
    const id = `${a.venue}|${a.account}`;
    if (seen.has(id)) problems.push(`${where}: ${id} is listed twice`);
    seen.add(id);
    const resolved = resolveEnvRefs(a.config, env, `${where}.config`, problems);
    const parsed = m.clientConfigSchema.safeParse(resolved);
    const reconcile = reconcileOptionsSchema.safeParse(a.reconcile ?? {});
    if (!reconcile.success) {
      for (const issue of reconcile.error.issues) problems.push(`${where}.reconcile${issue.path.length ? `.${issue.path.join('.')}` : ''}: ${issue.message}`);
    }
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${where}.config.${issue.path.join('.')}: ${issue.message}`);
      return;
    }
    if (reconcile.success) specs.push({ venue: a.venue, account: a.account, config: parsed.data, reconcile: reconcile.data });
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return specs;
}

export function loadCollectorConfig(env: NodeJS.ProcessEnv = process.env) {
  const base = parseConfig(collectorEnvSchema, env);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(base.COLLECTOR_ACCOUNTS_FILE, 'utf8'));
  } catch (error) {
    throw new ConfigError([`COLLECTOR_ACCOUNTS_FILE: cannot read ${base.COLLECTOR_ACCOUNTS_FILE}: ${errorMessage(error)}`]);
  }
  return { ...base, accounts: parseAccounts(json, env) };
}

/** Builds each account's venue client. */
export function createAccounts(specs: AccountSpec[], logger: Logger): CollectorAccount[] {
  return specs.map((s) => {
    const m = venueModule(s.venue);
    if (!m) throw new ConfigError([`unknown venue ${s.venue}`]);
    return { account: s.account, client: m.createClient(s.config, logger.child({ venue: s.venue, account: s.account })), reconcile: s.reconcile };
  });
}
