import type { z } from 'zod';
import { FrameError } from '@orderstream/kit';

/**
 * Helpers every venue's frames.ts needs: readable FrameErrors from zod issues, the value at an issue's path, short
 * previews of bad values, and the exact digits of a JSON number that JSON.parse rounded.
 */

/** The value at `path` inside a parsed frame, or undefined. */
export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/** Longest preview of a bad value in a message (characters, before escaping). */
export const PREVIEW_MAX_CHARS = 80;

// C0 and C1 control characters, DEL, the two Unicode line separators, and UTF-16 surrogates that are not half of a pair.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE_CHAR_RE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `text` cut to at most `max` characters, never between the two halves of a surrogate pair. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const s = text.slice(0, max);
  return /[\ud800-\udbff]$/.test(s) ? s.slice(0, -1) : s;
}

/** Control characters, line separators and lone surrogates → `\uXXXX` escapes; everything else unchanged. */
function escapeUnsafe(text: string): string {
  return text.replace(UNSAFE_CHAR_RE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * `text` made safe for a dead-letter header, a log line or a terminal: control characters, line separators and lone
 * surrogates become `\uXXXX` escapes (so a message is always one line of well-formed text), and text beyond `max`
 * characters is cut (never inside a surrogate pair), ending `... (<n> characters)`.
 */
export function safeText(text: string, max: number): string {
  return text.length > max ? `${escapeUnsafe(cut(text, max))}... (${text.length} characters)` : escapeUnsafe(text);
}

/**
 * JSON-ish preview of a value for error messages: at most ~80 characters of it, one line, well-formed (control
 * characters and lone surrogates escaped), never `[object Object]` (objects as JSON) and never a misleading `null`
 * for a JSON number beyond the range of a double (JSON.parse reads 1e400 as Infinity). A long string ends with its
 * length.
 */
export function previewValue(v: unknown): string {
  if (typeof v === 'string') {
    if (v.length <= PREVIEW_MAX_CHARS) return escapeUnsafe(JSON.stringify(v));
    return `${escapeUnsafe(JSON.stringify(cut(v, PREVIEW_MAX_CHARS - 3)).slice(0, -1))}..." (${v.length} characters)`;
  }
  if (typeof v === 'number' && !Number.isFinite(v)) {
    return Number.isNaN(v) ? 'NaN' : `a ${v < 0 ? 'negative ' : ''}number beyond the range of a double`;
  }
  if (v === undefined) return 'undefined';
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = typeof v === 'bigint' ? String(v) : Array.isArray(v) ? '[…]' : '{…}';
  }
  return escapeUnsafe(s.length > PREVIEW_MAX_CHARS ? `${cut(s, PREVIEW_MAX_CHARS - 3)}...` : s);
}

/** "JSON null", "a JSON array", "a JSON number"… for "frame is X, not a JSON object". */
export function jsonKind(v: unknown): string {
  if (v === null) return 'JSON null';
  if (Array.isArray(v)) return 'a JSON array';
  return `a JSON ${typeof v}`;
}

/** First character that is not JSON whitespace ('' if none): tells JSON-looking text from plain text cheaply. */
export function firstNonBlank(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return text[i] as string;
  }
  return '';
}

export interface IssueErrorOptions {
  /** prepended to every issue path (Binance reads `result` on its own) */
  pathPrefix?: string;
  /** text after one issue, e.g. " [order <id>]" for the order the issue is in */
  issueSuffix?: (path: readonly PropertyKey[]) => string;
  /** text after the whole message, e.g. " [orderId 123]" */
  tail?: string;
}

/**
 * FRAME_INVALID naming every failed field (up to five, then a count), the value it had, and `details.issues` with
 * each path and message: what someone debugging a venue's frame needs to see in the dead-letter header.
 * FRAME_VALUE_OUT_OF_RANGE instead when the first failed field is a JSON number beyond the range of a double (1e400:
 * JSON.parse made it Infinity), the same code the normalizer gives a figure beyond its digit bound, on every venue.
 * `tail` and the issue suffixes (built by venues from ids that may not have been validated yet) are cut and escaped.
 */
