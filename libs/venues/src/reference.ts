import { z } from 'zod';
import { readFileSync } from 'node:fs';
import { ConfigError, errorMessage, isDecimal } from '@orderstream/kit';

/**
 * Instrument reference data, from configuration, used to convert venue units to base-asset units.
 * Keyed by venue id, then by the venue's own symbol (XT `btc_usdt`, Loopring market `LRC-ETH`).
 * Without an entry, base-unit fields are null: never guessed.
 */
export const instrumentRefSchema = z
  .object({
    /** base-asset units per contract (XT futures) */
    contractSize: z.string().refine(isDecimal, { error: 'must be a decimal string' }).optional(),
    /** token decimals of the base asset (Loopring raw units) */
    baseDecimals: z.number().int().min(0).max(36).optional(),
    /** token decimals of the quote asset */
    quoteDecimals: z.number().int().min(0).max(36).optional(),
  })
  .strict();

export const referenceDataSchema = z.record(z.string(), z.record(z.string(), instrumentRefSchema));

export type InstrumentRef = z.infer<typeof instrumentRefSchema>;
export type ReferenceData = z.infer<typeof referenceDataSchema>;

export const EMPTY_REFERENCE: ReferenceData = {};

export function instrumentRef(reference: ReferenceData, venue: string, venueSymbol: string): InstrumentRef | undefined {
  return reference[venue]?.[venueSymbol];
}

/** Reads and validates a reference data file (JSON); every problem is listed in one ConfigError. */
export function loadReferenceData(path: string | undefined): ReferenceData {
  if (!path) return EMPTY_REFERENCE;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError([`reference data file ${path}: ${errorMessage(error)}`]);
  }
  const parsed = referenceDataSchema.safeParse(json);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `reference data file ${path}: ${i.path.join('.')}: ${i.message}`));
  }
  return parsed.data;
}
