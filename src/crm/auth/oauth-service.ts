// Over 400 lines on purpose: every way in the CRM answers (password, client credentials, refresh, JWT bearer, authorization code, SOAP login) shares the session and connected-app lookups here.
import { createHash } from 'node:crypto';
import { sameSecret } from '../../same-secret.js';
import { importX509, jwtVerify } from 'jose';
import type { Database } from '../../store/database.js';
import type { SchemaRegistry } from '../domain/schema/schema-registry.js';
import { selectByFieldValues, selectByIds } from '../store/record-store.js';
import * as store from './auth-store.js';
import { hashSecret, randomToken, tokenHash, tokenSignature, verifySecret } from './secrets.js';
import { LoginThrottle, lockedMessage } from '../../http/login-throttle.js';

/** An OAuth error, rendered as `{error, error_description}` (RFC 6749), not as a REST error. */
export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
  ) {
    super(description);
  }
}

export interface TokenResponse {
  access_token: string;
  refresh_token?: string;
  signature: string;
  scope: string;
  instance_url: string;
  id: string;
  token_type: 'Bearer';
  issued_at: string;
}

export interface Session {
  userId: string;
  clientId: string;
}

export interface OAuthServiceDeps {
  database: Database;
  schema: SchemaRegistry;
  orgId: () => string;
  loginUrl: () => string;
  instanceUrl: () => string;
  accessTokenTtlSeconds: number;
  now?: () => Date;
}

interface Grant {
  userId: string;
  clientId: string;
  clientSecret: string | null;
  withRefreshToken: boolean;
}

const SCOPE = 'api refresh_token';
/** How long an authorization code may be exchanged (Salesforce: 15 minutes). */
export const AUTHORIZATION_CODE_MS = 15 * 60_000;
/** How long a login on the login page lasts (Salesforce's default session timeout). */
export const LOGIN_SESSION_MS = 2 * 3_600_000;

/** A checked `/services/oauth2/authorize` request. */
export interface AuthorizationRequest {
  clientId: string;
  appName: string;
  redirectUri: string;
  state: string | undefined;
  responseType: string;
  prompt: string | undefined;
  codeChallenge: string | undefined;
  codeChallengeMethod: string | undefined;
}

/** A failure of an authorization request that goes back to the app, at its callback URL. */
export class AuthorizationRedirect extends Error {
  constructor(
    readonly request: AuthorizationRequest,
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }

  /** The callback URL with `error`, `error_description` and the app's `state`. */
  location(): string {
    const url = new URL(this.request.redirectUri);
    url.searchParams.set('error', this.error);
    url.searchParams.set('error_description', this.description);
    if (this.request.state !== undefined) url.searchParams.set('state', this.request.state);
    return url.toString();
  }
}

// Verified tokens stay cached briefly so each request does not cost a database read.
const CACHE_LIMIT = 10_000;
/**
 * How long a verified token is trusted without looking again. Revocation and deactivation in
 * this process end access at once (the cache is cleared); another process sharing the database
 * notices within this bound.
 */
export const VERIFY_CACHE_MS = 1_000;

/** OAuth 2.0 token service of the embedded org: password, client credentials, refresh and JWT bearer grants. */
// Sessions from SOAP login belong to no connected app; this stands in for one.
const SOAP_CLIENT_ID = 'SOAP API';

export class OAuthService {
  private readonly cache = new Map<string, Session & { expiresAt: number; until: number }>();
  private readonly now: () => Date;
  /** Wrong passwords per username, for the password grant and SOAP login alike. */
  private readonly throttle: LoginThrottle;

  constructor(private readonly deps: OAuthServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    this.throttle = new LoginThrottle(() => this.now().getTime());
  }

  private get db() {
    return this.deps.database.db;
  }

  async registerConnectedApp(app: {
    clientId: string;
    clientSecret: string;
    name: string;
    runAsUserId: string | null;
    certificate?: string | null;
    callbackUrls?: string[];
  }): Promise<void> {
    await store.insertConnectedApp(this.db, {
      client_id: app.clientId,
      name: app.name,
      client_secret_hash: hashSecret(app.clientSecret),
      certificate: app.certificate ?? null,
      run_as_user_id: app.runAsUserId,
      callback_urls: app.callbackUrls?.length ? JSON.stringify(app.callbackUrls) : null,
    });
  }

