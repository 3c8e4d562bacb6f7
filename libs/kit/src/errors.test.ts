import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AppError, ERROR_CODES, FrameError } from './errors.js';
import { retry } from './retry.js';

describe('error codes', () => {
  it('every code is documented in docs/errors.md, and every documented code exists', () => {
    const doc = readFileSync(fileURLToPath(new URL('../../../docs/errors.md', import.meta.url)), 'utf8');
    const documented = [...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(new Set(documented)).toEqual(new Set(ERROR_CODES));
  });

  it('subclasses keep their name, code and cause', () => {
    const cause = new Error('root');
    const e = new FrameError('FRAME_INVALID', 'bad', { cause });
    expect(e.name).toBe('FrameError');
    expect(e.code).toBe('FRAME_INVALID');
    expect(e.cause).toBe(cause);
    expect(e.retriable).toBe(false);
  });
});

describe('retry', () => {
  it('retries retriable AppErrors and gives up after the limit', async () => {
    let calls = 0;
    await expect(
      retry(async () => {
        calls++;
        throw new AppError('KAFKA_UNAVAILABLE', 'down', { retriable: true });
      }, { retries: 2, initialMs: 1, maxMs: 2 }),
    ).rejects.toThrow('down');
    expect(calls).toBe(3);
  });

  it('never retries programming errors', async () => {
    let calls = 0;
    await expect(
      retry(async () => {
        calls++;
        throw new TypeError('bug');
      }, { retries: 5, initialMs: 1 }),
    ).rejects.toThrow('bug');
    expect(calls).toBe(1);
  });
});
