import { describe, expect, it } from 'vitest';
import { uniqueName, waitFor } from './wait.js';

describe('waitFor', () => {
  it('resolves with the first value that is not undefined or false, keeping 0 and null', async () => {
    let calls = 0;
    const value = await waitFor(() => (++calls < 3 ? undefined : 0), { intervalMs: 1 });
    expect(value).toBe(0);
    expect(calls).toBe(3);
    await expect(waitFor(() => null, { timeoutMs: 50 })).resolves.toBeNull();
  });

  it('treats a throwing probe as "not yet" and names the description and last error on timeout', async () => {
    let calls = 0;
    const attempt = waitFor(
      async () => {
        calls += 1;
        throw new Error(`boom ${calls}`);
      },
      { timeoutMs: 150, intervalMs: 10, description: 'topic orders.raw.v1 to exist' },
    );
    await expect(attempt).rejects.toThrow(/timed out after 150 ms waiting for topic orders\.raw\.v1 to exist/);
    await expect(attempt).rejects.toThrow(/last probe error: boom \d+/);
    const error: unknown = await attempt.catch((e: unknown) => e);
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it('does not let a probe that never settles hold it past the deadline', async () => {
    const started = Date.now();
    const attempt = waitFor(() => new Promise<never>(() => undefined), { timeoutMs: 100, description: 'a hung probe' });
    await expect(attempt).rejects.toThrow(/a hung probe.*never settled/);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('keeps polling false results until true', async () => {
    let n = 0;
    await expect(waitFor(() => ++n >= 5, { intervalMs: 1 })).resolves.toBe(true);
    expect(n).toBe(5);
  });
});

describe('uniqueName', () => {
  it('gives distinct names made of legal Kafka topic characters', () => {
    const names = new Set(Array.from({ length: 1_000 }, () => uniqueName('orders raw/v1')));
    expect(names.size).toBe(1_000);
    for (const name of names) {
      expect(name).toMatch(/^orders-raw-v1-[a-zA-Z0-9._-]+$/);
      expect(name.length).toBeLessThanOrEqual(249);
    }
  });
});
