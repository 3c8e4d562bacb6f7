import { describe, expect, it } from 'vitest';
import { isDockerAvailable } from './docker.js';
import { parseBrokerList, startBroker } from './start.js';

describe('startBroker with KAFKA_BROKERS', () => {
  it('uses the listed brokers and starts nothing', async () => {
    const broker = await startBroker({ env: { KAFKA_BROKERS: ' 10.0.0.1:9092, kafka-2:19092 ,' } });
    expect(broker.kind).toBe('env');
    expect(broker.brokers).toEqual(['10.0.0.1:9092', 'kafka-2:19092']);
    await broker.stop();
    await broker.stop();
  });

  it('rejects entries without a port', () => {
    expect(() => parseBrokerList('localhost')).toThrow(/host:port/);
    expect(() => parseBrokerList(' , ')).toThrow(/host:port/);
    expect(parseBrokerList('[::1]:9092')).toEqual(['[::1]:9092']);
  });
});

describe('isDockerAvailable', () => {
  it('answers within its time bound', async () => {
    const started = Date.now();
    const answer = await isDockerAvailable({ timeoutMs: 1_000 });
    expect(typeof answer).toBe('boolean');
    expect(Date.now() - started).toBeLessThan(2_500);
  });
});
