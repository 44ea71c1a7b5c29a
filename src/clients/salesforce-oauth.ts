import { z } from 'zod';

/** How a Handoff service logs in to Salesforce (or the embedded CRM) for an access token. */
export type SalesforceLogin =
  | {
      flow: 'password';
      loginUrl: string;
      clientId: string;
      clientSecret: string;
      username: string;
      password: string;
    }
  | { flow: 'client_credentials'; loginUrl: string; clientId: string; clientSecret: string }
  | {
      flow: 'refresh_token';
      loginUrl: string;
      clientId: string;
      clientSecret?: string;
      refreshToken: string;
    };

const tokenResponse = z.object({ access_token: z.string(), instance_url: z.string().optional() });

export class SalesforceLoginError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
    this.name = 'SalesforceLoginError';
  }
}

/**
 * An access token from Salesforce's OAuth token endpoint, fetched once and shared by
 * concurrent callers; `invalidate()` after a 401/184 makes the next call log in again.
 */
export class SalesforceTokenSource {
  private current: Promise<string> | null = null;

  constructor(
    private readonly login: SalesforceLogin,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  token(): Promise<string> {
    if (!this.current) {
      this.current = this.fetchToken();
      // A failed login is not cached: the next call tries again.
      this.current.catch(() => {
        this.current = null;
      });
    }
    return this.current;
  }

  invalidate(token: string): void {
    // Only drop the token that failed: a concurrent caller may already have a fresh one.
    void this.current?.then((t) => {
      if (t === token) this.current = null;
    });
  }

  private async fetchToken(): Promise<string> {
    const { login } = this;
    const params: Record<string, string> = { grant_type: login.flow, client_id: login.clientId };
    if (login.flow === 'password') {
      Object.assign(params, {
        client_secret: login.clientSecret,
        username: login.username,
        password: login.password,
      });
    } else if (login.flow === 'client_credentials') {
      params.client_secret = login.clientSecret;
    } else {
      params.refresh_token = login.refreshToken;
      if (login.clientSecret) params.client_secret = login.clientSecret;
    }
    let response: Response;
    try {
      response = await this.fetchImpl(`${login.loginUrl.replace(/\/$/, '')}/services/oauth2/token`, {
        method: 'POST',
        body: new URLSearchParams(params),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      throw new SalesforceLoginError(`cannot reach ${login.loginUrl}: ${(error as Error).message}`, null);
    }
    const text = await response.text();
    if (!response.ok) {
      throw new SalesforceLoginError(
        `login to ${login.loginUrl} refused (${response.status}): ${text.slice(0, 200)}`,
        response.status,
      );
    }
    return tokenResponse.parse(JSON.parse(text)).access_token;
  }
}
