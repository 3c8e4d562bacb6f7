import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '@orderstream/kit';
import { kafkaEnvSchema } from './config.js';

describe('schema registry variables of kafkaEnvSchema', () => {
  it('default to no registry, register mode, FULL_TRANSITIVE, 30 s', () => {
    const c = parseConfig(kafkaEnvSchema, { KAFKA_BROKERS: '127.0.0.1:9092' });
    expect(c.ORDERSTREAM_SCHEMA_REGISTRY_URL).toBeUndefined();
    expect(c.ORDERSTREAM_SCHEMA_REGISTRY_MODE).toBe('register');
    expect(c.ORDERSTREAM_SCHEMA_COMPATIBILITY).toBe('FULL_TRANSITIVE');
    expect(c.ORDERSTREAM_SCHEMA_REGISTRY_WAIT_MS).toBe(30_000);
  });

  it('lists every wrong one at once, with credentials in the URL refused and secrets masked', () => {
    let error: unknown;
    try {
      parseConfig(kafkaEnvSchema, {
        KAFKA_BROKERS: '127.0.0.1:9092',
        ORDERSTREAM_SCHEMA_REGISTRY_URL: 'http://admin:hunter2@registry:8081',
        ORDERSTREAM_SCHEMA_REGISTRY_MODE: 'write',
        ORDERSTREAM_SCHEMA_COMPATIBILITY: 'STRICT',
        ORDERSTREAM_SCHEMA_REGISTRY_WAIT_MS: '-1',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = (error as ConfigError).message;
    for (const name of ['ORDERSTREAM_SCHEMA_REGISTRY_URL', 'ORDERSTREAM_SCHEMA_REGISTRY_MODE', 'ORDERSTREAM_SCHEMA_COMPATIBILITY', 'ORDERSTREAM_SCHEMA_REGISTRY_WAIT_MS']) {
      expect(text).toContain(name);
    }
    expect(text).not.toContain('hunter2');
  });

  it('keeps auth as secrets', () => {
    const c = parseConfig(kafkaEnvSchema, { KAFKA_BROKERS: '127.0.0.1:9092', ORDERSTREAM_SCHEMA_REGISTRY_BASIC_AUTH: 'u:p4ss' });
    expect(String(c.ORDERSTREAM_SCHEMA_REGISTRY_BASIC_AUTH)).toBe('[redacted]');
    expect(c.ORDERSTREAM_SCHEMA_REGISTRY_BASIC_AUTH?.reveal()).toBe('u:p4ss');
  });
});
