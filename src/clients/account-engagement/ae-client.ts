import { setTimeout as sleep } from 'node:timers/promises';
import { httpRequest, type HttpAnswer } from '../http-transport.js';
import type { SalesforceTokenSource } from '../salesforce-oauth.js';
import { AccountEngagementError, AE_CODES } from './ae-error.js';

/** A visitor activity as v5 `visitor-activities` gives it: what a CRM Task is made from. */
export interface MarketingActivity {
  id: number;
  type: number;
  typeName: string | null;
  prospectId: number | null;
  campaignId: number | null;
  emailId: number | null;
  formId: number | null;
  formHandlerId: number | null;
  landingPageId: number | null;
  fileId: number | null;
  details: string | null;
  createdAt: string;
}

const ACTIVITY_FIELDS =
  'id,type,typeName,prospectId,campaignId,emailId,formId,formHandlerId,landingPageId,fileId,details,createdAt';

export type ProspectValues = Record<string, string | number | boolean | null>;
export type ProspectRecord = Record<string, unknown> & { id: number };

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

export interface ImportJobInfo {
  id: number;
  status: 'Open' | 'Waiting' | 'Processing' | 'Complete';
  createdCount: number;
  updatedCount: number;
  errorCount: number;
  createdAt: string;
}

interface Call {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** A body sent as it is (multipart uploads), instead of `body` as JSON. */
  raw?: { text: string; contentType: string };
  /** Safe to send again after an answer was lost (reads, updates, upserts). */
  idempotent: boolean;
}

/**
 * A typed client for the Account Engagement API (v5, and v4 where v5 has no equivalent), for
 * the embedded marketing engine and real business units alike. It retries what is safe to
 * retry, refreshes the token once on 184/401, and otherwise throws AccountEngagementError.
 */
export class AccountEngagementClient {
  private readonly maxAttempts: number;
  private readonly timeoutMs: number;
  private sent = 0;

