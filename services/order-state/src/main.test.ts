/**
 * The built service with bad configuration: one list of every problem on stderr, no stack trace, exit 2, nothing
 * connected. A query API port in use: one line, exit 71, before Kafka is touched.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

function run(env: Record<string, string>, timeoutMs = 20_000) {
  if (!existsSync(main)) throw new Error(`${main} is missing: build first (npx turbo run build)`);
  const r = spawnSync(process.execPath, [main], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('order-state start', () => {
  let holder: Server | undefined;
  afterAll(() => new Promise<void>((resolve) => (holder ? holder.close(() => resolve()) : resolve())));

  it('lists every problem at once, with what is allowed and what it got; exit 2, no stack trace', () => {
    const r = run({
      KAFKA_BROKERS: '127.0.0.1:9092',
      ORDER_STATE_HTTP_PORT: '99999',
      ORDER_STATE_TERMINAL_RETENTION_MS: '-5',
      ORDERSTREAM_RAW_PARTITIONS: '0',
      ORDERSTREAM_REPLICATION_FACTOR: '1.5',
      ORDER_STATE_HTTP_HOST: 'bad host!',
      ORDER_STATE_GROUP_ID: '',
    });
    expect(r.stderr).toBe(
      [
        'order-state: invalid configuration (5 problems):',
        '  - ORDERSTREAM_RAW_PARTITIONS: must be an integer between 1 and 1000, got "0"',
        '  - ORDERSTREAM_REPLICATION_FACTOR: must be an integer between 1 and 10, got "1.5"',
        '  - ORDER_STATE_HTTP_PORT: must be an integer between 0 and 65535, got "99999"',
        '  - ORDER_STATE_HTTP_HOST: must be an IP address or a host name (letters, digits, \'-\' and \'.\'), got "bad host!"',
        '  - ORDER_STATE_TERMINAL_RETENTION_MS: must be an integer between 0 and 315360000000, got "-5"',
        '',
      ].join('\n'),
    );
    expect(r.stdout).toBe('');
    expect(r.status).toBe(2);
  });

  it('a query API port in use: one line naming the address, exit 71, Kafka never tried', async () => {
    holder = createServer();
    const port = await new Promise<number>((resolve) => holder?.listen(0, '127.0.0.1', () => resolve((holder?.address() as { port: number }).port)));
    const r = run({ KAFKA_BROKERS: '127.0.0.1:9', ORDER_STATE_HTTP_PORT: String(port), LOG_LEVEL: 'info' });
    expect(r.stderr).toBe(
      `order-state: [HTTP_LISTEN_FAILED] query API cannot listen on 127.0.0.1:${port}: the port is already in use (another process listens on it) (EADDRINUSE); set ORDER_STATE_HTTP_HOST / ORDER_STATE_HTTP_PORT\n`,
    );
    expect(r.stdout).not.toMatch(/Kafka/);
    expect(r.status).toBe(71);
  });
});
