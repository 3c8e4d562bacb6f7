import { describe, expect, it } from 'vitest';
import kafkajs from 'kafkajs';
import { createLogger } from '@orderstream/kit';
import { pinoLogCreator, waitForBrokers } from './client.js';

const { logLevel } = kafkajs;

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ name: 't', level: 'debug', destination: { write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>) } });
  return { logger, lines };
}

describe('kafkajs log lines', () => {
  it('the same error is logged at its level at most once per 10 s; repeats go to debug and are counted', () => {
    const { logger, lines } = capture();
    let t = 0;
    const log = pinoLogCreator(logger, () => t)(logLevel.ERROR);
    const entry = (retry: number) => ({ namespace: 'Connection', level: logLevel.ERROR, label: 'ERROR', log: { timestamp: '', message: `Connection error: connect ECONNREFUSED 127.0.0.1:9 (retry ${retry})` } });
    for (let i = 0; i < 8; i++) {
      log(entry(i));
      t += 1_000;
    }
    t = 12_000;
    log(entry(9));
    const errors = lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(2);
    expect(errors[1]).toMatchObject({ repeatedSinceLastLine: 7 });
    expect(lines.filter((l) => l.level === 20)).toHaveLength(7);
  });
});

describe('waitForBrokers', () => {
  it('a broker that does not answer: one warn line per attempt, then KAFKA_UNAVAILABLE with the reason, within the bound', async () => {
    const { logger, lines } = capture();
    const started = Date.now();
    const error = await waitForBrokers({ brokers: ['127.0.0.1:9'], clientId: 't', logger, timeoutMs: 1_500 }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(6_000);
    expect(error).toMatchObject({ code: 'KAFKA_UNAVAILABLE', retriable: true });
    expect(String((error as Error).message)).toMatch(/^cannot reach Kafka at 127\.0\.0\.1:9 \(\d+ attempts in [\d.]+ s, ORDERSTREAM_BROKER_WAIT_MS=1500\): .*ECONNREFUSED/);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(2);
    for (const l of lines) expect(l).toMatchObject({ level: 40, msg: 'Kafka not reachable yet; retrying' });
  });
});