  async setPassword(userId: string, password: string): Promise<void> {
    await store.upsertPassword(this.db, userId, hashSecret(password));
  }

  private async client(
    clientId: string | undefined,
    clientSecret: string | undefined,
    secretRequired: boolean,
  ) {
    if (!clientId) throw new OAuthError('invalid_client_id', 'client identifier invalid');
    const app = await store.selectConnectedApp(this.db, clientId);
    if (!app) throw new OAuthError('invalid_client_id', 'client identifier invalid');
    if (secretRequired || clientSecret !== undefined) {
      if (!clientSecret || !verifySecret(clientSecret, app.client_secret_hash)) {
        throw new OAuthError('invalid_client', 'invalid client credentials');
      }
    }
    return app;
  }

  private async activeUserByUsername(username: string): Promise<string | null> {
    const userDef = this.deps.schema.object('User');
    const usernameField = userDef && this.deps.schema.field(userDef, 'Username');
    if (!userDef || !usernameField) return null;
    const [match] = await selectByFieldValues(this.db, this.deps.database.dialect, userDef, usernameField, [
      username,
    ]);
    if (!match) return null;
    const [user] = await selectByIds(this.db, userDef, [match.id]);
    return user && user.IsActive === true ? match.id : null;
  }

  private async activeUser(userId: string): Promise<boolean> {
    const userDef = this.deps.schema.object('User');
    if (!userDef) return false;
    const [user] = await selectByIds(this.db, userDef, [userId]);
    return user !== undefined && user.IsActive === true && user.IsDeleted !== true;
  }

  async token(params: Record<string, string | undefined>): Promise<TokenResponse> {
    const grantType = params.grant_type;
    switch (grantType) {
      case 'password':
        return this.issue(await this.passwordGrant(params));
      case 'client_credentials':
        return this.issue(await this.clientCredentialsGrant(params));
      case 'refresh_token':
        return this.issue(await this.refreshGrant(params));
      case 'urn:ietf:params:oauth:grant-type:jwt-bearer':
        return this.issue(await this.jwtBearerGrant(params));
      case 'authorization_code':
        return this.issue(await this.authorizationCodeGrant(params));
      default:
        throw new OAuthError('unsupported_grant_type', 'grant type not supported');
    }
  }

  private async passwordGrant(p: Record<string, string | undefined>): Promise<Grant> {
    const app = await this.client(p.client_id, p.client_secret, true);
    const userId = await this.checkPassword(p.username, p.password, (retryAt) =>
      retryAt ? `authentication failure: ${lockedMessage(retryAt)}` : 'authentication failure',
    );
    return { userId, clientId: app.client_id, clientSecret: p.client_secret ?? null, withRefreshToken: true };
  }

  /**
   * Whether `password` is the user's, checked as a login would be (and counted toward the
   * lockout), without issuing anything: for offline commands that must not write on a wrong one.
   */
  async passwordMatches(username: string, password: string): Promise<boolean> {
    try {
      await this.checkPassword(username, password, () => 'authentication failure');
      return true;
    } catch (error) {
      if (error instanceof OAuthError) return false;
      throw error;
    }
  }

  /**
   * SOAP `login(username, password)`: a session for the user without a connected app. The
   * password may carry a security token on its end, which the embedded org does not issue.
   */
  async soapLogin(username: string, password: string): Promise<{ accessToken: string; userId: string }> {
    const userId = await this.checkPassword(username, password, (retryAt) =>
      retryAt
        ? `Invalid username, password, security token; or user locked out. ${lockedMessage(retryAt)}`
        : 'Invalid username, password, security token; or user locked out.',
    );
    const issued = await this.issue({
      userId,
      clientId: SOAP_CLIENT_ID,
      clientSecret: null,
      withRefreshToken: false,
    });
    return { accessToken: issued.access_token, userId };
  }

