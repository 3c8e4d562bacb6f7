import { createHmac } from 'node:crypto';

/** REST path of the listen-key call (USDT-M: https://fapi.xt.com). */
export const XT_LISTEN_KEY_PATH = '/future/user/v1/user/listen-key';

export interface XtSignInput {
  appKey: string;
  /** unix ms, as sent in validate-timestamp */
  timestamp: string;
  /** request path, e.g. /future/user/v1/user/listen-key */
  path: string;
  /** query string with keys sorted, `k=v&k=v`, without '?'; omitted when empty */
  query?: string;
  /** raw body; omitted when empty */
  body?: string;
}

/**
 * XT futures string to sign (XTREPO `_futures_documentation/signSteps.md`): X + Y with
 * X = `validate-appkey=<appKey>&validate-timestamp=<ts>` and Y = `#<path>` [+ `#<query>`] [+ `#<body>`].
 */
export function xtStringToSign(input: XtSignInput): string {
  let y = `#${input.path}`;
  if (input.query) y += `#${input.query}`;
  if (input.body) y += `#${input.body}`;
  return `validate-appkey=${input.appKey}&validate-timestamp=${input.timestamp}${y}`;
}

/** Lower-case hex HMAC-SHA256 of the string to sign, keyed with the API secret. */
export function xtSignature(secret: string, input: XtSignInput): string {
  return createHmac('sha256', secret).update(xtStringToSign(input)).digest('hex');
}

