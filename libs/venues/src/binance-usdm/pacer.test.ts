import { describe, expect, it } from 'vitest';
import { rateLimitWindowMs, WeightPacer, windowEnd } from './pacer.js';

function clock(start = 1_767_225_600_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const rl = (count: number, limit = 2400, interval = 'MINUTE', intervalNum = 1) => [{ rateLimitType: 'REQUEST_WEIGHT', interval, intervalNum, limit, count }];

describe('WeightPacer token bucket', () => {
  it('sends a burst, then at the steady rate = budget × (1 − margin) per minute', () => {
    const c = clock();
    const p = new WeightPacer({ budgetPerMinute: 1200, safetyMargin: 0.5, maxRequestsPerSecond: 1000, burst: 3 }, c.now);
    expect(p.steadyRatePerMinute).toBeCloseTo(600);
    let sent = 0;
    for (let i = 0; i < 10; i++) if (p.tryTake()) sent++;
    expect(sent).toBe(3);
    // 600/min = one per 100 ms
    c.advance(99);
    expect(p.tryTake()).toBe(false);
    c.advance(1);
    expect(p.tryTake()).toBe(true);
    expect(p.waitMs()).toBe(100);
  });

  it('over any minute never exceeds burst + steady rate × 60 s, which stays below the budget', () => {
    const c = clock();
    const p = new WeightPacer({ budgetPerMinute: 2400, safetyMargin: 0.25, maxRequestsPerSecond: 1000, burst: 5 }, c.now);
    const times: number[] = [];
    for (let ms = 0; ms < 180_000; ms += 7) {
      while (p.tryTake()) times.push(c.now());
      c.advance(7);
    }
    let max = 0;
    for (let i = 0, j = 0; j < times.length; j++) {
      while ((times[j] as number) - (times[i] as number) >= 60_000) i++;
      max = Math.max(max, j - i + 1);
    }
    expect(max).toBeLessThanOrEqual(5 + 1800);
    expect(max).toBeGreaterThan(1790);
    expect(max).toBeLessThan(2400);
  });

  it('maxRequestsPerSecond caps the rate when it is lower than the budget', () => {
    const p = new WeightPacer({ budgetPerMinute: 2400, safetyMargin: 0.25, maxRequestsPerSecond: 10, burst: 5 }, clock().now);
    expect(p.steadyRatePerMinute).toBeCloseTo(600);
  });
});

describe('WeightPacer feedback from rateLimits', () => {
  it('holds until the window ends once count + in flight reach limit × (1 − margin)', () => {
    const c = clock(1_767_225_630_000); // mid-minute
    const p = new WeightPacer({ budgetPerMinute: 1_000_000, safetyMargin: 0.25, maxRequestsPerSecond: 1000, burst: 100 }, c.now);
    p.noteRateLimits(rl(1790), 9); // 1799 < 1800
    expect(p.hold).toBeUndefined();
    expect(p.tryTake()).toBe(true); // 1790 + 9 + 1 = 1800: still allowed
    expect(p.tryTake()).toBe(false); // would be 1801
    expect(p.hold?.until).toBe(1_767_225_660_000);
    expect(p.hold?.reason).toContain('REQUEST_WEIGHT');
    c.advance(29_999);
    expect(p.tryTake()).toBe(false);
    c.advance(1); // the next minute: the venue's count started over
    expect(p.tryTake()).toBe(true);
  });

  it('a report at the threshold holds at once; other limit types are ignored; the window length comes from interval × intervalNum', () => {
    const c = clock(1_767_225_600_500);
    const p = new WeightPacer({ budgetPerMinute: 1_000_000, safetyMargin: 0.25, maxRequestsPerSecond: 1000, burst: 100 }, c.now);
    p.noteRateLimits([{ rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 300, count: 300 }], 0);
    expect(p.hold).toBeUndefined();
    p.noteRateLimits(rl(15, 20, 'SECOND', 1), 0);
    expect(p.hold?.until).toBe(1_767_225_601_000);
    expect(rateLimitWindowMs({ interval: 'SECOND', intervalNum: 10 })).toBe(10_000);
    expect(rateLimitWindowMs({ interval: 'WEEK', intervalNum: 1 })).toBeUndefined();
    expect(windowEnd(1_767_225_659_999, 60_000)).toBe(1_767_225_660_000);
    expect(windowEnd(1_767_225_660_000, 60_000)).toBe(1_767_225_720_000);
  });

  it('ignores a late, smaller count from the same window', () => {
    const c = clock(1_767_225_600_000);
    const p = new WeightPacer({ budgetPerMinute: 1_000_000, safetyMargin: 0, maxRequestsPerSecond: 1000, burst: 100 }, c.now);
    p.noteRateLimits(rl(2390), 0);
    p.noteRateLimits(rl(10), 0);
    let sent = 0;
    while (p.tryTake()) sent++;
    expect(sent).toBe(10);
  });

  it('holdUntil keeps the later of two holds', () => {
    const c = clock();
    const p = new WeightPacer({ budgetPerMinute: 60, safetyMargin: 0, maxRequestsPerSecond: 1, burst: 1 }, c.now);
    p.holdUntil(c.now() + 5000, 'a');
    p.holdUntil(c.now() + 1000, 'b');
    expect(p.hold).toEqual({ until: c.now() + 5000, reason: 'a' });
    expect(p.holds).toBe(1);
    c.advance(5000);
    expect(p.hold).toBeUndefined();
    expect(p.tryTake()).toBe(true);
  });
});
