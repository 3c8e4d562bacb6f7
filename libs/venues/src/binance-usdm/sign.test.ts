import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { binanceUsdmFixture } from './fixtures.js';
import {
  binanceUsdmOrderStatusRequest,
  binanceUsdmSignaturePayload,
  createBinanceUsdmSigner,
  ed25519PrivateKey,
  ed25519PublicKey,
  ed25519SignBase64,
  hmacSha256Hex,
  verifyEd25519Base64,
  verifyHmacSha256Hex,
} from './sign.js';

/** RFC 8032 section 7.1 TEST 1 / TEST 2 secret keys (seeds) as PKCS#8 PEM: prefix 302e020100300506032b657004220420. */
function rfc8032Key(seedHex: string): string {
  const der = Buffer.from(`302e020100300506032b657004220420${seedHex}`, 'hex');
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }).toString();
}
const TEST1 = rfc8032Key('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
const TEST2 = rfc8032Key('4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb');

describe('signature payload (params sorted by name, signature left out, no URL encoding)', () => {
  it('reproduces the official spot WebSocket API HMAC example (the same signing rule, with its published secret)', () => {
    // developers.binance.com spot "WebSocket API → Request security → SIGNED request example (HMAC)"
    const params = {
      symbol: 'BTCUSDT',
      side: 'SELL',
      type: 'LIMIT',
      timeInForce: 'GTC',
      quantity: '0.01000000',
      price: '52000.00',
      newOrderRespType: 'ACK',
      recvWindow: 100,
      timestamp: 1645423376532,
      apiKey: 'vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A',
      signature: 'ignored',
    };
    const payload = binanceUsdmSignaturePayload(params);
    expect(payload).toBe(
      'apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A&newOrderRespType=ACK&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT',
    );
    expect(hmacSha256Hex('NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j', payload)).toBe(
      'cc15477742bd704c29492d96c7ead9414dfd8e0ec4a00f947bb5bb454ddbd08a',
    );
  });

  it('builds the payload of the official order.status request example; its signature cannot be checked (secret unpublished)', () => {
    const doc = JSON.parse(binanceUsdmFixture('requests.jsonl', 'doc-request-example').text) as { params: Record<string, string | number> };
    expect(binanceUsdmSignaturePayload(doc.params)).toBe(
      'apiKey=HMOchcfii9ZRZnhjp2XjGXhsOBd6msAhKz9joQaWwZ7arcJTlD2hGPHQj1lGdTjR&orderId=328999071&symbol=BTCUSDT&timestamp=1703441060152',
    );
    expect(doc.params.signature).toMatch(/^[0-9a-f]{64}$/); // the shape of an HMAC-SHA256 hex signature
    // Neither published example secret (spot WS API, spot REST) reproduces it:
    for (const secret of ['NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j', '2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9']) {
      expect(hmacSha256Hex(secret, binanceUsdmSignaturePayload(doc.params))).not.toBe(doc.params.signature);
    }
  });

  it('sorts by code unit (upper case before lower case) and refuses unsafe JS numbers', () => {
    expect(binanceUsdmSignaturePayload({ b: 1, B: 2, a: true, orderId: { int: '9223372036854775807' } })).toBe('B=2&a=true&b=1&orderId=9223372036854775807');
    expect(() => binanceUsdmSignaturePayload({ orderId: 2 ** 53 + 2 })).toThrow(/not a safe integer/);
  });
});

describe('order.status request text', () => {
  const input = { id: 'os1-1', apiKey: 'sim-api-key', symbol: 'BTCUSDT', orderId: '9007199254740993', timestamp: 1_767_225_600_000, recvWindow: 5000 };

  it('HMAC: matches the independently computed vector (openssl dgst -sha256 -hmac) byte for byte', () => {
    const req = binanceUsdmOrderStatusRequest(input, createBinanceUsdmSigner({ apiSecret: 'sim-api-secret' }));
    expect(req.payload).toBe('apiKey=sim-api-key&orderId=9007199254740993&recvWindow=5000&symbol=BTCUSDT&timestamp=1767225600000');
    expect(req.signature).toBe('095463234f77e5b0152bc267f2ecca68819af0789f1c05cd02fe5e8294f28cd5');
    expect(req.text).toBe(binanceUsdmFixture('requests.jsonl', 'client-request-hmac-int64').text);
  });

  it('by clientOrderId: matches its openssl vector', () => {
    const req = binanceUsdmOrderStatusRequest(
      { id: 'os1-2', apiKey: 'sim-api-key', symbol: 'ETHUSDT', origClientOrderId: 'os-demo-2', timestamp: 1_767_225_600_000, recvWindow: 5000 },
      createBinanceUsdmSigner({ apiSecret: 'sim-api-secret' }),
    );
    expect(req.text).toBe(binanceUsdmFixture('requests.jsonl', 'client-request-hmac-client-id').text);
  });

  it('Ed25519: matches the signature openssl pkeyutl made with the RFC 8032 TEST 1 key', () => {
    const req = binanceUsdmOrderStatusRequest({ ...input, id: 'os1-3' }, createBinanceUsdmSigner({ ed25519PrivateKeyPem: TEST1 }));
    expect(req.text).toBe(binanceUsdmFixture('requests.jsonl', 'client-request-ed25519').text);
    expect(verifyEd25519Base64(createPublicKey(TEST1), req.payload, req.signature)).toBe(true);
  });

  it('writes orderId as a bare JSON integer with every digit (JSON.parse of the text loses them; the raw text does not)', () => {
    const req = binanceUsdmOrderStatusRequest(input, createBinanceUsdmSigner({ apiSecret: 's' }));
    expect(req.text).toContain('"orderId":9007199254740993,');
    expect(req.text).toContain('"timestamp":1767225600000');
    expect(req.text).toContain('"recvWindow":5000');
  });

  it('refuses a request without ids or with a non-int64 orderId', () => {
    const signer = createBinanceUsdmSigner({ apiSecret: 's' });
    expect(() => binanceUsdmOrderStatusRequest({ id: '1', apiKey: 'k', symbol: 'BTCUSDT', timestamp: 1 }, signer)).toThrow(/orderId or origClientOrderId/);
    expect(() => binanceUsdmOrderStatusRequest({ ...input, orderId: '9223372036854775808' }, signer)).toThrow(/int64/);
  });
});

describe('Ed25519 keys', () => {
  it('RFC 8032 TEST 1 and TEST 2 signatures', () => {
    const k1 = ed25519PrivateKey(TEST1);
    expect(Buffer.from(ed25519SignBase64(k1, ''), 'base64').toString('hex')).toBe(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    );
    const k2 = ed25519PrivateKey(TEST2);
    expect(Buffer.from(ed25519SignBase64(k2, 'r'), 'base64').toString('hex')).toBe(
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
    );
  });

  it('verification fails for another payload, another key, or garbage', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const sig = ed25519SignBase64(privateKey, 'a=1');
    const pub = ed25519PublicKey(publicKey.export({ format: 'pem', type: 'spki' }).toString());
    expect(verifyEd25519Base64(pub, 'a=1', sig)).toBe(true);
    expect(verifyEd25519Base64(pub, 'a=2', sig)).toBe(false);
    expect(verifyEd25519Base64(createPublicKey(TEST1), 'a=1', sig)).toBe(false);
    expect(verifyEd25519Base64(pub, 'a=1', 'not-base64!')).toBe(false);
  });

  it('refuses a non-Ed25519 or broken PEM with a message that does not echo the key', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(() => ed25519PrivateKey(rsa)).toThrow('expected an Ed25519 key, got rsa');
    let message = '';
    try {
      ed25519PrivateKey('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^not a PEM private key/);
    expect(message).not.toContain('AAAA');
  });
});

describe('HMAC verification', () => {
  it('is case-insensitive (Binance: HMAC signatures are not case-sensitive) and exact otherwise', () => {
    const sig = hmacSha256Hex('k', 'a=1');
    expect(verifyHmacSha256Hex('k', 'a=1', sig.toUpperCase())).toBe(true);
    expect(verifyHmacSha256Hex('k', 'a=2', sig)).toBe(false);
    expect(verifyHmacSha256Hex('k', 'a=1', sig.slice(1))).toBe(false);
  });
});
