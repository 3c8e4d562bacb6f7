import { describe, expect, it } from 'vitest';
import { inspect } from 'node:util';
import { z } from 'zod';
import {
  brokerList, ConfigProblems, findUrlCredentials, host, intFromEnv, logLevel, parseConfig, redactUrlCredentials, secretString, showValue,
  urlWithoutCredentials,
} from './config.js';
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
      expect(problems.join('\n')).toMatch(/KAFKA_BROKERS: must be a comma-separated list of host:port .*"localhost" is not host:port/);
      expect(problems.join('\n')).toMatch(/API_SECRET: is required/);
      expect(problems.join('\n')).toMatch(/PORT: must be an integer between 1 and 65535, got "70000"/);
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

describe('precise messages', () => {
  const env = z.object({
    PORT: intFromEnv(0, 65_535).default(8080),
    RETENTION_MS: intFromEnv(0, 1000).default(0),
    PARTITIONS: intFromEnv(1, 1000).default(3),
    HOST: host().default('127.0.0.1'),
    LOG_LEVEL: logLevel(),
    BROKERS: brokerList(),
  });

  it('says what is allowed and what it got, for every field at once', () => {
    const problems = new ConfigProblems();
    problems.check(env, { PORT: '99999', RETENTION_MS: '-5', PARTITIONS: '0', HOST: 'bad host!', LOG_LEVEL: 'loud', BROKERS: 'a:1,b,c:0' });
    expect(problems.list).toEqual([
      'PORT: must be an integer between 0 and 65535, got "99999"',
      'RETENTION_MS: must be an integer between 0 and 1000, got "-5"',
      'PARTITIONS: must be an integer between 1 and 1000, got "0"',
      'HOST: must be an IP address or a host name (letters, digits, \'-\' and \'.\'), got "bad host!"',
      'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      'BROKERS: must be a comma-separated list of host:port with ports 1..65535 ("b" is not host:port; "c:0" has a port outside 1..65535), got "a:1,b,c:0"',
    ]);
  });

  it('rejects text, fractions and empty numbers, accepts numbers and defaults', () => {
    for (const bad of ['abc', '1.5', '', '0x10', '1e3']) {
      expect(() => parseConfig(env, { PORT: bad, BROKERS: 'a:1' })).toThrow(/PORT: must be an integer between 0 and 65535, got/);
    }
    expect(parseConfig(env, { PORT: ' 8081 ', BROKERS: 'a:1' })).toMatchObject({ PORT: 8081, RETENTION_MS: 0, PARTITIONS: 3, HOST: '127.0.0.1', BROKERS: ['a:1'] });
  });

  it('accepts IPv4, IPv6 and host names as hosts', () => {
    for (const ok of ['127.0.0.1', '::1', '0.0.0.0', 'localhost', 'order-state.internal', 'a.b.c.']) expect(host().safeParse(ok).success).toBe(true);
    for (const bad of ['', 'bad host', 'http://x', '-x.com', 'x..y', 'a_b', '[::1]']) expect(host().safeParse(bad).success).toBe(false);
    expect(brokerList().safeParse('[::1]:9092,kafka-1:9092').success).toBe(true);
  });
});

describe('secrets in problems and URLs', () => {
  it('masks secret-named values and URL credentials', () => {
    expect(showValue('apiSecret', 'SECRET-1')).toBe('[redacted]');
    expect(showValue('secretKey', 'SECRET-1')).toBe('[redacted]');
    expect(showValue('token', 'SECRET-1')).toBe('[redacted]');
    expect(showValue('wsUrl', 'wss://u:SECRET-2@h/x')).toBe('"wss://[redacted]@h/x"');
    expect(redactUrlCredentials('GET http://u:SECRET-3@h:1/p and https://h/ok')).toBe('GET http://[redacted]@h:1/p and https://h/ok');
    expect(redactUrlCredentials('wss://h/ws?wsApiKey=SECRET-8&market=LRC-ETH&signature=SECRET-9')).toBe('wss://h/ws?wsApiKey=[redacted]&market=LRC-ETH&signature=[redacted]');

    const problems = new ConfigProblems();
    problems.check(z.object({ apiSecret: z.string().min(99), wsUrl: z.string().startsWith('ws:') }), { apiSecret: 'SECRET-4', wsUrl: 'http://u:SECRET-5@h' }, 'accounts[0].config');
    expect(problems.list.join('\n')).not.toMatch(/SECRET-/);
    expect(problems.list).toHaveLength(2);
  });

  it('finds credentials in any URL of a config, and the URL type refuses them', () => {
    const config = { restUrl: 'https://h', nested: { urls: ['wss://h/ws', 'http://user:SECRET-6@h'] }, ws: 'ws://onlyuser@h', apiKey: new Secret('http://x:y@z') };
    expect(findUrlCredentials(config)).toEqual(['nested.urls[1]', 'ws']);
    const result = urlWithoutCredentials(['https:', 'http:']).safeParse('https://user:SECRET-7@fapi.xt.com');
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toMatch(/must not carry credentials in the URL/);
    expect(JSON.stringify(result.error?.issues)).not.toMatch(/SECRET-7/);
    expect(urlWithoutCredentials(['https:']).safeParse('https://fapi.xt.com').success).toBe(true);
  });
});
