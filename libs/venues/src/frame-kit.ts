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

/** JSON-ish preview of a value for error messages, at most ~80 characters. */
export function previewValue(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : v === undefined ? 'undefined' : (JSON.stringify(v) ?? String(v));
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
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
 */
export function zodFrameError(what: string, issues: readonly z.core.$ZodIssue[], root: unknown, options: IssueErrorOptions = {}): FrameError {
  const pathOf = (issue: z.core.$ZodIssue) =>
    [options.pathPrefix, ...issue.path.map(String)].filter((p) => p !== undefined && p !== '').join('.') || '(frame)';
  const parts = issues.slice(0, 5).map((issue) => {
    const value = valueAt(root, issue.path);
    const got = value === undefined ? '' : `, got ${previewValue(value)}`;
    return `${pathOf(issue)} ${issue.message}${got}${options.issueSuffix?.(issue.path) ?? ''}`;
  });
  const more = issues.length > 5 ? ` (+${issues.length - 5} more)` : '';
  return new FrameError('FRAME_INVALID', `${what} invalid: ${parts.join('; ')}${more}${options.tail ?? ''}`, {
    details: { issues: issues.map((i) => ({ path: pathOf(i), message: i.message })) },
  });
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
