import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Whether a secret given (a token, a signature, a password) is the one expected, in a time that
 * does not tell where they differ nor how long either is: both are hashed to the same length
 * first, so no caller needs its own length check (or can get one wrong).
 */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
