import { setTimeout as sleep } from 'node:timers/promises';
import { httpRequest, type HttpAnswer } from '../http-transport.js';
import type { SalesforceTokenSource } from '../salesforce-oauth.js';
import { AccountEngagementError, AE_CODES } from './ae-error.js';

export interface AccountEngagementClientOptions {
  baseUrl: string;
  businessUnitId: string;
  tokens: Pick<SalesforceTokenSource, 'token' | 'invalidate'>;
  /** Tries per call for failures known not to have been applied (66) or safe to repeat. */
  maxAttempts?: number;
  timeoutMs?: number;
  /** Sent as `X-Handoff-Actor` so the engine's history says who changed what (real orgs ignore it). */
  actor?: 'sync' | 'user' | 'form' | 'api';
}

/** One API call. */
export interface Call {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** A body sent as it is (multipart uploads), instead of `body` as JSON. */
  raw?: { text: string; contentType: string };
  /** Safe to send again after an answer was lost (reads, updates, upserts). */
  idempotent: boolean;
  /** The answer's body as text (an export's CSV result), not parsed as JSON. */
  asText?: boolean;
}

/** v5 lists answer at most this many records a page. */
const PAGE_SIZE = 1000;

/**
 * The Account Engagement wire: one call with its token (refreshed once on 184/401), retries of
 * what is safe to retry (backoff with jitter; longer for code 66, "too many at once"), the
 * service's errors as AccountEngagementError, and paging. The client's resources
 * (ae-client.ts) are calls made through it.
 */
export class AccountEngagementTransport {
  private readonly maxAttempts: number;
  private readonly timeoutMs: number;
  private sent = 0;

  constructor(private readonly options: AccountEngagementClientOptions) {
    this.maxAttempts = options.maxAttempts ?? 4;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /**
   * Every record of a v5 list, followed page by page by id (`idGreaterThan`, ascending): the
   * paging that stays correct while records are added, unlike offsets.
   */
  async allById<T extends { id: number }>(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    from = 0,
  ): Promise<T[]> {
    const out: T[] = [];
    for (let after = from; ;) {
      const page = await this.json<{ values: T[] }>({
        method: 'GET',
        path,
        query: { ...query, idGreaterThan: after, orderBy: 'id asc', limit: PAGE_SIZE },
        idempotent: true,
      });
      out.push(...page.values);
      if (page.values.length < PAGE_SIZE) return out;
      after = page.values[page.values.length - 1]!.id;
    }
  }

  /** Every record of a v5 list query, following its `nextPageToken`s. */
  async allByPageToken<T>(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
  ): Promise<T[]> {
    let page = await this.json<{ values: T[]; nextPageToken: string | null }>({
      method: 'GET',
      path,
      query,
      idempotent: true,
    });
    const out = [...page.values];
    while (page.nextPageToken) {
      page = await this.json({
        method: 'GET',
        path,
        query: { nextPageToken: page.nextPageToken },
        idempotent: true,
      });
      out.push(...page.values);
    }
    return out;
  }

  async json<T>(call: Call): Promise<T> {
    let refreshed = false;
    for (let attempt = 1; ; attempt += 1) {
      const token = await this.options.tokens.token();
      try {
        return (await this.send(call, token)) as T;
      } catch (error) {
        if (!(error instanceof AccountEngagementError)) throw error;
        if (error.code === AE_CODES.invalidToken || error.status === 401) {
          if (refreshed) throw error;
          refreshed = true;
          this.options.tokens.invalidate(token);
          continue;
        }
        const safe =
          error.retryable && (call.idempotent || !error.ambiguous) && error.code !== AE_CODES.dailyLimit;
        // Code 66 says only "too many at once" (the unit's five calls may be shared by several
        // processes): a slot frees up within moments, so it is waited for longer.
        const attempts = error.code === AE_CODES.concurrency ? this.maxAttempts * 3 : this.maxAttempts;
        if (!safe || attempt >= attempts) throw error;
        // Exponential backoff with full jitter: 100 ms, 200 ms, 400 ms … (at most 2 s) scaled by a random factor.
        await sleep(Math.random() * Math.min(2_000, 100 * 2 ** (attempt - 1)));
      }
    }
  }

  /** A call whose answer is text (CSV), with the same retries as `json`. */
  text(call: Call): Promise<string> {
    return this.json<string>({ ...call, asText: true });
  }

  /** Calls sent so far (each counts against the unit's daily API limit). */
  get callsSent(): number {
    return this.sent;
  }

  private async send(call: Call, token: string): Promise<unknown> {
    this.sent += 1;
    const url = new URL(call.path, this.options.baseUrl);
    for (const [name, value] of Object.entries(call.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      'pardot-business-unit-id': this.options.businessUnitId,
    };
    if (this.options.actor) headers['x-handoff-actor'] = this.options.actor;
    if (call.raw) headers['content-type'] = call.raw.contentType;
    else if (call.body !== undefined) headers['content-type'] = 'application/json';
    let answer: HttpAnswer;
    try {
      answer = await httpRequest(url, {
        method: call.method,
        headers,
        body: call.raw ? call.raw.text : call.body === undefined ? undefined : JSON.stringify(call.body),
        timeoutMs: this.timeoutMs,
      });
    } catch (error) {
      throw new AccountEngagementError(
        `${call.method} ${call.path}: ${(error as Error).message}`,
        null,
        null,
        true,
        call.method !== 'GET',
      );
    }
    const { status, text } = answer;
    if (status >= 200 && status < 300) return call.asText ? text : text === '' ? null : JSON.parse(text);
    let code: number | null = null;
    let message = text.slice(0, 300);
    try {
      const body = JSON.parse(text) as {
        code?: number;
        message?: string;
        err?: string;
        '@attributes'?: { err_code?: number };
      };
      code = body.code ?? body['@attributes']?.err_code ?? null;
      message = body.message ?? body.err ?? message;
    } catch {
      // Not JSON (a proxy's error page): the status says enough.
    }
    const retryable = status >= 500 || code === AE_CODES.concurrency || code === AE_CODES.dailyLimit;
    throw new AccountEngagementError(
      `${call.method} ${call.path}: ${status} ${code ?? ''} ${message}`.replace(/\s+/g, ' ').trim(),
      status,
      code,
      retryable,
      status >= 500 && call.method !== 'GET',
    );
  }
}
