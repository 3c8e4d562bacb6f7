import { describe, expect, it } from 'vitest';
import { inspect } from 'node:util';
import { z } from 'zod';
import { brokerList, intFromEnv, parseConfig, secretString } from './config.js';
import { ConfigError } from './errors.js';
import { createLogger } from './logger.js';
import { Secret } from './secret.js';

describe('parseConfig', () => {
  const schema = z.object({ KAFKA_BROKERS: brokerList(), API_SECRET: secretString(), PORT: intFromEnv(1, 65535) });

  it('lists every problem at once', () => {
    try {
      parseConfig(schema, { KAFKA_BROKERS: 'localhost', PORT: '70000' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const problems = (e as ConfigError).problems;
      expect(problems).toHaveLength(3);
      expect(problems.join('\n')).toMatch(/KAFKA_BROKERS: must be a comma-separated list of host:port/);
      expect(problems.join('\n')).toMatch(/API_SECRET: is required/);
      expect(problems.join('\n')).toMatch(/PORT:/);
      expect((e as ConfigError).code).toBe('CONFIG_INVALID');
    }
  });

  it('parses broker lists and wraps secrets', () => {
    const c = parseConfig(schema, { KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.1:9094', API_SECRET: 's3cr3t', PORT: '8080' });
    expect(c.KAFKA_BROKERS).toEqual(['127.0.0.1:9092', '127.0.0.1:9094']);
    expect(c.API_SECRET).toBeInstanceOf(Secret);
    expect(c.API_SECRET.reveal()).toBe('s3cr3t');
    expect(c.PORT).toBe(8080);
  });
});

describe('secrets never print', () => {
  it('in strings, JSON, inspect and log lines', () => {
    const s = new Secret('hunter2');
    expect(`${s}`).toBe('[redacted]');
    expect(JSON.stringify({ s })).toBe('{"s":"[redacted]"}');
    expect(inspect({ s })).not.toContain('hunter2');

    const lines: string[] = [];
    const logger = createLogger({ name: 't', destination: { write: (l: string) => lines.push(l) } });
    logger.info({ s, apiSecret: 'plain-secret', nested: { signature: 'abcdef', listenKey: 'LK123' } }, 'hello');
    const out = lines.join('');
    expect(out).toContain('hello');
    for (const leaked of ['hunter2', 'plain-secret', 'abcdef', 'LK123']) expect(out).not.toContain(leaked);
  });
});
