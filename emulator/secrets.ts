/**
 * Secret handling shared by the routes: the mask shown in place of a stored secret (secrets are write-only, as in
 * Genesys Cloud) and a constant-time comparison for the OAuth client and CRM secrets the emulator checks.
 */
import { timingSafeEqual } from 'node:crypto';

/** What the emulator shows instead of a secret: secrets are write-only, as in Genesys Cloud. */
export const MASKED_SECRET = '********';

/** Constant-time comparison that is simply false when the lengths differ. */
export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
