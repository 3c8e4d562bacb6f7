import { z } from 'zod';
import { readFileSync } from 'node:fs';
import { ConfigError, ConfigProblems, errorMessage, isDecimal, normalizeDecimal } from '@orderstream/kit';
import { decimalBoundProblem } from './frame-kit.js';

/** Why a contract size is not usable (a positive decimal within the digit bound), or undefined. */
function contractSizeProblem(v: string): string | undefined {
  if (!isDecimal(v)) return 'must be a decimal string';
  const normal = normalizeDecimal(v);
  if (normal === '0' || normal.startsWith('-')) return 'must be a positive decimal (base units per contract)';
  const bound = decimalBoundProblem(normal);
  return bound === undefined ? undefined : `must be a positive decimal within the digit bound: it ${bound}`;
}

/**
 * Instrument reference data, from configuration, used to convert venue units to base-asset units.
 * Keyed by venue id, then by the venue's own symbol (XT `btc_usdt`, Loopring market `LRC-ETH`).
 * Without an entry, base-unit fields are null: never guessed. Checked in full at load (a wrong value here would turn
 * every order of the instrument into wrong figures): contract sizes are positive decimals within the digit bound
 * (frame-kit), token decimals integers 0–36, symbols non-empty without control characters.
 */
export const instrumentRefSchema = z
  .object({
    /** base-asset units per contract (XT futures) */
    contractSize: z
      .string({ error: 'must be a decimal string' })
      .check((ctx) => {
        const problem = contractSizeProblem(ctx.value);
        if (problem !== undefined) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value });
      })
      .optional(),
    /** token decimals of the base asset (Loopring raw units) */
    baseDecimals: z.number({ error: 'must be an integer from 0 to 36' }).int({ error: 'must be an integer from 0 to 36' }).min(0, { error: 'must be an integer from 0 to 36' }).max(36, { error: 'must be an integer from 0 to 36' }).optional(),
    /** token decimals of the quote asset */
    quoteDecimals: z.number({ error: 'must be an integer from 0 to 36' }).int({ error: 'must be an integer from 0 to 36' }).min(0, { error: 'must be an integer from 0 to 36' }).max(36, { error: 'must be an integer from 0 to 36' }).optional(),
  })
  .strict();

// eslint-disable-next-line no-control-regex
const BAD_SYMBOL_RE = /^$|[\u0000-\u001f\u007f-\u009f]/;

export const referenceDataSchema = z.record(
  z.string(),
  z.record(z.string().refine((k) => !BAD_SYMBOL_RE.test(k)), instrumentRefSchema, {
    error: (iss) => (iss.code === 'invalid_key' ? 'a symbol must be non-empty without control characters' : undefined),
  }),
);

export type InstrumentRef = z.infer<typeof instrumentRefSchema>;
export type ReferenceData = z.infer<typeof referenceDataSchema>;

export const EMPTY_REFERENCE: ReferenceData = {};

export function instrumentRef(reference: ReferenceData, venue: string, venueSymbol: string): InstrumentRef | undefined {
  return reference[venue]?.[venueSymbol];
}

/**
 * Reads and validates a reference data file (JSON); every problem is listed in one ConfigError, each named
 * `reference data file <path>: <venue>.<symbol>.<field>` with what is allowed and the value it got.
 */
export function loadReferenceData(path: string | undefined): ReferenceData {
  if (!path) return EMPTY_REFERENCE;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError([`reference data file ${path}: ${errorMessage(error)}`]);
  }
  const problems = new ConfigProblems();
  const parsed = problems.check(referenceDataSchema, json);
  if (parsed === undefined) throw new ConfigError(problems.list.map((p) => `reference data file ${path}: ${p}`));
  return parsed;
}