export function zodFrameError(what: string, issues: readonly z.core.$ZodIssue[], root: unknown, options: IssueErrorOptions = {}): FrameError {
  const pathOf = (issue: z.core.$ZodIssue) =>
    [options.pathPrefix, ...issue.path.map(String)].filter((p) => p !== undefined && p !== '').join('.') || '(frame)';
  const parts = issues.slice(0, 5).map((issue) => {
    const value = valueAt(root, issue.path);
    const got = value === undefined ? '' : `, got ${previewValue(value)}`;
    return `${pathOf(issue)} ${issue.message}${got}${safeTail(options.issueSuffix?.(issue.path))}`;
  });
  const more = issues.length > 5 ? ` (+${issues.length - 5} more)` : '';
  const first = issues[0] === undefined ? undefined : valueAt(root, issues[0].path);
  const code = typeof first === 'number' && !Number.isFinite(first) ? 'FRAME_VALUE_OUT_OF_RANGE' : 'FRAME_INVALID';
  return new FrameError(code, `${what} invalid: ${parts.join('; ')}${more}${safeTail(options.tail)}`, {
    details: { issues: issues.map((i) => ({ path: pathOf(i), message: i.message })) },
  });
}

/** A message tail such as ` [orderId <id>]` built from a raw value: short, one line, and `{…}` for an object. */
function safeTail(tail: string | undefined): string {
  if (tail === undefined || tail === '') return '';
  return safeText(tail.replaceAll('[object Object]', '{…}'), 100);
}

const numberTokenRes = new Map<string, RegExp>();

/**
 * JSON.parse turns numbers into doubles, which loses digits (an 18-digit id, a 19-digit raw amount). When a venue
 * sends a number where its docs show a string, the exact token is read back from the frame text by its key (safe
 * integers need no text). If the key occurs with several different numbers, the one equal to the parsed value is
 * taken; if that is ambiguous, FRAME_INVALID names `field` (e.g. "data.origQty") under `what`.
 */
export function exactNumberText(text: string, key: string, value: number, what: string, field: string): string {
  if (Number.isSafeInteger(value)) return String(value);
  if (!Number.isFinite(value)) {
    throw new FrameError('FRAME_VALUE_OUT_OF_RANGE', `${what}: ${field} is a JSON number beyond the range of a double (${previewValue(value)})`, {
      details: { field },
    });
  }
  let re = numberTokenRes.get(key);
  if (!re) {
    re = new RegExp(`"${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"\\s*:\\s*(-?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?)`, 'g');
    numberTokenRes.set(key, re);
  }
  re.lastIndex = 0;
  const found = new Set<string>();
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (Number(m[1]) === value) found.add(m[1] as string);
  }
  if (found.size === 1) return [...found][0] as string;
  throw new FrameError('FRAME_INVALID', `${what}: ${field} is a JSON number whose exact digits cannot be recovered (${value})`, {
    details: { field },
  });
}

/**
 * The digit bound of every decimal orderstream writes (canonical figures, reference data): at most this many digits
 * before the point and this many after it, in normal form. 40 integer digits hold any real price or quantity and any
 * raw token amount (Loopring amounts are uint96, 29 digits); 40 fractional digits hold the product of two figures of
 * 18 decimals (an 18-decimal token quantity × a price) with room to spare. Anything beyond is a hostile or broken
 * value (a venue's "1e400" would otherwise become a 401-digit string).
 */
export const DECIMAL_MAX_INTEGER_DIGITS = 40;
export const DECIMAL_MAX_FRACTION_DIGITS = 40;

/** Why a decimal in normal form is beyond the digit bound, or undefined when it is within it. */
export function decimalBoundProblem(normal: string): string | undefined {
  const start = normal.startsWith('-') ? 1 : 0;
  const point = normal.indexOf('.');
  const integerDigits = (point < 0 ? normal.length : point) - start;
  const fractionDigits = point < 0 ? 0 : normal.length - point - 1;
  if (integerDigits > DECIMAL_MAX_INTEGER_DIGITS) return `has ${integerDigits} digits before the point, at most ${DECIMAL_MAX_INTEGER_DIGITS} allowed`;
  if (fractionDigits > DECIMAL_MAX_FRACTION_DIGITS) return `has ${fractionDigits} digits after the point, at most ${DECIMAL_MAX_FRACTION_DIGITS} allowed`;
  return undefined;
}
