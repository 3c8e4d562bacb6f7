import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  ConfigError, ConfigProblems, envWithoutEmpty, errorMessage, findUrlCredentials, host, intFromEnv, showValue, URL_CREDENTIALS_MESSAGE, type Logger,
} from '@orderstream/kit';
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
  /** health, readiness and metrics (docs/metrics.md): port (0, the default: any free port, logged) and interface */
  COLLECTOR_HTTP_PORT: intFromEnv(0, 65_535).default(0),
  COLLECTOR_HTTP_HOST: host().default('127.0.0.1'),
});

/** One entry of the accounts file; its `config` is then checked by the venue's own schema. */
const accountEntrySchema = z.object({
  venue: z.string({ error: 'is required (a venue id)' }),
  account: z.string({ error: 'is required (an account name)' }).regex(/^[A-Za-z0-9._-]+$/, { error: 'may only hold letters, digits, . _ -' }),
  config: z.record(z.string(), z.unknown(), { error: 'must be an object (the venue\'s client config)' }),
  /** reconciliation options (libs/venues/src/reconcile.ts); defaults when absent */
  reconcile: z.unknown().optional(),
});

const accountsFileSchema = z.object({
  accounts: z.array(z.unknown(), { error: 'must be an array of accounts' }).min(1, { error: 'must list at least one account' }),
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

/**
 * Parses and validates the accounts file: every account is checked (shape, venue, duplicates, env refs, the venue's
 * own config schema, reconcile options, no credentials in URLs) and every problem of every account is reported.
 * With `problems` given, problems are added there (with the environment's) instead of thrown.
 */
export function parseAccounts(json: unknown, env: NodeJS.ProcessEnv = process.env, problems?: ConfigProblems): AccountSpec[] {
  const own = problems ?? new ConfigProblems();
  const specs = collectAccounts(json, env, own);
  if (!problems) own.throwIfAny();
  return specs;
}

function collectAccounts(json: unknown, env: NodeJS.ProcessEnv, problems: ConfigProblems): AccountSpec[] {
  const file = problems.check(accountsFileSchema, json);
  if (!file) return [];
  const specs: AccountSpec[] = [];
  const seen = new Set<string>();
  file.accounts.forEach((entry, i) => {
    const where = `accounts[${i}]`;
    // A bad field (say the account name) is reported, and the rest of the account is still checked.
    const shaped = problems.check(accountEntrySchema, entry, where);
    const raw = (entry !== null && typeof entry === 'object' ? entry : {}) as Record<string, unknown>;
    if (typeof raw.venue !== 'string' || raw.config === null || typeof raw.config !== 'object' || Array.isArray(raw.config)) return;
    const a = { venue: raw.venue, account: String(raw.account), config: raw.config as Record<string, unknown>, reconcile: raw.reconcile };
    const m = venueModule(a.venue);
    if (!m) problems.add(`${where}.venue`, `unknown venue ${JSON.stringify(a.venue)} (known: ${registeredVenues().join(', ')})`);
    const id = `${a.venue}|${a.account}`;
    if (seen.has(id)) problems.add(where, `${id} is listed twice`);
    seen.add(id);
    const missing: string[] = [];
    const resolved = resolveEnvRefs(a.config, env, `${where}.config`, missing);
    for (const p of missing) problems.list.push(p);
    // Credentials written into any URL (http://user:secret@host) are refused: URLs get logged and published.
    for (const path of findUrlCredentials(resolved)) problems.add(`${where}.config.${path}`, `${URL_CREDENTIALS_MESSAGE}, got ${showValue('', valueAtPath(resolved, path))}`);
    const reconcile = problems.check(reconcileOptionsSchema, a.reconcile ?? {}, `${where}.reconcile`);
    if (!m) return;
    // a variable that is not set was reported above; the venue schema's "is required" for it would say it twice
    const unset = new Set(missing.map((p) => p.slice(0, p.indexOf(':'))));
    const parsed = problems.check(m.clientConfigSchema, resolved, `${where}.config`, (name) => unset.has(name));
    if (shaped !== undefined && parsed !== undefined && reconcile !== undefined) specs.push({ venue: a.venue, account: a.account, config: parsed, reconcile });
  });
  return specs;
}

function valueAtPath(value: unknown, path: string): unknown {
  let v = value;
  for (const part of path.split(/\.|\[(\d+)\]/).filter((x) => x !== undefined && x !== '')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/**
 * All of the collector's configuration: the environment, the accounts file and every account in it. Problems of
 * all of them are listed together in one ConfigError.
 */
export function loadCollectorConfig(env: NodeJS.ProcessEnv = process.env) {
  const problems = new ConfigProblems();
  const values = envWithoutEmpty(env);
  const base = problems.check(collectorEnvSchema, values);
  const file = values.COLLECTOR_ACCOUNTS_FILE;
  let accounts: AccountSpec[] = [];
  if (file !== undefined) {
    let json: unknown;
    let readable = true;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      readable = false;
      problems.add('COLLECTOR_ACCOUNTS_FILE', `cannot read ${JSON.stringify(file)}: ${errorMessage(error)}`);
    }
    if (readable) accounts = parseAccounts(json, env, problems);
  }
  problems.throwIfAny();
  return { ...(base as z.infer<typeof collectorEnvSchema>), accounts };
}

/** Builds each account's venue client. */
export function createAccounts(specs: AccountSpec[], logger: Logger): CollectorAccount[] {
  return specs.map((s) => {
    const m = venueModule(s.venue);
    if (!m) throw new ConfigError([`unknown venue ${s.venue}`]);
    return { account: s.account, client: m.createClient(s.config, logger.child({ venue: s.venue, account: s.account })), reconcile: s.reconcile };
  });
}
