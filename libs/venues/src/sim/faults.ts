import type { Rng } from './random.js';

/**
 * Fault knobs every venue simulator understands. They act on the venue's *data* frames (order pushes) only:
 * protocol replies (acks, pongs, errors) are never duplicated, reordered or delayed, so that protocol tests stay
 * deterministic. Connection faults (drop, heartbeat timeout, expired keys) are separate simulator methods.
 */
export interface FaultKnobs {
  /** 0..1: probability that a data frame is sent twice (the copy right after the original). */
  duplicateRate: number;
  /** 0..1: probability that an eligible adjacent pair of data frames is swapped. 0 = never. */
  reorder: number;
  /**
   * Which adjacent pairs may be swapped:
   * - `across-orders` (default): only frames of different orders. This is what a venue that publishes different
   *   orders through different internal shards can do; frames of one order stay in order.
   * - `any`: frames of the same order too. Stronger than anything observed; useful only where the venue's
   *   frames carry cumulative figures that let the merge rules restore the order (XT: cumulative executedQty).
   */
  reorderScope: 'across-orders' | 'any';
  /** Latency added to every data frame after its scheduled time, in ms. Keeps the order of frames. */
  delayMs: number;
}

export const NO_FAULTS: Readonly<FaultKnobs> = Object.freeze({
  duplicateRate: 0,
  reorder: 0,
  reorderScope: 'across-orders',
  delayMs: 0,
});

/** A data frame as planned for sending: `key` identifies the order it belongs to. */
export interface PlannedFrame {
  key: string;
}

export interface FaultedFrame<T> {
  frame: T;
  /** true for the extra copy made by duplicateRate */
  duplicate: boolean;
}

/**
 * Applies reorder then duplicate knobs to a planned sequence, deterministically for a given rng state.
 * Reordering makes one left-to-right pass: each adjacent pair that is eligible is swapped with probability
 * `reorder`, and a swapped frame is not swapped again in the same pass (it moves by at most one place).
 */
export function applyFaults<T extends PlannedFrame>(frames: readonly T[], knobs: FaultKnobs, rng: Rng): FaultedFrame<T>[] {
  const out = frames.slice();
  if (knobs.reorder > 0) {
    for (let i = 0; i + 1 < out.length; i++) {
      const a = out[i] as T;
      const b = out[i + 1] as T;
      const eligible = knobs.reorderScope === 'any' || a.key !== b.key;
      if (eligible && rng.chance(knobs.reorder)) {
        out[i] = b;
        out[i + 1] = a;
        i++;
      }
    }
  }
  const result: FaultedFrame<T>[] = [];
  for (const frame of out) {
    result.push({ frame, duplicate: false });
    if (rng.chance(knobs.duplicateRate)) result.push({ frame, duplicate: true });
  }
  return result;
}

/** Throws a RangeError naming the knob when a value is out of range. */
export function checkFaultKnobs(knobs: FaultKnobs): void {
  const rate = (name: string, v: number) => {
    if (!(v >= 0 && v <= 1)) throw new RangeError(`fault knob ${name} must be between 0 and 1, got ${v}`);
  };
  rate('duplicateRate', knobs.duplicateRate);
  rate('reorder', knobs.reorder);
  if (knobs.reorderScope !== 'across-orders' && knobs.reorderScope !== 'any') {
    throw new RangeError(`fault knob reorderScope must be 'across-orders' or 'any', got ${String(knobs.reorderScope)}`);
  }
  if (!(Number.isFinite(knobs.delayMs) && knobs.delayMs >= 0)) {
    throw new RangeError(`fault knob delayMs must be a non-negative number, got ${knobs.delayMs}`);
  }
}
