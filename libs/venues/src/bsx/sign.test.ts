import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BSX_PING, BSX_SUBSCRIBE_ORDERS, bsxAuthFrame, bsxAuthMessage, bsxAuthSignature } from './sign.js';

describe('BSX WebSocket auth signature (BSXDOC ws-auth, PROTOCOLS.md 4.2)', () => {
  // The documented example, verbatim.
  const apiKey = '1fda404d8f84ce7de5611a7f0d310325';
  const secret = '1fda404d8f84ce7de5611a7f0d3103251fda404d8f84ce7de5611a7f0d310325';
  const timestamp = '1701918382000000000';
  const signature = '38dbb4921a2b7ac974aa24d3a832f722a03c1b94126972fff538f39beb73caac';

  it('passes the documented test vector', () => {
    expect(bsxAuthMessage(apiKey, timestamp)).toBe('1fda404d8f84ce7de5611a7f0d310325,1701918382000000000');
    expect(bsxAuthSignature(secret, apiKey, timestamp)).toBe(signature);
  });

  it('builds the documented auth frame (timestamp a string of ns digits)', () => {
    expect(JSON.parse(bsxAuthFrame(apiKey, secret, timestamp))).toEqual({ op: 'auth', data: { key: apiKey, timestamp, signature } });
  });

  it('keys the HMAC with the secret, not the API key, and signs key + "," + timestamp', () => {
    expect(bsxAuthSignature(apiKey, apiKey, timestamp)).not.toBe(signature);
    expect(bsxAuthSignature(secret, apiKey, '1701918382000000001')).not.toBe(signature);
    expect(bsxAuthSignature('s', 'k', '1')).toBe(createHmac('sha256', 's').update('k,1').digest('hex'));
  });

  it('refuses a timestamp that is not ns digits', () => {
    expect(() => bsxAuthFrame(apiKey, secret, '1.7e18')).toThrow(/nanoseconds/);
  });

  it('ping and sub frames', () => {
    expect(BSX_PING).toBe('{"op":"ping"}');
    expect(BSX_SUBSCRIBE_ORDERS).toBe('{"op":"sub","channel":"orders"}');
  });
});
