import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, Secret } from '@orderstream/kit';
import { loadReferenceData, XT_SIM_INSTRUMENTS } from '@orderstream/venues';
import { parseAccounts } from './config.js';

const example = (name: string) => fileURLToPath(new URL(`../examples/${name}`, import.meta.url));
const xtConfig = { restUrl: 'http://127.0.0.1:1', wsUrl: 'ws://127.0.0.1:1/ws/user', apiKey: { env: 'K' }, apiSecret: { env: 'S' } };

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('collector accounts file', () => {
  it('parses the docker-compose example, reading secrets from the environment', () => {
    const json: unknown = JSON.parse(readFileSync(example('accounts.compose.json'), 'utf8'));
    const [spec] = parseAccounts(json, { XT_MAIN_API_KEY: 'k', XT_MAIN_API_SECRET: 's' });
    expect(spec?.venue).toBe('xt');
    const config = spec?.config as { apiKey: Secret; apiSecret: Secret };
    expect(config.apiKey).toBeInstanceOf(Secret);
    expect(config.apiSecret.reveal()).toBe('s');
    expect(JSON.stringify(spec)).not.toContain('"s"');
  });

  it('lists every problem at once', () => {
    const problems = problemsOf(() =>
      parseAccounts(
        {
          accounts: [
            { venue: 'xt', account: 'a', config: xtConfig },
            { venue: 'mtgox', account: 'b', config: {} },
            { venue: 'xt', account: 'c', config: { ...xtConfig, pingIntervalMs: 45_000 } },
            { venue: 'xt', account: 'a', config: { ...xtConfig, apiKey: { env: 'OTHER' } } },
          ],
        },
        { K: 'k', S: 's' },
      ),
    );
    expect(problems.join('\n')).toMatch(/accounts\[1\]\.venue: unknown venue "mtgox" \(known: xt/);
    expect(problems.join('\n')).toMatch(/accounts\[2\]\.config\.pingIntervalMs/);
    expect(problems.join('\n')).toMatch(/accounts\[3\]: xt\|a is listed twice/);
    expect(problems.join('\n')).toMatch(/accounts\[3\]\.config\.apiKey: environment variable OTHER is not set/);
  });

  it('rejects an empty account list', () => {
    expect(problemsOf(() => parseAccounts({ accounts: [] })).join()).toMatch(/at least one account/);
  });
});

describe('example reference data', () => {
  it('matches the XT simulator instruments', () => {
    const reference = loadReferenceData(example('reference.json'));
    expect(reference).toEqual({ xt: Object.fromEntries(XT_SIM_INSTRUMENTS.map((i) => [i.symbol, { contractSize: i.contractSize }])) });
  });

  it('reports a malformed file with its path', () => {
    expect(() => loadReferenceData(example('accounts.compose.json'))).toThrow(ConfigError);
  });
});
