import { createHash, createHmac, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

/** Passwords and client secrets are stored as salted scrypt hashes: `scrypt$salt$hash`. */
export function hashSecret(secret: string): string {
  const salt = randomBytes(16).toString('base64url');
  const hash = scryptSync(secret, salt, 32).toString('base64url');
  return `scrypt$${salt}$${hash}`;
}

export function verifySecret(secret: string, stored: string): boolean {
  const [scheme, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = scryptSync(secret, salt, expected.length);
  return timingSafeEqual(expected, actual);
}

/** Tokens are stored only as their SHA-256, so a copy of the database cannot be replayed. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export function randomToken(bytes = 36): string {
  return randomBytes(bytes).toString('base64url');
}

/** The `signature` of a token response: HMAC-SHA256 of id + issued_at keyed by the client secret. */
export function tokenSignature(id: string, issuedAt: string, clientSecret: string): string {
  return createHmac('sha256', clientSecret)
    .update(id + issuedAt)
    .digest('base64');
}
