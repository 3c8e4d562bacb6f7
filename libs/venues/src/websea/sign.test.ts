import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  WEBSEA_NONCE_RE,
  webseaNonce,
  webseaNonceSeconds,
  webseaParam,
  webseaSignature,
  webseaStringToSign,
  webseaSubscribeSignature,
} from './sign.js';

// The documented example (WSREPO en/about/auth, "Example"; PROTOCOLS.md §3.2).
const TOKEN = '57ba172a6be125c';
const SECRET = 'ca2f449826f9980ca';
const NONCE = '1534927978_ab43c';

describe('the documented test vector', () => {
  it('REST: token, secret, nonce, symbol=BTC-USDT, type=1 → 731faa3d…', () => {
    const params = [webseaParam('symbol', 'BTC-USDT'), webseaParam('type', 1)];
    expect(webseaStringToSign([TOKEN, SECRET, NONCE, ...params])).toBe('1534927978_ab43c57ba172a6be125cca2f449826f9980casymbol=BTC-USDTtype=1');
    expect(webseaSignature({ token: TOKEN, secretKey: SECRET, nonce: NONCE, params })).toBe('731faa3d170bb746a767cea58ae563830594e1fe');
  });

  it('gives the same result with the Java sample\'s case-insensitive sort (no mixed case in the example)', () => {
    const params = ['type=1', 'symbol=BTC-USDT'];
    expect(webseaSignature({ token: TOKEN, secretKey: SECRET, nonce: NONCE, params, order: 'case-insensitive' })).toBe('731faa3d170bb746a767cea58ae563830594e1fe');
  });

  it('the input order of the strings does not matter', () => {
    const a = webseaSignature({ token: TOKEN, secretKey: SECRET, nonce: NONCE, params: ['type=1', 'symbol=BTC-USDT'] });
    const b = webseaSignature({ token: TOKEN, secretKey: SECRET, nonce: NONCE, params: ['symbol=BTC-USDT', 'type=1'] });
    expect(a).toBe(b);
  });
});

describe('the WebSocket subscribe signature (token, secret, nonce: no parameters)', () => {
  it('documented form: sha1("1534927978_ab43c" + "57ba172a6be125c" + "ca2f449826f9980ca")', () => {
    const sig = webseaSubscribeSignature({ token: TOKEN, secretKey: SECRET, nonce: NONCE });
    // derived here from the documented rule with the documented credentials (WebSea publishes no WS vector)
    expect(sig).toBe('7202c523d431f5b77ccbd04f1810d78a8218de1b');
    expect(sig).toBe(createHash('sha1').update('1534927978_ab43c57ba172a6be125cca2f449826f9980ca').digest('hex'));
    expect(webseaSubscribeSignature({ token: TOKEN, secretKey: SECRET, nonce: NONCE, order: 'case-insensitive' })).toBe(sig);
  });

  it('UNCONFIRMED alternative with op=sub and channel=order signed too', () => {
    const sig = webseaSubscribeSignature({ token: TOKEN, secretKey: SECRET, nonce: NONCE, includeOpChannel: true });
    expect(webseaStringToSign([TOKEN, SECRET, NONCE, 'op=sub', 'channel=order'])).toBe('1534927978_ab43c57ba172a6be125cca2f449826f9980cachannel=orderop=sub');
    expect(sig).toBe('85051d4e16bc821fa80f5d7e369c0b33202ee3e0');
  });

  it('the doc page\'s "Signature" example (v490hupi0s0bckcp6ivb69p921) is a placeholder, not a SHA1 hex digest', () => {
    expect(/^[0-9a-f]{40}$/.test('v490hupi0s0bckcp6ivb69p921')).toBe(false);
  });
});

describe('byte-wise versus case-insensitive sort', () => {
  it('differ when an upper-case letter meets a lower-case one', () => {
    // byte-wise 'Z' (0x5A) < 'a' (0x61); case-insensitively 'a' < 'z'
    expect(webseaStringToSign(['Zeta', 'alpha'], 'bytewise')).toBe('Zetaalpha');
    expect(webseaStringToSign(['Zeta', 'alpha'], 'case-insensitive')).toBe('alphaZeta');
  });

  it('differ when "_" meets an upper-case letter', () => {
    // byte-wise 'A' (0x41) < '_' (0x5F); case-insensitively '_' < 'a'
    expect(webseaStringToSign(['1_x', '1A'], 'bytewise')).toBe('1A1_x');
    expect(webseaStringToSign(['1_x', '1A'], 'case-insensitive')).toBe('1_x1A');
  });

  it('so a mixed-case token changes the WS signature depending on the sort', () => {
    // byte-wise 'D' (0x44) < 'c' (0x63): token first; case-insensitively 'c' < 'd': secret first
    const token = 'D57BA172A6BE125C';
    const secret = 'ca2f449826f9980ca';
    const nonce = NONCE;
    expect(webseaStringToSign([token, secret, nonce], 'bytewise')).toBe(`${nonce}${token}${secret}`);
    expect(webseaStringToSign([token, secret, nonce], 'case-insensitive')).toBe(`${nonce}${secret}${token}`);
    const bytewise = webseaSubscribeSignature({ token, secretKey: secret, nonce, order: 'bytewise' });
    const insensitive = webseaSubscribeSignature({ token, secretKey: secret, nonce, order: 'case-insensitive' });
    expect(bytewise).not.toBe(insensitive);
  });

  it('agree for lower-case hex credentials and real nonces', () => {
    for (let i = 0; i < 50; i++) {
      const token = createHash('md5').update(`t${i}`).digest('hex');
      const secret = createHash('md5').update(`s${i}`).digest('hex');
      const nonce = webseaNonce(1_700_000_000_000 + i * 1000);
      expect(webseaStringToSign([token, secret, nonce], 'bytewise')).toBe(webseaStringToSign([token, secret, nonce], 'case-insensitive'));
    }
  });

  it('byte-wise means UTF-8 byte order (Python 3 / PHP), not UTF-16 code units', () => {
    // U+FF21 (fullwidth A) is one UTF-16 unit above a surrogate pair's units, but below it in UTF-8 / code points
    const astral = '\u{1F600}';
    const bmp = '\uFF21';
    expect(webseaStringToSign([astral, bmp], 'bytewise')).toBe(`${bmp}${astral}`);
  });
});

describe('nonces', () => {
  it('are <unix seconds>_<5 lower-case alphanumerics>, fresh each time', () => {
    const now = 1_534_927_978_999;
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const n = webseaNonce(now);
      expect(n).toMatch(/^1534927978_[a-z0-9]{5}$/);
      expect(WEBSEA_NONCE_RE.test(n)).toBe(true);
      seen.add(n);
    }
    expect(seen.size).toBeGreaterThan(195);
  });

  it('seconds are read back; malformed nonces give undefined', () => {
    expect(webseaNonceSeconds('1534927978_ab43c')).toBe(1_534_927_978);
    expect(webseaNonceSeconds('1534927978_ab43')).toBeUndefined();
    expect(webseaNonceSeconds('1534927978-ab43c')).toBeUndefined();
    expect(webseaNonceSeconds('now_ab43c')).toBeUndefined();
  });
});