  /**
   * The user a username and password log in, or invalid_grant. After repeated wrong passwords
   * the username is locked for a window (whatever the password), and the message says until when.
   */
  private async checkPassword(
    username: string | undefined,
    password: string | undefined,
    message: (retryAt?: Date) => string,
  ): Promise<string> {
    if (!username || !password) throw new OAuthError('invalid_grant', message());
    const gate = this.throttle.check(username);
    if (!gate.allowed) throw new OAuthError('invalid_grant', message(gate.retryAt));
    const userId = await this.activeUserByUsername(username);
    const hash = userId ? await store.selectPasswordHash(this.db, userId) : undefined;
    if (!userId || !hash || !verifySecret(password, hash)) {
      this.throttle.failed(username);
      throw new OAuthError('invalid_grant', message());
    }
    this.throttle.succeeded(username);
    return userId;
  }

  private async clientCredentialsGrant(p: Record<string, string | undefined>): Promise<Grant> {
    const app = await this.client(p.client_id, p.client_secret, true);
    if (!app.run_as_user_id || !(await this.activeUser(app.run_as_user_id))) {
      throw new OAuthError('invalid_grant', 'no client credentials user enabled');
    }
    return {
      userId: app.run_as_user_id,
      clientId: app.client_id,
      clientSecret: p.client_secret ?? null,
      withRefreshToken: false,
    };
  }

  private async refreshGrant(p: Record<string, string | undefined>): Promise<Grant> {
    const app = await this.client(p.client_id, p.client_secret, false);
    const row = p.refresh_token
      ? await store.selectRefreshToken(this.db, tokenHash(p.refresh_token))
      : undefined;
    if (!row || row.client_id !== app.client_id || !(await this.activeUser(row.user_id))) {
      throw new OAuthError('invalid_grant', 'expired access/refresh token');
    }
    return {
      userId: row.user_id,
      clientId: app.client_id,
      clientSecret: p.client_secret ?? null,
      withRefreshToken: false,
    };
  }

  /** JWT bearer: an RS256 assertion signed with the key of the certificate registered on the connected app. */
  private async jwtBearerGrant(p: Record<string, string | undefined>): Promise<Grant> {
    if (!p.assertion) throw new OAuthError('invalid_request', 'assertion is required');
    const [, payloadPart] = p.assertion.split('.');
    let claims: { iss?: unknown; sub?: unknown };
    try {
      claims = JSON.parse(Buffer.from(payloadPart ?? '', 'base64url').toString('utf8')) as typeof claims;
    } catch {
      throw new OAuthError('invalid_grant', 'invalid assertion');
    }
    const app =
      typeof claims.iss === 'string' ? await store.selectConnectedApp(this.db, claims.iss) : undefined;
    if (!app) throw new OAuthError('invalid_client_id', 'client identifier invalid');
    if (!app.certificate) throw new OAuthError('invalid_client', 'invalid client credentials');
    try {
      const key = await importX509(app.certificate, 'RS256');
      await jwtVerify(p.assertion, key, {
        algorithms: ['RS256'],
        issuer: app.client_id,
        audience: [this.deps.loginUrl(), 'https://login.salesforce.com', 'https://test.salesforce.com'],
        currentDate: this.now(),
        requiredClaims: ['exp', 'sub'],
      });
    } catch (error) {
      const expired = error instanceof Error && 'code' in error && error.code === 'ERR_JWT_EXPIRED';
      throw new OAuthError('invalid_grant', expired ? 'expired authorization code' : 'invalid assertion');
    }
    const userId = typeof claims.sub === 'string' ? await this.activeUserByUsername(claims.sub) : null;
    if (!userId) throw new OAuthError('invalid_grant', "user hasn't approved this consumer");
    return { userId, clientId: app.client_id, clientSecret: null, withRefreshToken: false };
  }

  /**
   * The web-server flow's first step, checked: the app is registered and `redirect_uri` is one
   * of its callback URLs, exactly. Until both hold, nothing may be sent to `redirect_uri` (an
   * open redirect), so these failures are the page's own; the rest go back to the app.
   */
  async authorizationRequest(p: Record<string, string | undefined>): Promise<AuthorizationRequest> {
    const app = p.client_id ? await store.selectConnectedApp(this.db, p.client_id) : undefined;
    if (!app) throw new OAuthError('invalid_client_id', 'client identifier invalid');
    const callbacks = app.callback_urls ? (JSON.parse(app.callback_urls) as string[]) : [];
    if (!p.redirect_uri || !callbacks.includes(p.redirect_uri))
      throw new OAuthError('redirect_uri_mismatch', 'redirect_uri must match configuration');
    const request: AuthorizationRequest = {
      clientId: app.client_id,
      appName: app.name,
      redirectUri: p.redirect_uri,
      state: p.state,
      responseType: p.response_type ?? '',
      prompt: p.prompt,
      codeChallenge: p.code_challenge,
      // Salesforce takes only SHA-256 challenges, and reads a challenge without a method as one.
      codeChallengeMethod: p.code_challenge ? (p.code_challenge_method ?? 'S256') : undefined,
    };
    if (request.codeChallengeMethod && request.codeChallengeMethod !== 'S256')
      throw new AuthorizationRedirect(request, 'invalid_request', 'unsupported code_challenge_method');
    if (request.responseType !== 'code')
      throw new AuthorizationRedirect(request, 'unsupported_response_type', 'response type not supported');
    return request;
  }

