import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { ConfigProblems, nowEpochMicros } from '@orderstream/kit';
import { normalizeFrame } from '@orderstream/normalizer';
import { EMPTY_REFERENCE, loadReferenceData, registeredVenues, venueModule, type ReferenceData, type VenueId } from '@orderstream/venues';

export interface NormalizeCommandOptions {
  venue: string | undefined;
  account?: string | undefined;
  referenceFile?: string | undefined;
  input: Readable;
  output: Writable;
}

/**
 * `orderstream normalize --venue <id> [--account <name>] [--reference <file>]`: raw frames on stdin, one
 * frame's exact text per line; one JSON line out per frame:
 *   {"orders":[...]}                         order frames (canonical orders, decimals as strings)
 *   {"skipped":"<what it was>"}              acks, pongs, error replies and other non-order frames
 *   {"dlq":{"code":"...","message":"..."}}   frames it cannot handle
 * Same code path (normalizeFrame) as the normalizer service. Returns the number of dead letters.
 */
export async function normalizeCommand(options: NormalizeCommandOptions): Promise<number> {
  const venue = options.venue;
  const m = venue ? venueModule(venue) : undefined;
  // --venue and --reference are checked together: every problem in one ConfigError
  const problems = new ConfigProblems();
  if (!venue || !m) {
    problems.add('--venue', `${venue === undefined ? 'is required' : `must be a known venue, got ${JSON.stringify(venue)}`} (known: ${registeredVenues().join(', ')})`);
  }
  let reference: ReferenceData = EMPTY_REFERENCE;
  try {
    reference = loadReferenceData(options.referenceFile);
  } catch (error) {
    problems.absorb(error);
  }
  problems.throwIfAny();
  if (!venue || !m) throw new Error('unreachable: --venue checked');
  const account = options.account ?? 'cli';
  let line = 0;
  let dead = 0;
  const lines = createInterface({ input: options.input, crlfDelay: Infinity });
  for await (const text of lines) {
    line++;
    if (text.trim() === '') continue;
    const outcome = normalizeFrame(m.mapper, text, {
      venue: venue as VenueId,
      account,
      receivedAt: nowEpochMicros(),
      source: { topic: 'stdin', partition: 0, offset: line },
      reference,
    });
    let out: unknown;
    if (outcome.kind === 'orders') out = { orders: outcome.orders };
    else if (outcome.kind === 'skipped') out = { skipped: outcome.what };
    else {
      dead++;
      out = { dlq: { code: outcome.code, message: outcome.message } };
    }
    options.output.write(`${JSON.stringify(out)}\n`);
  }
  return dead;
}
