/**
 * The built collector with a bad environment and a bad accounts file: one list of every problem of both, every
 * account's, on stderr; secrets masked; no stack trace; exit 2; nothing connected.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

function run(env: Record<string, string>, timeoutMs = 20_000) {
  if (!existsSync(main)) throw new Error(`${main} is missing: build first (npx turbo run build)`);
  const r = spawnSync(process.execPath, [main], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const xt = (over: Record<string, unknown> = {}) => ({
  restUrl: 'https://fapi.xt.com', wsUrl: 'wss://fstream.xt.com/ws/user', apiKey: 'SECRET-cfg-key-0001', apiSecret: 'SECRET-cfg-secret-0002', ...over,
});

describe('collector start', () => {
  it('environment and every account of the accounts file in one list; secrets masked; exit 2, no stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'collector-config-'));
    const file = join(dir, 'accounts.json');
    writeFileSync(
      file,
      JSON.stringify({
        accounts: [
          { venue: 'mtgox', account: 'a', config: {} },
          { venue: 'xt', account: 'main', config: xt() },
          { venue: 'xt', account: 'main', config: xt() },
          { venue: 'xt', account: 'urls', config: xt({ restUrl: 'ftp://fapi.xt.com', wsUrl: 'not a url' }) },
          { venue: 'websea', account: 'spot', config: { wsUrl: 'wss://oapi.websea.com/ws/v1/spot/order', token: { env: 'WS_TOKEN' }, secretKey: { env: 'WS_SECRET' } } },
          { venue: 'xt', account: 'creds', config: xt({ restUrl: 'https://user:SECRET-cfg-url-0003@fapi.xt.com' }) },
          { venue: 'xt', account: 'bad name!', config: xt({ pingIntervalMs: 45_000, apiSecret: '' }), reconcile: { maxAttempts: 0 } },
        ],
      }),
    );
    const r = run({ KAFKA_BROKERS: 'kafka', ORDERSTREAM_RAW_PARTITIONS: '0', COLLECTOR_ACCOUNTS_FILE: file });
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toEqual([
      'collector: invalid configuration (13 problems):',
      '  - KAFKA_BROKERS: must be a comma-separated list of host:port with ports 1..65535 ("kafka" is not host:port), got "kafka"',
      '  - ORDERSTREAM_RAW_PARTITIONS: must be an integer between 1 and 1000, got "0"',
      '  - accounts[0].venue: unknown venue "mtgox" (known: xt, binance-usdm, bsx, loopring, websea)',
      '  - accounts[2]: xt|main is listed twice',
      '  - accounts[3].config.restUrl: must be an http(s) URL, got "ftp://fapi.xt.com"',
      '  - accounts[3].config.wsUrl: must be an ws(s) URL, got "not a url"',
      '  - accounts[4].config.token: environment variable WS_TOKEN is not set',
      '  - accounts[4].config.secretKey: environment variable WS_SECRET is not set',
      expect.stringMatching(/^ {2}- accounts\[5\]\.config\.restUrl: must not carry credentials in the URL .*, got "https:\/\/\[redacted\]@fapi\.xt\.com"$/),
      '  - accounts[6].account: may only hold letters, digits, . _ -, got "bad name!"',
      expect.stringMatching(/^ {2}- accounts\[6\]\.reconcile\.maxAttempts: .*/),
      expect.stringMatching(/^ {2}- accounts\[6\]\.config\.apiSecret: must not be empty/),
      expect.stringMatching(/^ {2}- accounts\[6\]\.config\.pingIntervalMs: must be below 30000/),
    ]);
    expect(r.stderr).not.toMatch(/SECRET-cfg/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stdout).toBe('');
    expect(r.status).toBe(2);
  });

  it('an unreadable accounts file is reported with the environment\'s problems', () => {
    const r = run({ KAFKA_BROKERS: '127.0.0.1:9092', LOG_LEVEL: 'chatty', COLLECTOR_ACCOUNTS_FILE: '/nonexistent/accounts.json' });
    expect(r.stderr).toBe(
      'collector: invalid configuration (2 problems):\n' +
        '  - LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent, got "chatty"\n' +
        '  - COLLECTOR_ACCOUNTS_FILE: cannot read "/nonexistent/accounts.json": ENOENT: no such file or directory, open \'/nonexistent/accounts.json\'\n',
    );
    expect(r.status).toBe(2);
  });
});
