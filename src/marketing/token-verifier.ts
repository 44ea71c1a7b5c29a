import { reachable } from '../http/observability.js';
/** The CRM user behind a bearer token; the marketing engine trusts the CRM's OAuth server. */
export interface TokenVerifier {
  verify(token: string): Promise<{ userId: string } | null>;
  /** Resolves when the CRM behind the tokens answers (for `/readyz`); absent when in-process. */
  reachable?(): Promise<unknown>;
}

/** How long the engine alone trusts an answer from the CRM about a token. */
export const TOKEN_CACHE_MS = 2_000;

interface Cached {
  userId: string | null;
  until: number;
}

/**
 * Verifies tokens with the CRM's `/services/oauth2/userinfo`, as a marketing engine running in
 * its own process (`handoff marketing`) must. Answers are cached briefly so a burst of calls
 * costs one round trip; a revoked token, or a deactivated user's, is refused within `cacheMs`
 * (TOKEN_CACHE_MS: two seconds).
 */
export class HttpTokenVerifier implements TokenVerifier {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly crmUrl: string,
    private readonly cacheMs = TOKEN_CACHE_MS,
    private readonly now: () => number = Date.now,
  ) {}

  reachable(): Promise<unknown> {
    return reachable(`${this.crmUrl.replace(/\/$/, '')}/services/oauth2/userinfo`)();
  }

  async verify(token: string): Promise<{ userId: string } | null> {
    const now = this.now();
    const hit = this.cache.get(token);
    if (hit && hit.until > now) return hit.userId ? { userId: hit.userId } : null;
    const response = await fetch(`${this.crmUrl.replace(/\/$/, '')}/services/oauth2/userinfo`, {
      headers: { authorization: `Bearer ${token}` },
    });
    let userId: string | null = null;
    if (response.ok) {
      const body = (await response.json()) as { user_id?: unknown };
      userId = typeof body.user_id === 'string' ? body.user_id : null;
    } else {
      await response.body?.cancel();
    }
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(token, { userId, until: now + this.cacheMs });
    return userId ? { userId } : null;
  }
}
