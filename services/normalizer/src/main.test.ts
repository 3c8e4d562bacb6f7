/**
 * The built service with bad configuration: one list of every problem on stderr, no stack trace, exit 2, nothing
 * connected. With a broker that does not answer: a bounded, logged retry, then one line and exit 69.
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

describe('normalizer start', () => {
  it('with no environment: the one missing variable, exit 2, no stack trace', () => {
    const r = run({});
    expect(r.stderr).toBe('normalizer: invalid configuration (1 problem):\n  - KAFKA_BROKERS: is required (comma-separated host:port list)\n');
    expect(r.stdout).toBe('');
    expect(r.status).toBe(2);
  });

  it('lists every problem of the environment and the reference data file at once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'normalizer-config-'));
    const reference = join(dir, 'reference.json');
    writeFileSync(reference, JSON.stringify({ xt: { btc_usdt: { contractSize: 'lots', extra: 1 } } }));
    const r = run({
      KAFKA_BROKERS: 'kafka:99999',
      ORDERSTREAM_RAW_PARTITIONS: '0',
      ORDERSTREAM_ORDER_PARTITIONS: 'three',
      ORDERSTREAM_SESSION_TIMEOUT_MS: '5000',
      LOG_LEVEL: 'loud',
      REFERENCE_DATA_FILE: reference,
    });
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('normalizer: invalid configuration (7 problems):');
    expect(lines.slice(1)).toEqual([
      '  - KAFKA_BROKERS: must be a comma-separated list of host:port with ports 1..65535 ("kafka:99999" has a port outside 1..65535), got "kafka:99999"',
      '  - ORDERSTREAM_RAW_PARTITIONS: must be an integer between 1 and 1000, got "0"',
      '  - ORDERSTREAM_ORDER_PARTITIONS: must be an integer between 1 and 1000, got "three"',
      '  - LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      '  - ORDERSTREAM_SESSION_TIMEOUT_MS: must be an integer between 6000 and 300000, got "5000"',
      expect.stringMatching(/^ {2}- reference data file .*reference\.json: xt\.btc_usdt\.contractSize: must be a decimal string/),
      expect.stringMatching(/^ {2}- reference data file .*reference\.json: xt\.btc_usdt: .*extra/),
    ]);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.status).toBe(2);
  });

  it('a broker that does not answer: a bounded retry in a few log lines, then one line and exit 69', () => {
    const started = Date.now();
    const r = run({ KAFKA_BROKERS: '127.0.0.1:9', ORDERSTREAM_BROKER_WAIT_MS: '2500', LOG_LEVEL: 'info' });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(r.stderr).toMatch(/^normalizer: \[KAFKA_UNAVAILABLE\] cannot reach Kafka at 127\.0\.0\.1:9 \(\d+ attempts in [\d.]+ s, ORDERSTREAM_BROKER_WAIT_MS=2500\): .*ECONNREFUSED.*\n$/);
    const logLines = r.stdout.trim().split('\n');
    expect(logLines.length).toBeLessThanOrEqual(4);
    for (const line of logLines) expect(JSON.parse(line)).toMatchObject({ level: 40, msg: 'Kafka not reachable yet; retrying' });
    expect(r.status).toBe(69);
  });
});
