/**
 * The built `orderstream` command with bad flags and environment: one list of every problem, no stack trace, exit 2;
 * a broker that does not answer: one line, exit 69.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

function run(args: string[], env: Record<string, string> = {}) {
  if (!existsSync(main)) throw new Error(`${main} is missing: build first (npx turbo run build)`);
  const r = spawnSync(process.execPath, [main, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 20_000, input: '' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('orderstream command configuration', () => {
  it('simulate: flags and environment in one list', () => {
    const r = run(['simulate', '--venue', 'mtgox', '--port', '70000', '--host', 'a b'], { SIM_LIFECYCLES_PER_ROUND: '0' });
    expect(r.stderr).toBe(
      [
        'orderstream: invalid configuration (4 problems):',
        '  - --port: must be an integer between 0 and 65535, got "70000"',
        '  - --host: must be an IP address or a host name (letters, digits, \'-\' and \'.\'), got "a b"',
        '  - --venue: must be one of: xt, websea, loopring, bsx, binance-usdm, got "mtgox"',
        '  - SIM_LIFECYCLES_PER_ROUND: must be an integer between 1 and 1000, got "0"',
        '',
      ].join('\n'),
    );
    expect(r.status).toBe(2);
  });

  it('normalize: an unknown venue and an unreadable reference file together', () => {
    const r = run(['normalize', '--venue', 'mtgox', '--reference', '/nonexistent/reference.json']);
    expect(r.stderr).toMatch(/^orderstream: invalid configuration \(2 problems\):\n {2}- --venue: must be a known venue, got "mtgox" \(known: .*\)\n {2}- reference data file \/nonexistent\/reference\.json: ENOENT/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.status).toBe(2);
  });

  it('ensure-topics: every environment problem; then a broker that does not answer gives one line and exit 69', () => {
    const bad = run(['ensure-topics'], { KAFKA_BROKERS: 'kafka', ORDERSTREAM_REPLICATION_FACTOR: '0' });
    expect(bad.stderr).toBe(
      'orderstream: invalid configuration (2 problems):\n' +
        '  - KAFKA_BROKERS: must be a comma-separated list of host:port with ports 1..65535 ("kafka" is not host:port), got "kafka"\n' +
        '  - ORDERSTREAM_REPLICATION_FACTOR: must be an integer between 1 and 10, got "0"\n',
    );
    expect(bad.status).toBe(2);
    const down = run(['ensure-topics'], { KAFKA_BROKERS: '127.0.0.1:9', ORDERSTREAM_BROKER_WAIT_MS: '1000' });
    expect(down.stderr).toMatch(/^orderstream: \[KAFKA_UNAVAILABLE\] cannot reach Kafka at 127\.0\.0\.1:9 \(.*\): .*ECONNREFUSED.*\n$/);
    expect(down.status).toBe(69);
  });
});
