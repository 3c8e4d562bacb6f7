import type { SimHttpResponse } from './server.js';

/**
 * Faults a simulator's reconciliation endpoints (open orders, order detail, history) can show, so tests can check
 * that a collector keeps streaming, backs off and retries. The venue decides the bodies (each venue words its
 * rate-limit and error answers its own way); this decides when.
 */
export interface RestFaultKnobs {
  /** answer the next n reconciliation calls with 429 and `Retry-After: retryAfterSec` */
  rateLimitNext: number;
  retryAfterSec: number;
  /** answer the next n reconciliation calls with HTTP 500 */
  errorNext: number;
  /** the venue's own limit: at most `max` reconciliation calls per `windowMs`, 429 beyond it; undefined = off */
  window: { max: number; windowMs: number } | undefined;
  /**
   * Orders the venue can no longer tell about: their detail lookups fail (HTTP 500) every time, and simulators leave
   * them out of history answers. After a gap in which they finished, only these may end as CLOSED_UNKNOWN.
   */
  failDetailFor: Set<string>;
}

export interface RestFaultStats {
  rateLimited: number;
  errors: number;
  detailFailures: number;
  /** reconciliation calls served (including the faulted ones) */
  calls: number;
}

export interface RestFaultBodies {
  /** body of a 429 answer in the venue's words */
  rateLimited(): string;
  /** body of a 5xx answer in the venue's words */
  error(): string;
}

export class RestFaults {
  readonly knobs: RestFaultKnobs = { rateLimitNext: 0, retryAfterSec: 1, errorNext: 0, window: undefined, failDetailFor: new Set() };
  readonly stats: RestFaultStats = { rateLimited: 0, errors: 0, detailFailures: 0, calls: 0 };
  readonly #recent: number[] = [];

  constructor(private readonly bodies: RestFaultBodies) {}

  /**
   * Call first in every reconciliation endpoint. Returns the faulted answer to send instead, or undefined to
   * answer normally. `detailOf` names the order a detail lookup asks for.
   */
  check(detailOf?: string): SimHttpResponse | undefined {
    this.stats.calls++;
    const now = Date.now();
    if (this.knobs.rateLimitNext > 0) {
      this.knobs.rateLimitNext--;
      return this.#limited();
    }
    if (this.knobs.window) {
      while (this.#recent.length > 0 && (this.#recent[0] as number) <= now - this.knobs.window.windowMs) this.#recent.shift();
      if (this.#recent.length >= this.knobs.window.max) return this.#limited();
      this.#recent.push(now);
    }
    if (this.knobs.errorNext > 0) {
      this.knobs.errorNext--;
      this.stats.errors++;
      return { status: 500, body: this.bodies.error() };
    }
    if (detailOf !== undefined && this.knobs.failDetailFor.has(detailOf)) {
      this.stats.detailFailures++;
      return { status: 500, body: this.bodies.error() };
    }
    return undefined;
  }

  #limited(): SimHttpResponse {
    this.stats.rateLimited++;
    return { status: 429, body: this.bodies.rateLimited(), headers: { 'retry-after': String(this.knobs.retryAfterSec) } };
  }
}