  /**
   * A user logging in on the login page: their id. A wrong password answers invalid_grant, with
   * the page's message, and counts toward the lockout as the password grant does.
   */
  async logIn(username: string, password: string): Promise<string> {
    return this.checkPassword(username, password, (retryAt) =>
      retryAt
        ? `Your login attempt has failed: ${lockedMessage(retryAt)}`
        : "Please check your username and password. If you still can't log in, contact your Salesforce administrator.",
    );
  }

  /** A login session for the pages (its cookie's value), valid `LOGIN_SESSION_MS`. */
  async startLoginSession(userId: string): Promise<string> {
    const token = randomToken(32);
    await store.insertLoginSession(this.db, tokenHash(token), {
      user_id: userId,
      expires_at: new Date(this.now().getTime() + LOGIN_SESSION_MS).toISOString(),
    });
    return token;
  }

  /** The user a login session's cookie stands for, while it lasts and the user is active. */
  async loginSession(token: string | undefined): Promise<string | null> {
    if (!token) return null;
    const row = await store.selectLoginSession(this.db, tokenHash(token));
    if (!row || Date.parse(row.expires_at) < this.now().getTime()) return null;
    return (await this.activeUser(row.user_id)) ? row.user_id : null;
  }

  /**
   * The logged-in user allowed the app: a code for the app, single-use, valid
   * `AUTHORIZATION_CODE_MS`, bound to the callback URL and the PKCE challenge.
   */
  async issueCode(request: AuthorizationRequest, userId: string): Promise<string> {
    const code = randomToken(32);
    await store.insertAuthorizationCode(this.db, tokenHash(code), {
      client_id: request.clientId,
      user_id: userId,
      redirect_uri: request.redirectUri,
      code_challenge: request.codeChallenge ?? null,
      code_challenge_method: request.codeChallengeMethod ?? null,
      expires_at: new Date(this.now().getTime() + AUTHORIZATION_CODE_MS).toISOString(),
    });
    return code;
  }

  /**
   * `grant_type=authorization_code`: the code, once, by the app it was issued to, with the same
   * `redirect_uri`; with PKCE the verifier must match the challenge (and then the secret may be
   * left out, as for a public client), without PKCE the app's secret is required.
   */
  private async authorizationCodeGrant(p: Record<string, string | undefined>): Promise<Grant> {
    const app = await this.client(p.client_id, p.client_secret, !p.code_verifier);
    const row = p.code ? await store.takeAuthorizationCode(this.db, tokenHash(p.code)) : undefined;
    if (
      !row ||
      row.client_id !== app.client_id ||
      row.redirect_uri !== p.redirect_uri ||
      Date.parse(row.expires_at) < this.now().getTime()
    )
      throw new OAuthError('invalid_grant', 'invalid authorization code');
    if (row.code_challenge) {
      const verifier = p.code_verifier ?? '';
      const derived = createHash('sha256').update(verifier).digest('base64url');
      if (!verifier || !sameSecret(derived, row.code_challenge))
        throw new OAuthError('invalid_grant', 'invalid code verifier');
    } else if (p.code_verifier) {
      throw new OAuthError('invalid_grant', 'invalid code verifier');
    }
    if (!(await this.activeUser(row.user_id))) throw new OAuthError('invalid_grant', 'inactive user');
    return {
      userId: row.user_id,
      clientId: app.client_id,
      clientSecret: p.client_secret ?? null,
      withRefreshToken: true,
    };
  }

