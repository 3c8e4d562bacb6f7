import { describe, expect, it } from 'vitest';
import { dockerEnvName, randomClusterId, renderServerProperties, toDockerEnv, TEST_BROKER_SETTINGS } from './settings.js';

function parse(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.indexOf('=');
    map.set(line.slice(0, i), line.slice(i + 1));
  }
  return map;
}

describe('renderServerProperties', () => {
  const props = parse(renderServerProperties({ port: 40001, controllerPort: 40002, logDir: '/tmp/x/kraft-logs' }));

  it('is a single-node KRaft combined broker with static voters, bound to 127.0.0.1 only', () => {
    expect(props.get('process.roles')).toBe('broker,controller');
    expect(props.get('controller.quorum.voters')).toBe('1@127.0.0.1:40002');
    expect(props.get('listeners')).toBe('PLAINTEXT://127.0.0.1:40001,CONTROLLER://127.0.0.1:40002');
    expect(props.get('advertised.listeners')).toBe('PLAINTEXT://127.0.0.1:40001');
    expect(props.get('log.dirs')).toBe('/tmp/x/kraft-logs');
    expect(props.has('controller.quorum.bootstrap.servers')).toBe(false);
  });

  it('has single-replica internal topics and the fast-test settings', () => {
    for (const key of [
      'offsets.topic.replication.factor',
      'offsets.topic.num.partitions',
      'transaction.state.log.replication.factor',
      'transaction.state.log.min.isr',
      'transaction.state.log.num.partitions',
    ]) {
      expect(props.get(key), key).toBe('1');
    }
    expect(props.get('group.initial.rebalance.delay.ms')).toBe('0');
    expect(props.get('auto.create.topics.enable')).toBe('false');
    expect(props.get('log.cleaner.backoff.ms')).toBe('200');
    expect(props.get('num.network.threads')).toBe('2');
    // Kafka requires more than 1 MiB per cleaner thread; the default 128 MiB would sit on a 512 MiB heap.
    expect(Number(props.get('log.cleaner.dedupe.buffer.size'))).toBeGreaterThan(1024 * 1024);
    expect(Number(props.get('log.cleaner.dedupe.buffer.size'))).toBeLessThanOrEqual(16 * 1024 * 1024);
  });

  it('lets overrides win and escapes backslashes', () => {
    const text = renderServerProperties({
      port: 1,
      controllerPort: 2,
      logDir: 'C:\\kafka\\data',
      overrides: { 'auto.create.topics.enable': true },
    });
    const p = parse(text);
    expect(p.get('auto.create.topics.enable')).toBe('true');
    expect(p.get('log.dirs')).toBe('C:\\\\kafka\\\\data');
  });
});

describe('docker env names', () => {
  it('follow the apache/kafka image rules', () => {
    expect(dockerEnvName('offsets.topic.replication.factor')).toBe('KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR');
    expect(dockerEnvName('a_b-c.d')).toBe('KAFKA_A__B___C_D');
    expect(toDockerEnv(TEST_BROKER_SETTINGS).KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS).toBe('0');
  });
});

describe('randomClusterId', () => {
  it('is 22 base64url characters that decode to 16 bytes and never start with "-"', () => {
    for (let i = 0; i < 200; i++) {
      const id = randomClusterId();
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(16);
    }
  });
});
