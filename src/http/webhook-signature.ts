import { createHmac } from 'node:crypto';
import { sameSecret } from '../same-secret.js';

/**
 * Handoff's webhook signature: `X-Handoff-Signature: t=<unix seconds>,v1=<hex>`, the HMAC-SHA256
 * of `<t>.<body>` with the shared secret. The timestamp is signed too, so an old call cannot be
 * replayed later.
 */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

export function signatureHeader(secret: string, timestamp: string, body: string): string {
  return `t=${timestamp},v1=${webhookSignature(secret, timestamp, body)}`;
}

/** Whether a signature header holds for the body, signed within `toleranceS` of `now`. */
export function verifySignature(
  secret: string,
  header: string | undefined,
  body: string,
  now: Date,
  toleranceS = 300,
): boolean {
  const parts = Object.fromEntries(
    (header ?? '').split(',').map((p) => p.trim().split('=') as [string, string]),
  );
  const t = parts.t;
  const v1 = parts.v1;
  if (!t || !v1 || !/^\d{1,12}$/.test(t)) return false;
  if (Math.abs(now.getTime() / 1000 - Number(t)) > toleranceS) return false;
  return sameSecret(v1, webhookSignature(secret, t, body));
}
