import { describe, expect, it } from 'vitest';
import { canConnect } from './broker/ports.js';
import { testBrokers } from './vitest.js';

describe('the shared test broker from global-setup.ts', () => {
  it('is provided to tests and accepts connections', async () => {
    const brokers = testBrokers();
    expect(brokers.length).toBeGreaterThan(0);
    const [host, port] = (brokers[0] as string).split(/:(?=\d+$)/);
    expect(await canConnect(Number(port), host)).toBe(true);
  });
});
