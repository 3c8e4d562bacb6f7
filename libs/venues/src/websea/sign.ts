import { createHash, randomInt } from 'node:crypto';

/**
 * WebSea request signing (WSREPO `en/about/auth`, "Interface Permission Verification"):
 *
 *   Signature = lower-case hex SHA1 of the concatenation, in sorted order, of
 *               token, secret_key, Nonce and one `name=value` string per request parameter.
 *
 * The order-channel page says the WS `Signature` is "generated from token, secret_key, and nonce" with rules
 * "identical to REST API signatures": the subscribe message's own fields are not listed as parameters, so the
 * documented WS form signs the three strings only. Whether `op=sub` / `channel=order` take part is UNCONFIRMED;
 * `webseaSubscribeSignature` can include them (config `signSubscribeParams`).
 *
 * Sort order: the doc's Python (`sorted`) and PHP (`sort(…, SORT_STRING)`) samples compare byte-wise; its Java
 * sample sorts with `compareToIgnoreCase` (a comparator that never answers "equal"). The two orders can disagree only
 * when, at the first position where two strings differ, an upper-case letter meets a lower-case letter or one of
 * `[`, `\`, `]`, `^`, `_`, `` ` `` (byte-wise `A`-`Z` < `[`…`` ` `` < `a`-`z`; case-insensitively letters compare as
 * lower case, after those six). For the WS form with a lower-case hex token and secret and a nonce that starts with
 * digits, both orders agree; with parameters or mixed-case credentials they may not. Default: byte-wise (two of
 * three samples; the worked example sorts the same either way).
 */

export type WebseaSortOrder = 'bytewise' | 'case-insensitive';

/** `<unix seconds>_<5 alphanumerics>`, e.g. `1534927978_ab43c` (WSREPO auth page). */
export const WEBSEA_NONCE_RE = /^(\d{1,12})_([A-Za-z0-9]{5})$/;

/** A request parameter as signed: `name=value`. */
export function webseaParam(name: string, value: string | number): string {
  return `${name}=${value}`;
}

/** Byte-wise comparison of the UTF-8 encodings (= Python 3 code-point order, PHP byte order). */
function compareBytewise(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Java's String.compareToIgnoreCase: per UTF-16 unit, compare upper-cased then lower-cased characters. */
function compareIgnoreCase(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a[i] as string;
    let y = b[i] as string;
    if (x === y) continue;
    x = x.toUpperCase();
    y = y.toUpperCase();
    if (x === y) continue;
    x = x.toLowerCase();
    y = y.toLowerCase();
    if (x !== y) return x.charCodeAt(0) - y.charCodeAt(0);
  }
  return a.length - b.length;
}

/** The string that gets hashed: the parts sorted and joined with nothing in between. */
export function webseaStringToSign(parts: readonly string[], order: WebseaSortOrder = 'bytewise'): string {
  const sorted = [...parts].sort(order === 'bytewise' ? compareBytewise : compareIgnoreCase);
  return sorted.join('');
}

export interface WebseaSignInput {
  token: string;
  secretKey: string;
  nonce: string;
  /** request parameters, each `name=value` (REST: every GET and POST parameter) */
  params?: readonly string[];
  order?: WebseaSortOrder;
}

/** Lower-case hex SHA1 of the sorted concatenation (the documented rule). */
export function webseaSignature(input: WebseaSignInput): string {
  const toSign = webseaStringToSign([input.token, input.secretKey, input.nonce, ...(input.params ?? [])], input.order);
  return createHash('sha1').update(toSign, 'utf8').digest('hex');
}

/**
 * Signature of the order-channel subscribe message: token, secret and nonce (documented), plus `op=<op>` and
 * `channel=<channel>` when `includeOpChannel` is set (UNCONFIRMED alternative).
 */
export function webseaSubscribeSignature(input: {
  token: string;
  secretKey: string;
  nonce: string;
  op?: string;
  channel?: string;
  includeOpChannel?: boolean;
  order?: WebseaSortOrder;
}): string {
  const params = input.includeOpChannel ? [webseaParam('op', input.op ?? 'sub'), webseaParam('channel', input.channel ?? 'order')] : [];
  return webseaSignature({ token: input.token, secretKey: input.secretKey, nonce: input.nonce, params, ...(input.order ? { order: input.order } : {}) });
}

const NONCE_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A fresh nonce: `<floor(nowMs / 1000)>_<5 random lower-case alphanumerics>` (crypto randomness). */
export function webseaNonce(nowMs: number = Date.now()): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += NONCE_ALPHABET[randomInt(NONCE_ALPHABET.length)];
  return `${Math.floor(nowMs / 1000)}_${suffix}`;
}

/** The seconds part of a nonce, or undefined if it is not `<digits>_<5 alphanumerics>`. */
export function webseaNonceSeconds(nonce: string): number | undefined {
  const m = WEBSEA_NONCE_RE.exec(nonce);
  return m ? Number(m[1]) : undefined;
}
