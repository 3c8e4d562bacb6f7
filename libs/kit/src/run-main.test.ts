import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AppError, ConfigError } from './errors.js';
import { describeFatal, EXIT_CODES, exitCodeOf } from './run-main.js';

describe('exit codes', () => {
  it('the README table lists exactly the codes the code uses', () => {
    const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
    const section = readme.slice(readme.indexOf('### Exit codes'));
    const table = section.slice(0, section.indexOf('\n\n', section.indexOf('| code |')));
    const documented = [...table.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
    expect(documented.sort((a, b) => a - b)).toEqual([...new Set(Object.values(EXIT_CODES))].sort((a, b) => a - b));
  });

  it('configuration problems: the list, no stack trace, exit 2; known start failures: one line', () => {
    const config = new ConfigError(['A: must be an integer between 1 and 2, got "3"', 'B: is required']);
    expect(describeFatal('svc', config)).toBe('svc: invalid configuration (2 problems):\n  - A: must be an integer between 1 and 2, got "3"\n  - B: is required\n');
    expect(exitCodeOf(config)).toBe(2);
    const down = new AppError('KAFKA_UNAVAILABLE', 'cannot reach Kafka at k:9092 (3 attempts in 2 s): connect ECONNREFUSED');
    expect(describeFatal('svc', down)).toBe('svc: [KAFKA_UNAVAILABLE] cannot reach Kafka at k:9092 (3 attempts in 2 s): connect ECONNREFUSED\n');
    expect(exitCodeOf(down)).toBe(69);
    expect(exitCodeOf(new AppError('HTTP_LISTEN_FAILED', 'port in use'))).toBe(71);
  });

  it('a bug keeps its stack trace and exits 1; URL credentials are masked in every message', () => {
    const bug = new TypeError('cannot read x of undefined (http://u:SECRET-1@h/)');
    const text = describeFatal('svc', bug);
    expect(text).toMatch(/^svc: unexpected failure: TypeError: cannot read x of undefined/);
    expect(text).toMatch(/\n\s+at /);
    expect(text).not.toMatch(/SECRET-1/);
    expect(exitCodeOf(bug)).toBe(1);
  });
});
