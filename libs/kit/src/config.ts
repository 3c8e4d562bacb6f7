import { isIP } from 'node:net';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { Secret } from './secret.js';

/**
 * Configuration is read once, in a service's `main` (or a CLI command), before any I/O. Every source (environment,
 * files, every account of a file) reports into one ConfigProblems; `throwIfAny()` then throws one ConfigError that
 * lists *every* problem, each as `name: what is allowed, got <value>` with secrets masked.
 */

/** Names whose values are secrets: never shown in a problem, whatever the value looks like. */
const SECRET_NAME = /secret|password|passphrase|token|signature|private|credential|api_?key|apikey|listenkey|auth/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * `scheme://user:password@host/…` → `scheme://[redacted]@host/…`, and the values of query parameters named like
 * credentials (`?wsApiKey=…`, `&signature=…`, `&token=…`) → `[redacted]`; any other text is returned unchanged.
 */
export function redactUrlCredentials(text: string): string {
  return text
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@'"]+@/gi, '$1[redacted]@')
    .replace(/([?&][^=&\s"'#]*(?:key|secret|token|signature|password|passphrase|auth)[^=&\s"'#]*=)[^&\s"'#]+/gi, '$1[redacted]');
}

/** How a configuration value is shown in a problem: JSON, secrets masked, URL credentials masked, long values cut. */
export function showValue(name: string, value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value instanceof Secret || isSecretName(name)) return '[redacted]';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  text = redactUrlCredentials(text);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/** `prefix` + a zod path: `accounts[2].config.wsUrl`, `KAFKA_BROKERS`. */
export function joinPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

/** Messages that already name the value they got (ours) are kept as they are; others get `, got <value>`. */
function withValue(message: string, name: string, value: unknown): string {
  if (/\bgot\b/.test(message)) return message;
  if (value === undefined) return message;
  return `${message}, got ${showValue(name, value)}`;
}

/** Collects configuration problems from every source; throws them all at once. */
export class ConfigProblems {
  readonly list: string[] = [];

  add(name: string, message: string): void {
    this.list.push(`${name}: ${message}`);
  }

  /** Adds every problem of another ConfigError (or rethrows anything else). */
  absorb(error: unknown): void {
    if (error instanceof ConfigError) this.list.push(...error.problems);
    else throw error;
  }

  /**
   * Validates `input` with `schema`; on failure adds every issue (named `prefix` + path, with the offending value,
   * masked) and returns undefined.
   */
  check<S extends z.ZodType>(schema: S, input: unknown, prefix = '', skip?: (path: string) => boolean): z.infer<S> | undefined {
    const result = schema.safeParse(input);
    if (result.success) return result.data;
    for (const issue of result.error.issues) {
      const name = joinPath(prefix, issue.path);
      if (skip?.(name)) continue;
      const leaf = issue.path.length > 0 ? String(issue.path[issue.path.length - 1]) : prefix;
      let message = issue.message;
      if (issue.code === 'unrecognized_keys') message = `unknown field(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
      const value = issue.code === 'unrecognized_keys' ? undefined : valueAt(input, issue.path);
      this.add(name, withValue(message, leaf, value));
    }
    return undefined;
  }

  get empty(): boolean {
    return this.list.length === 0;
  }

  throwIfAny(): void {
    if (this.list.length > 0) throw new ConfigError([...this.list]);
  }
}

/**
 * Environment variables set to the empty string count as unset (so defaults apply and required ones are reported
 * as missing), as shells and compose files often write `NAME=` for "no value".
 */
export function envWithoutEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}

/**
 * Parses configuration once and throws a ConfigError listing *every* problem (never only the first), before the
 * service opens any connection.
 */
export function parseConfig<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const problems = new ConfigProblems();
  const data = problems.check(schema, input);
  problems.throwIfAny();
  return data as z.infer<S>;
}

/** A required non-empty secret string, wrapped so it never prints. */
export const secretString = () =>
  z
    .string({ error: 'is required' })
    .min(1, { error: 'must not be empty' })
    .transform((v) => new Secret(v));

const HOST_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/** An IPv4/IPv6 address or a DNS host name (RFC 1123 labels), as a listen or connect address. */
export function isHost(value: string): boolean {
  if (isIP(value) !== 0) return true;
  if (value.length === 0 || value.length > 253) return false;
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  return name.split('.').every((label) => HOST_LABEL.test(label));
}

/** A host to listen on or connect to: an IP address or a host name. */
export const host = () =>
  z.string({ error: 'is required (an IP address or host name)' }).refine(isHost, {
    error: (issue) => `must be an IP address or a host name (letters, digits, '-' and '.'), got ${showValue('', issue.input)}`,
  });

/** One `host:port` (IPv6 in brackets: `[::1]:9092`); undefined when fine, else what is wrong with it. */
export function hostPortProblem(entry: string): string | undefined {
  const m = /^(\[[^\]]+\]|[^:\s]+):(\d+)$/.exec(entry);
  if (!m) return `${JSON.stringify(entry)} is not host:port`;
  const h = (m[1] as string).startsWith('[') ? (m[1] as string).slice(1, -1) : (m[1] as string);
  const port = Number(m[2]);
  if (!isHost(h) || ((m[1] as string).startsWith('[') && isIP(h) !== 6)) return `${JSON.stringify(entry)} has an invalid host`;
  if (!Number.isInteger(port) || port < 1 || port > 65_535) return `${JSON.stringify(entry)} has a port outside 1..65535`;
  return undefined;
}

/** Comma-separated `host:port` list, as in KAFKA_BROKERS. */
export const brokerList = () =>
  z
    .string({ error: 'is required (comma-separated host:port list)' })
    .transform((v, ctx) => {
      const list = v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
      const bad = list.map(hostPortProblem).filter((p): p is string => p !== undefined);
      if (list.length === 0 || bad.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `must be a comma-separated list of host:port with ports 1..65535${bad.length > 0 ? ` (${bad.join('; ')})` : ''}, got ${showValue('', v)}`,
        });
        return z.NEVER;
      }
      return list;
    });

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const logLevel = () =>
  z
    .enum(LOG_LEVELS, { error: (issue) => `must be one of ${LOG_LEVELS.join(', ')}, got ${showValue('', issue.input)}` })
    .default('info');

/**
 * An integer from an environment string (or a JSON number) in [min, max]. Every failure says what is allowed and
 * what it got: `must be an integer between 1 and 65535, got 99999`.
 */
export const intFromEnv = (min: number, max: number) =>
  z.union([z.string(), z.number()], { error: (issue) => `must be an integer between ${min} and ${max}, got ${showValue('', issue.input)}` }).transform((raw, ctx) => {
    const text = typeof raw === 'number' ? String(raw) : raw.trim();
    const n = /^[+-]?\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `must be an integer between ${min} and ${max}, got ${showValue('', raw)}` });
      return z.NEVER;
    }
    return n;
  });

/** Strings that look like URLs with user-info (`scheme://user:pass@host`), anywhere in a parsed value. */
export function findUrlCredentials(value: unknown, path = ''): string[] {
  if (typeof value === 'string') return urlHasCredentials(value) ? [path === '' ? '(root)' : path] : [];
  if (value instanceof Secret) return [];
  if (Array.isArray(value)) return value.flatMap((v, i) => findUrlCredentials(v, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => findUrlCredentials(v, path === '' ? k : `${path}.${k}`));
  }
  return [];
}

/** True when `text` is a URL carrying a user name or password (`http://user:secret@host`). */
export function urlHasCredentials(text: string): boolean {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text.trim())) return false;
  try {
    const u = new URL(text.trim());
    return u.username !== '' || u.password !== '';
  } catch {
    // not parseable as a URL: still refuse anything shaped like user-info before the host
    return /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(text.trim());
  }
}

/** The message for a URL with embedded credentials (shared by the collector and future venue schemas). */
export const URL_CREDENTIALS_MESSAGE =
  'must not carry credentials in the URL (user:password@); give them in the venue\'s key/secret fields (README "Configuration")';

/**
 * A URL with one of `schemes` (`['https:', 'http:']`) and no user-info. For venue config schemas to adopt; the
 * collector already refuses credentials in any URL of an accounts file.
 */
export const urlWithoutCredentials = (schemes: readonly string[]) =>
  z.string({ error: 'is required' }).superRefine((v, ctx) => {
    let u: URL | undefined;
    try {
      u = new URL(v);
    } catch {
      u = undefined;
    }
    if (!u || !schemes.includes(u.protocol)) {
      ctx.addIssue({ code: 'custom', message: `must be a ${schemes.map((s) => s.replace(/:$/, '')).join('/')} URL, got ${showValue('', v)}` });
    } else if (u.username !== '' || u.password !== '') {
      ctx.addIssue({ code: 'custom', message: `${URL_CREDENTIALS_MESSAGE}, got ${showValue('', v)}` });
    }
  });
