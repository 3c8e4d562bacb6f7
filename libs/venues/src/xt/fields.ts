import { z } from 'zod';
import { isDecimal } from '@orderstream/kit';

// XT's field schemas, shared by the push frames (./frames.ts) and the REST answers (./rest.ts). Not exported from the
// package. Messages read as the end of "data.<field> …", so a dead letter names the field and the problem.

export const missingOr = (problem: string) => (iss: { input?: unknown }) => (iss.input === undefined ? 'is required' : problem);

const PLAIN_DECIMAL_RE = /^\d+(?:\.\d+)?$/;

/** The plain form XT sends is checked by a regex; only unusual forms (exponent, sign, blanks) reach the kit parser. */
function isNonNegativeDecimal(v: string): boolean {
  return PLAIN_DECIMAL_RE.test(v) || (isDecimal(v) && !v.trim().startsWith('-'));
}

/** A decimal as the docs send it (string), or a JSON number (tolerated: exact digits recovered from the text). */
export const decimalValue = z.custom<string | number>(
  (v) => (typeof v === 'string' && isNonNegativeDecimal(v)) || (typeof v === 'number' && Number.isFinite(v) && v >= 0),
  { error: missingOr('must be a non-negative decimal (string or number)') },
);

/** An integer as documented (JSON number), or the same digits in a string (tolerated). */
export const integerValue = z.custom<string | number>(
  (v) => (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v)),
  { error: missingOr('must be an integer (number or digit string)') },
);

/** An id: a non-empty string as documented, or a non-negative integer JSON number (exact digits recovered). */
export const idValue = z.custom<string | number>(
  (v) => (typeof v === 'string' && v.length > 0) || (typeof v === 'number' && Number.isInteger(v) && v >= 0),
  { error: missingOr('must be a non-empty string or an integer') },
);

export const requiredString = z.string({ error: missingOr('must be a string') }).min(1, { error: 'must not be empty' });
export const optionalString = z.string({ error: 'must be a string' }).nullish();
