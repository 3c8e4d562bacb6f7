import { sleep } from '@orderstream/kit';

/**
 * The frames of several orders interleaved round-robin: every order's first frame, then every order's second, …
 * (an order with fewer frames drops out). Each order's frames stay in their order.
 */
export function roundRobin<T>(perOrder: readonly (readonly T[])[]): T[] {
  const out: T[] = [];
  for (let round = 0; perOrder.some((frames) => round < frames.length); round++) {
    for (const frames of perOrder) if (round < frames.length) out.push(frames[round] as T);
  }
  return out;
}

/** How {@link sendPaced} paces a play. */
export interface PaceOptions {
  /** between two frames (none before the first); 0 sends back to back */
  intervalMs: number;
  /** the simulator's fault knob, read per frame: each delivery runs this much later (the frames keep their order) */
  delayMs: () => number;
  /** before each frame: waits for a subscriber when the play was asked to (waitForSubscriberMs) and there is none */
  waitForSubscriber?: () => Promise<void> | undefined;
}

/**
 * The loop every simulator's play() runs over its faulted frames: pace them, wait for a subscriber if asked, and
 * hand each (a faulted frame: frame + duplicate flag) to `send`, which returns the delivery (record the truth, send to the subscribers of
 * the moment); the delivery runs now or after the fault delay. Resolves once every delivery ran.
 */
export async function sendPaced<F>(frames: readonly F[], options: PaceOptions, send: (frame: F) => () => void): Promise<void> {
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < frames.length; i++) {
    if (i > 0 && options.intervalMs > 0) await sleep(options.intervalMs);
    await options.waitForSubscriber?.();
    const deliver = send(frames[i] as F);
    const delay = options.delayMs();
    if (delay > 0) inFlight.push(new Promise<void>((resolve) => setTimeout(() => (deliver(), resolve()), delay)));
    else deliver();
  }
  await Promise.all(inFlight);
}

/** What {@link paceFor} reads from a simulator. */
export interface PacedSimulator {
  readonly faults: { delayMs: number };
  readonly subscriberCount: number;
  waitForSubscribers(n: number, timeoutMs: number): Promise<void>;
}

/**
 * The pace of a simulator's play(): `intervalMs` between frames, its fault delay read per frame, and, given
 * `waitForSubscriberMs` > 0, a wait (that long at the most) before any frame while nobody is subscribed.
 */
export function paceFor(sim: PacedSimulator, intervalMs: number, waitForSubscriberMs = 0): PaceOptions {
  return {
    intervalMs,
    delayMs: () => sim.faults.delayMs,
    ...(waitForSubscriberMs > 0 ? { waitForSubscriber: () => (sim.subscriberCount === 0 ? sim.waitForSubscribers(1, waitForSubscriberMs) : undefined) } : {}),
  };
}