  constructor(private readonly options: AccountEngagementClientOptions) {
    this.maxAttempts = options.maxAttempts ?? 4;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  // ---- prospects ------------------------------------------------------------------------------

  /** A prospect by id, in the recycle bin or not (ask for `isDeleted` to tell). */
  readProspect(id: number, fields: readonly string[]): Promise<ProspectRecord> {
    return this.json({
      method: 'GET',
      path: `/api/v5/objects/prospects/${id}`,
      // A real unit answers 404 for a recycled prospect unless asked: the sync must see those.
      query: { fields: fields.join(','), deleted: 'all' },
      idempotent: true,
    });
  }

  /** Live prospects with this email (case-insensitive), most recently updated first. */
  async prospectsByEmail(email: string, fields: readonly string[]): Promise<ProspectRecord[]> {
    const page = await this.json<{ values: ProspectRecord[] }>({
      method: 'GET',
      path: '/api/v5/objects/prospects',
      query: {
        fields: [...new Set(['id', 'updatedAt', ...fields])].join(','),
        email,
        orderBy: 'updatedAt desc',
        limit: 200,
      },
      idempotent: true,
    });
    return page.values;
  }

  /** Prospects with this email created at or after `since` (finding a create whose answer was lost). */
  async prospectsCreatedSince(
    email: string,
    since: string,
    fields: readonly string[],
  ): Promise<ProspectRecord[]> {
    const page = await this.json<{ values: ProspectRecord[] }>({
      method: 'GET',
      path: '/api/v5/objects/prospects',
      query: {
        fields: [...new Set(['id', ...fields])].join(','),
        email,
        createdAtAfterOrEqualTo: since,
        limit: 200,
      },
      idempotent: true,
    });
    return page.values;
  }

  /**
   * Every prospect updated at or after `since` (deleted ones too, when asked), oldest change
   * first, following the page tokens.
   */
  async prospectsUpdatedSince(
    since: string,
    fields: readonly string[],
    options: { deleted?: boolean; pageSize?: number } = {},
  ): Promise<ProspectRecord[]> {
    const out: ProspectRecord[] = [];
    let page = await this.json<{ values: ProspectRecord[]; nextPageToken: string | null }>({
      method: 'GET',
      path: '/api/v5/objects/prospects',
      query: {
        fields: [...new Set(['id', 'updatedAt', 'isDeleted', ...fields])].join(','),
        updatedAtAfterOrEqualTo: since,
        orderBy: 'updatedAt asc',
        limit: options.pageSize ?? 1000,
        deleted: options.deleted ? 'all' : undefined,
      },
      idempotent: true,
    });
    out.push(...page.values);
    while (page.nextPageToken) {
      page = await this.json({
        method: 'GET',
        path: '/api/v5/objects/prospects',
        query: { nextPageToken: page.nextPageToken },
        idempotent: true,
      });
      out.push(...page.values);
    }
    return out;
  }

  /** The unit's prospect field names as v5 knows them (standard and custom `…__c`). */
  async prospectFieldNames(standard: readonly string[]): Promise<Set<string>> {
    const custom = await this.customFields();
    return new Set([...standard, ...custom.map((f) => `${f.fieldId}__c`)]);
  }

  /** Not idempotent: after an ambiguous failure the caller looks for the prospect before retrying. */
  createProspect(values: ProspectValues, fields: readonly string[] = ['id']): Promise<ProspectRecord> {
    return this.json({
      method: 'POST',
      path: '/api/v5/objects/prospects',
      query: { fields: fields.join(',') },
      body: values,
      idempotent: false,
    });
  }

  updateProspect(
    id: number,
    values: ProspectValues,
    fields: readonly string[] = ['id'],
  ): Promise<ProspectRecord> {
    return this.json({
      method: 'PATCH',
      path: `/api/v5/objects/prospects/${id}`,
      query: { fields: fields.join(',') },
      body: values,
      idempotent: true,
    });
  }

  /** Updates the latest prospect with the email, or creates one: safe to repeat. */
  upsertLatestByEmail(
    email: string,
    values: ProspectValues,
    fields: readonly string[] = ['id'],
  ): Promise<ProspectRecord> {
    return this.json({
      method: 'POST',
      path: '/api/v5/objects/prospects/do/upsertLatestByEmail',
      body: { matchEmail: email, prospect: values, fields: [...fields] },
      idempotent: true,
    });
  }

  /** Sends a prospect to the recycle bin. */
  async deleteProspect(id: number): Promise<void> {
    await this.json({ method: 'DELETE', path: `/api/v5/objects/prospects/${id}`, idempotent: true });
  }

  /** Brings a prospect back from the recycle bin. */
  undeleteProspect(id: number, fields: readonly string[] = ['id']): Promise<ProspectRecord> {
    return this.json({
      method: 'POST',
      path: '/api/v5/objects/prospects/do/undelete',
      body: { prospectId: id, fields: [...fields] },
      idempotent: true,
    });
  }

  /** The CRM user id (`salesforceId`) of an Account Engagement user, if it has one. */
  async userSalesforceId(userId: number): Promise<string | null> {
    const user = await this.json<{ salesforceId?: string | null }>({
      method: 'GET',
      path: `/api/v5/objects/users/${userId}`,
      query: { fields: 'salesforceId' },
      idempotent: true,
    });
    return user.salesforceId ?? null;
  }

  /**
   * Read by CRM id (`fid`) through v3/v4 — v5 has no such lookup; a unit answers only the
   * version its setting allows. Undefined when there is none.
   */
  async prospectByFid(
    fid: string,
    version: 3 | 4,
  ): Promise<{ id: number; email: string | null } | undefined> {
    try {
      const body = await this.json<{ prospect: { id: number | string; email?: string | null } }>({
        method: 'POST',
        path: `/api/prospect/version/${version}/do/read/fid/${encodeURIComponent(fid)}`,
        query: { format: 'json' },
        idempotent: true,
      });
      return { id: Number(body.prospect.id), email: body.prospect.email ?? null };
    } catch (error) {
      if (error instanceof AccountEngagementError && error.code === AE_CODES.invalidProspectId)
        return undefined;
      throw error;
    }
  }

  /**
   * Assigns a prospect to a user (v4's `do/assign`: v5 has no assignment action), as a user
   * assigning it in the app would.
   */
  async assignProspect(id: number, userId: number): Promise<void> {
    const assign = (version: 3 | 4) =>
      this.json({
        method: 'POST',
        path: `/api/prospect/version/${version}/do/assign/id/${id}`,
        query: { format: 'json', user_id: userId },
        idempotent: true,
      });
    try {
      await assign(4);
    } catch (error) {
      // A unit answers v3 or v4, whichever its setting allows.
      if (!(error instanceof AccountEngagementError && error.code === AE_CODES.invalidVersion)) throw error;
      await assign(3);
    }
  }

  /** A page of prospects, newest first (v5 query). */
  async recentProspects(fields: readonly string[], limit = 50): Promise<ProspectRecord[]> {
    const page = await this.json<{ values: ProspectRecord[] }>({
      method: 'GET',
      path: '/api/v5/objects/prospects',
      query: { fields: fields.join(','), limit, orderBy: 'id desc' },
      idempotent: true,
    });
    return page.values;
  }

  /** The unit's users: whom a prospect can be assigned to. */
  async users(): Promise<
    Array<{ id: number; email: string; firstName: string | null; lastName: string | null }>
  > {
    const page = await this.json<{
      values: Array<{ id: number; email: string; firstName: string | null; lastName: string | null }>;
    }>({
      method: 'GET',
      path: '/api/v5/objects/users',
      query: { fields: 'id,email,firstName,lastName' },
      idempotent: true,
    });
    return page.values;
  }

  async customFields(): Promise<Array<{ name: string; fieldId: string }>> {
    const page = await this.json<{ values: Array<{ name: string; fieldId: string }> }>({
      method: 'GET',
      path: '/api/v5/objects/custom-fields',
      query: { fields: 'name,fieldId' },
      idempotent: true,
    });
    return page.values;
  }

  // ---- activities and lists -------------------------------------------------------------------

  createExternalActivity(activity: {
    extension: string;
    type: string;
    value?: string | null;
    email: string;
    activityDate?: string;
  }): Promise<Record<string, unknown>> {
    return this.json({
      method: 'POST',
      path: '/api/v5/external-activities',
      body: activity,
      idempotent: false,
    });
  }

  /** Adds a prospect to a list unless it is on it already. */
  async addToList(listId: number, prospectId: number): Promise<void> {
    if ((await this.memberships(listId, prospectId)).length > 0) return;
    await this.json({
      method: 'POST',
      path: '/api/v5/objects/list-memberships',
      query: { fields: 'id' },
      body: { listId, prospectId },
      idempotent: false,
    });
  }

  async removeFromList(listId: number, prospectId: number): Promise<void> {
    for (const membership of await this.memberships(listId, prospectId)) {
      await this.json({
        method: 'DELETE',
        path: `/api/v5/objects/list-memberships/${membership.id}`,
        idempotent: true,
      });
    }
  }

  /** The unit's lists that stand for a CRM Campaign (`salesforceCampaignId` set). */
  async campaignLists(): Promise<Array<{ id: number; name: string; salesforceCampaignId: string }>> {
    const out: Array<{ id: number; name: string; salesforceCampaignId: string }> = [];
    for (let after = 0; ;) {
      const page = await this.json<{
        values: Array<{ id: number; name: string; salesforceCampaignId: string | null }>;
      }>({
        method: 'GET',
        path: '/api/v5/objects/lists',
        query: {
          fields: 'id,name,salesforceCampaignId',
          idGreaterThan: after,
          orderBy: 'id asc',
          limit: 1000,
        },
        idempotent: true,
      });
      for (const list of page.values)
        if (list.salesforceCampaignId) out.push({ ...list, salesforceCampaignId: list.salesforceCampaignId });
      if (page.values.length < 1000) return out;
      after = page.values[page.values.length - 1]!.id;
    }
  }

  /** The prospect ids of a list's (live, not opted-out) members. */
  async listMembers(listId: number): Promise<number[]> {
    const out: number[] = [];
    for (let after = 0; ;) {
      const page = await this.json<{
        values: Array<{ id: number; prospectId: number; optedOut: boolean | null }>;
      }>({
        method: 'GET',
        path: '/api/v5/objects/list-memberships',
        query: {
          fields: 'id,prospectId,optedOut',
          listId,
          idGreaterThan: after,
          orderBy: 'id asc',
          limit: 1000,
        },
        idempotent: true,
      });
      for (const m of page.values) if (m.optedOut !== true) out.push(m.prospectId);
      if (page.values.length < 1000) return out;
      after = page.values[page.values.length - 1]!.id;
    }
  }

  private async memberships(listId: number, prospectId: number): Promise<Array<{ id: number }>> {
    const page = await this.json<{ values: Array<{ id: number }> }>({
      method: 'GET',
      path: '/api/v5/objects/list-memberships',
      query: { fields: 'id', listId, prospectId },
      idempotent: true,
    });
    return page.values;
  }

  /** Visitor activities of a type with ids above `afterId`, oldest first, page by page. */
  async activitiesAfter(
    afterId: number,
    type: number,
  ): Promise<Array<{ id: number; prospectId: number | null; createdAt: string }>> {
    const out: Array<{ id: number; prospectId: number | null; createdAt: string }> = [];
    for (let after = afterId; ;) {
      const page = await this.json<{
        values: Array<{ id: number; prospectId: number | null; createdAt: string }>;
      }>({
        method: 'GET',
        path: '/api/v5/objects/visitor-activities',
        query: {
          fields: 'id,prospectId,createdAt',
          type,
          idGreaterThan: after,
          orderBy: 'id asc',
          limit: 1000,
        },
        idempotent: true,
      });
      out.push(...page.values);
      if (page.values.length < 1000) return out;
      after = page.values[page.values.length - 1]!.id;
    }
  }

  /** Up to `limit` visitor activities after `afterId`, oldest first, with what a CRM Task needs. */
  async activitiesPage(afterId: number, limit = 1000, prospectId?: number): Promise<MarketingActivity[]> {
    const page = await this.json<{ values: MarketingActivity[] }>({
      method: 'GET',
      path: '/api/v5/objects/visitor-activities',
      query: {
        fields: ACTIVITY_FIELDS,
        idGreaterThan: afterId,
        orderBy: 'id asc',
        limit,
        ...(prospectId === undefined ? {} : { prospectId }),
      },
      idempotent: true,
    });
    return page.values;
  }

  /** Every visitor activity of a prospect, oldest first. */
  async prospectActivities(prospectId: number): Promise<MarketingActivity[]> {
    const out: MarketingActivity[] = [];
    for (let after = 0; ;) {
      const page = await this.activitiesPage(after, 1000, prospectId);
      out.push(...page);
      if (page.length < 1000) return out;
      after = page[page.length - 1]!.id;
    }
  }

  /**
   * The name of a campaign, form, form handler or landing page (an email's subject), or null
   * when there is no such record.
   */
  async assetName(
    collection: 'campaigns' | 'forms' | 'form-handlers' | 'landing-pages' | 'emails',
    id: number,
  ): Promise<string | null> {
    const field = collection === 'emails' ? 'subject' : 'name';
    try {
      const record = await this.json<Record<string, unknown>>({
        method: 'GET',
        path: `/api/v5/objects/${collection}/${id}`,
        query: { fields: field },
        idempotent: true,
      });
      return typeof record[field] === 'string' ? (record[field] as string) : null;
    } catch (error) {
      if (error instanceof AccountEngagementError && error.status === 404) return null;
      throw error;
    }
  }

  /** The id of the unit's newest visitor activity (0 when it has none). */
  async newestActivityId(): Promise<number> {
    const page = await this.json<{ values: Array<{ id: number }> }>({
      method: 'GET',
      path: '/api/v5/objects/visitor-activities',
      query: { fields: 'id', orderBy: 'id desc', limit: 1 },
      idempotent: true,
    });
    return page.values[0]?.id ?? 0;
  }

  /**
   * Starts a v5 prospect import of one CSV batch (≤ 10 MB), submitted at once. Not repeated
   * when its answer is lost: a repeat would be a second import. Rows keyed by a CRM id column
   * match on it, so a second import of the same rows updates rather than duplicates.
   */
  async startImport(csv: string, operation: 'Create' | 'Update' | 'Upsert'): Promise<ImportJobInfo> {
    const form = new FormData();
    form.set('input', JSON.stringify({ operation, object: 'Prospect', state: 'Ready' }));
    form.set('importFile', new Blob([csv], { type: 'text/csv' }), 'import.csv');
    // The standard Request encodes the multipart body and its boundary.
    const encoded = new Request('http://localhost/', { method: 'POST', body: form });
    const raw = {
      text: await encoded.text(),
      contentType: encoded.headers.get('content-type') ?? 'multipart/form-data',
    };
    return this.json<ImportJobInfo>({ method: 'POST', path: '/api/v5/imports', raw, idempotent: false });
  }

  async importStatus(id: number): Promise<ImportJobInfo> {
    return this.json<ImportJobInfo>({ method: 'GET', path: `/api/v5/imports/${id}`, idempotent: true });
  }

  /** Waits for an import to finish, asking every `pollMs`. */
  async waitForImport(id: number, pollMs = 100): Promise<ImportJobInfo> {
    for (;;) {
      const job = await this.importStatus(id);
      if (job.status === 'Complete') return job;
      await sleep(pollMs);
    }
  }

  // ---- transport ------------------------------------------------------------------------------

  private async json<T>(call: Call): Promise<T> {
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
    if (status >= 200 && status < 300) return text === '' ? null : JSON.parse(text);
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
