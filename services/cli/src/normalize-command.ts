import { StringDecoder } from 'node:string_decoder';
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
 * frame's exact text per line; exactly one JSON line out per input line, in order:
 *   {"orders":[...]}                         order frames (canonical orders, decimals as strings)
 *   {"skipped":"<what it was>"}              acks, pongs, error replies and other non-order frames
 *   {"skipped":"blank line"}                 a line that is empty or only spaces, tabs and CRs
 *   {"dlq":{"code":"...","message":"..."}}   frames it cannot handle
 * Lines are split on LF (\n) only; one CR right before the LF is dropped (CRLF input), any other CR is part of the
 * line (a bare CR never splits a frame). A last line without LF is a line; input ending in LF has no extra line.
 * Input is read as UTF-8. Same code path (normalizeFrame) as the normalizer service. Returns the number of dead
 * letters.
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
  const answer = (text: string) => {
    line++;
    let out: unknown;
    if (isBlank(text)) out = { skipped: 'blank line' };
    else {
      const outcome = normalizeFrame(m.mapper, text, {
        venue: venue as VenueId,
        account,
        receivedAt: nowEpochMicros(),
        source: { topic: 'stdin', partition: 0, offset: line },
        reference,
      });
      if (outcome.kind === 'orders') out = { orders: outcome.orders };
      else if (outcome.kind === 'skipped') out = { skipped: outcome.what };
      else {
        dead++;
        out = { dlq: { code: outcome.code, message: outcome.message } };
      }
    }
    options.output.write(`${JSON.stringify(out)}\n`);
  };
  for await (const text of inputLines(options.input)) answer(text);
  return dead;
}

/** Empty, or only spaces, tabs and CRs (JSON whitespace but LF, which ends the line). */
function isBlank(text: string): boolean {
  return /^[ \t\r]*$/.test(text);
}

/**
 * The lines of a UTF-8 stream: split on LF only, one CR before the LF dropped, a bare CR kept; a last line without
 * LF is a line when it is not empty. (node:readline also splits on a bare CR, which cut a frame in two.)
 */
export async function* inputLines(input: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  const lineOf = (s: string) => (s.endsWith('\r') ? s.slice(0, -1) : s);
  for await (const chunk of input) {
    pending += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let start = 0;
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n', start)) {
      yield lineOf(pending.slice(start, nl));
      start = nl + 1;
    }
    pending = pending.slice(start);
  }
  pending += decoder.end();
  if (pending.length > 0) yield lineOf(pending);
}