  identityUrl(userId: string): string {
    return `${this.deps.loginUrl()}/id/${this.deps.orgId()}/${userId}`;
  }

  private async issue(grant: Grant): Promise<TokenResponse> {
    const now = this.now();
    const accessToken = `${this.deps.orgId().slice(0, 15)}!${randomToken()}`;
    await store.insertAccessToken(this.db, tokenHash(accessToken), {
      user_id: grant.userId,
      client_id: grant.clientId,
      issued_at: now.toISOString(),
      expires_at: new Date(now.getTime() + this.deps.accessTokenTtlSeconds * 1000).toISOString(),
    });
    const id = this.identityUrl(grant.userId);
    const issuedAt = String(now.getTime());
    const response: TokenResponse = {
      access_token: accessToken,
      signature: tokenSignature(id, issuedAt, grant.clientSecret ?? grant.clientId),
      scope: SCOPE,
      instance_url: this.deps.instanceUrl(),
      id,
      token_type: 'Bearer',
      issued_at: issuedAt,
    };
    if (grant.withRefreshToken) {
      const refreshToken = randomToken();
      await store.insertRefreshToken(this.db, tokenHash(refreshToken), {
        user_id: grant.userId,
        client_id: grant.clientId,
        issued_at: now.toISOString(),
      });
      response.refresh_token = refreshToken;
    }
    return response;
  }

  /**
   * The session behind a bearer token, or null when it is unknown, revoked or expired, or its
   * user is no longer active. Checked again at least every VERIFY_CACHE_MS.
   */
  async verify(accessToken: string): Promise<Session | null> {
    const nowMs = this.now().getTime();
    // Keyed by the token itself: hashing it on every request cost more than the lookup.
    const cached = this.cache.get(accessToken);
    if (cached) {
      if (cached.expiresAt > nowMs && cached.until > nowMs)
        return { userId: cached.userId, clientId: cached.clientId };
      this.cache.delete(accessToken);
      if (cached.expiresAt <= nowMs) return null;
    }
    const row = await store.selectAccessToken(this.db, tokenHash(accessToken));
    if (!row) return null;
    const expiresAt = Date.parse(row.expires_at);
    if (expiresAt <= nowMs) return null;
    // A deactivated (or deleted) user's tokens stop working with the user.
    if (!(await this.activeUser(row.user_id))) return null;
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(accessToken, {
      userId: row.user_id,
      clientId: row.client_id,
      expiresAt,
      until: nowMs + VERIFY_CACHE_MS,
    });
    return { userId: row.user_id, clientId: row.client_id };
  }

  /**
   * Revokes an access or refresh token. A refresh token takes the access tokens its user holds
   * through the same connected app with it: revoking the grant ends the access it gave.
   */
  async revoke(token: string): Promise<boolean> {
    const hash = tokenHash(token);
    // The cache is keyed by access tokens in the clear, which a refresh token's family is not
    // known by here: look every session up again (revocations are rare, lookups cheap).
    this.cache.clear();
    const refresh = await store.selectRefreshToken(this.db, hash);
    let removed =
      (await store.deleteAccessToken(this.db, hash)) + (await store.deleteRefreshToken(this.db, hash));
    if (refresh) removed += await store.deleteAccessTokensOf(this.db, refresh.user_id, refresh.client_id);
    return removed > 0;
  }

  /** A user was changed (deactivated, say): their cached sessions are looked at again. */
  forgetCachedSessions(): void {
    this.cache.clear();
  }

  async purgeExpired(): Promise<void> {
    await store.deleteExpiredAccessTokens(this.db, this.now().toISOString());
    await store.deleteExpiredAuthorizationCodes(this.db, this.now().toISOString());
    await store.deleteExpiredLoginSessions(this.db, this.now().toISOString());
  }

  /** A connected app from the configuration (`crm.connectedApps`): registered, or brought up to date. */
  async ensureConnectedApp(app: {
    clientId: string;
    clientSecret: string;
    name: string;
    callbackUrls: string[];
  }): Promise<void> {
    await store.upsertConnectedApp(this.db, {
      client_id: app.clientId,
      name: app.name,
      client_secret_hash: hashSecret(app.clientSecret),
      certificate: null,
      run_as_user_id: null,
      callback_urls: JSON.stringify(app.callbackUrls),
    });
  }
}
