// Over 400 lines on purpose: one typed method per v5 resource call the areas use, each a few lines; the wire (retries, tokens, errors, paging) is ae-transport.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import { AccountEngagementError, AE_CODES } from './ae-error.js';
import { startProspectExport, type ExportPage } from './prospect-export.js';
import {
  AccountEngagementTransport,
  type AccountEngagementClientOptions,
  type Call,
} from './ae-transport.js';

export type { AccountEngagementClientOptions };

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

export interface ImportJobInfo {
  id: number;
  status: 'Open' | 'Waiting' | 'Processing' | 'Complete';
  createdCount: number;
  updatedCount: number;
  errorCount: number;
  createdAt: string;
}

/**
 * A typed client for the Account Engagement API (v5, and v4 where v5 has no equivalent), for
 * the embedded marketing engine and real business units alike. It retries what is safe to
 * retry, refreshes the token once on 184/401, and otherwise throws AccountEngagementError.
 */
export class AccountEngagementClient {
  private readonly transport: AccountEngagementTransport;

  constructor(options: AccountEngagementClientOptions) {
    this.transport = new AccountEngagementTransport(options);
  }

  /** Calls sent so far (each counts against the unit's daily API limit). */
  get callsSent(): number {
    return this.transport.callsSent;
  }

  /**
   * Starts exporting every live prospect (prospect-export.ts): a few calls for any number; the
   * rows come from the generator it answers with, once the unit has written them.
   */
  startProspectExport(
    fields: readonly string[],
    options: { pollMs?: number; deleted?: boolean } = {},
  ): Promise<AsyncGenerator<ExportPage>> {
    return startProspectExport(this.transport, fields, options);
  }

  private json<T>(call: Call): Promise<T> {
    return this.transport.json<T>(call);
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
    return this.transport.allByPageToken<ProspectRecord>('/api/v5/objects/prospects', {
      fields: [...new Set(['id', 'updatedAt', 'isDeleted', ...fields])].join(','),
      updatedAtAfterOrEqualTo: since,
      orderBy: 'updatedAt asc',
      limit: options.pageSize ?? 1000,
      deleted: options.deleted ? 'all' : undefined,
    });
  }

  /** Every campaign's name by id (the CRM's `pi__campaign__c` carries the name). */
  async campaignNames(): Promise<Map<number, string>> {
    const campaigns = await this.transport.allByPageToken<{ id: number; name: string }>(
      '/api/v5/objects/campaigns',
      { fields: 'id,name', limit: 1000 },
    );
    return new Map(campaigns.map((c) => [c.id, c.name]));
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

  /** The unit's custom prospect fields: name, API id (`fieldId`, `…__c` on prospects) and type. */
  async customFields(): Promise<Array<{ name: string; fieldId: string; type?: string }>> {
    const page = await this.json<{ values: Array<{ name: string; fieldId: string; type?: string }> }>({
      method: 'GET',
      path: '/api/v5/objects/custom-fields',
      query: { fields: 'name,fieldId,type' },
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
    const lists = await this.transport.allById<{
      id: number;
      name: string;
      salesforceCampaignId: string | null;
    }>('/api/v5/objects/lists', { fields: 'id,name,salesforceCampaignId' });
    return lists.flatMap((list) =>
      list.salesforceCampaignId ? [{ ...list, salesforceCampaignId: list.salesforceCampaignId }] : [],
    );
  }

  /** The prospect ids of a list's (live, not opted-out) members. */
  async listMembers(listId: number): Promise<number[]> {
    const members = await this.transport.allById<{
      id: number;
      prospectId: number;
      optedOut: boolean | null;
    }>('/api/v5/objects/list-memberships', { fields: 'id,prospectId,optedOut', listId });
    return members.filter((m) => m.optedOut !== true).map((m) => m.prospectId);
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
    return this.transport.allById(
      '/api/v5/objects/visitor-activities',
      { fields: 'id,prospectId,createdAt', type },
      afterId,
    );
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
    return this.transport.allById<MarketingActivity>('/api/v5/objects/visitor-activities', {
      fields: ACTIVITY_FIELDS,
      prospectId,
    });
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
}
