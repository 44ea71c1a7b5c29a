/** Exponential backoff with jitter: 1 s, 2 s, 4 s … capped at 5 minutes, each 50–100 %. */
export function backoffMs(attempts: number, firstMs = 1_000, random = Math.random, maxMs = 300_000): number {
  const base = Math.min(maxMs, firstMs * 2 ** Math.min(attempts, 20));
  return Math.round(base * (0.5 + random() * 0.5));
}
