import { createHmac } from 'node:crypto';

/**
 * BSX WebSocket authentication (BSXDOC ws-auth):
 *   message   = `<api_key>,<timestamp>`   (timestamp: unix nanoseconds, decimal digits)
 *   signature = hex(HMAC-SHA256(key = api secret, message))
 *   frame     = {"op":"auth","data":{"key":<api_key>,"timestamp":"<ns>","signature":<hex>}}
 * The documented test vector is checked in sign.test.ts.
 */

/** The string BSX signs: `<api_key>,<timestamp_ns>`. */
export function bsxAuthMessage(apiKey: string, timestampNs: string): string {
  return `${apiKey},${timestampNs}`;
}

/** Lower-case hex HMAC-SHA256 of `<api_key>,<timestamp_ns>`, keyed with the API secret. */
export function bsxAuthSignature(apiSecret: string, apiKey: string, timestampNs: string): string {
  return createHmac('sha256', apiSecret).update(bsxAuthMessage(apiKey, timestampNs)).digest('hex');
}

/** The `op:auth` frame text, with the timestamp as a string of nanosecond digits (as in the doc example). */
export function bsxAuthFrame(apiKey: string, apiSecret: string, timestampNs: string): string {
  if (!/^\d+$/.test(timestampNs)) throw new RangeError(`BSX auth timestamp must be unix nanoseconds (digits), got ${JSON.stringify(timestampNs)}`);
  const signature = bsxAuthSignature(apiSecret, apiKey, timestampNs);
  return JSON.stringify({ op: 'auth', data: { key: apiKey, timestamp: timestampNs, signature } });
}

/** `{"op":"sub","channel":"orders"}` (all markets: no product). */
export const BSX_SUBSCRIBE_ORDERS = JSON.stringify({ op: 'sub', channel: 'orders' });

/** `{"op":"ping"}`; BSX answers `{"type":"pong"}`. */
export const BSX_PING = JSON.stringify({ op: 'ping' });
