import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectCrm } from '../../src/clients/salesforce/crm-connection.js';
import { SalesforceTokenSource } from '../../src/clients/salesforce-oauth.js';
import { resolveConfig } from '../../src/cli/config.js';
import { startServers, type RunningServers } from '../../src/cli/servers.js';

type Json = Record<string, unknown>;
const SYNC_WAIT = { timeout: 60_000, interval: 200 };

/** A browser's view of the console API: a cookie jar and the CSRF token the page would hold. */
class ConsoleClient {
  cookie = '';
  csrf = '';
  constructor(private readonly base: string) {}

  async call(method: string, path: string, body?: unknown, options: { csrf?: boolean } = {}) {
    const headers: Record<string, string> = {};
    if (this.cookie) headers.cookie = this.cookie;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (options.csrf !== false && method !== 'GET') headers['x-csrf-token'] = this.csrf;
    const response = await fetch(`${this.base}/console/api/${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const set = response.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0]!;
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    return { status: response.status, body: (type.includes('json') ? JSON.parse(text) : text) as Json, type };
  }

  async logIn(username: string, password: string) {
    this.csrf = String((await this.call('GET', 'session')).body.csrfToken);
    const answer = await this.call('POST', 'login', { username, password });
    if (answer.status === 200) this.csrf = String(answer.body.csrfToken);
    return answer;
  }
}

describe('the console API on the demo', { timeout: 120_000 }, () => {
  let dataDir: string;
  let servers: RunningServers;
  let crm: jsforce.Connection;
  let admin: ConsoleClient;

  const start = () =>
    startServers(
      resolveConfig(
        { dataDir, host: '127.0.0.1', crmPort: '0', marketingPort: '0', ingestPort: '0', consolePort: '0' },
        {},
        dataDir,
      ),
      { set: 'demo', sampleData: true, log: () => undefined },
    );

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'handoff-console-api-'));
    servers = await start();
    crm = await connectCrm({ flow: 'password', ...servers.credentials.crm }, { client: 'test' });
    admin = new ConsoleClient(servers.consoleUrl!);
    const { username, password } = servers.credentials.crm;
    expect((await admin.logIn(username, password)).status).toBe(200);
  });

  afterAll(async () => {
    await servers?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('needs a session for every route but login, and the CSRF token for every change', async () => {
    const stranger = new ConsoleClient(servers.consoleUrl!);
    for (const path of [
      'overview',
      'metrics',
      'settings',
      'errors',
      'errors.csv',
      'ingest',
      'crm/Lead',
      'prospects',
    ]) {
      const answer = await stranger.call('GET', path);
      expect(answer.status, path).toBe(401);
      expect((answer.body.error as Json).code).toBe('NOT_LOGGED_IN');
    }
    expect((await stranger.logIn(servers.credentials.crm.username, 'wrong')).status).toBe(401);
    expect((await stranger.call('GET', 'overview')).status).toBe(401);

    // Logged in, a change without the token is refused and changes nothing.
    const refused = await admin.call('POST', 'pause', { paused: true }, { csrf: false });
    expect(refused.status).toBe(403);
    expect((refused.body.error as Json).code).toBe('INVALID_CSRF_TOKEN');
    expect((await servers.connector!.status()).paused).toBe(false);
  });

  it('saves valid mappings, refuses a field a side lacks or a field mapped twice, and changes nothing then', async () => {
    const before = (await admin.call('GET', 'settings')).body as { settings: Json; fields: Json };
    const settings = before.settings as { mappings: { Lead: Json[]; Contact: Json[] }; rules: Json };
    expect((before.fields as { crm: { Lead: string[] } }).crm.Lead).toContain('Title');

    const unknown = structuredClone(settings);
    unknown.mappings.Lead = unknown.mappings.Lead.map((m) =>
      m.prospectField === 'jobTitle' ? { ...m, crmField: 'No_Such__c' } : m,
    );
    const refusedUnknown = await admin.call('PUT', 'settings', unknown);
    expect(refusedUnknown.status).toBe(400);
    expect((refusedUnknown.body.error as Json).message).toContain(
      'Lead.No_Such__c does not exist in the CRM',
    );

    const twice = structuredClone(settings);
    twice.mappings.Contact.push({
      prospectField: 'phone',
      crmField: 'MobilePhone',
      direction: 'both',
      conflict: 'crm',
    });
    const refusedTwice = await admin.call('PUT', 'settings', twice);
    expect(refusedTwice.status).toBe(400);
    expect((refusedTwice.body.error as Json).message).toContain('phone is mapped twice on Contact');

    // A read-only system field as the target: refused, the reason on the row it came from.
    const readOnly = structuredClone(settings);
    readOnly.mappings.Contact = readOnly.mappings.Contact.map((m) =>
      m.prospectField === 'department' ? { ...m, crmField: 'CreatedDate' } : m,
    );
    const refusedReadOnly = await admin.call('PUT', 'settings', readOnly);
    expect(refusedReadOnly.status).toBe(400);
    const row = settings.mappings.Contact.findIndex((m) => m.prospectField === 'department');
    expect((refusedReadOnly.body.error as Json).issues).toEqual([
      {
        path: `mappings.Contact.${row}`,
        message: expect.stringContaining('Contact.CreatedDate is read-only in the CRM') as unknown,
      },
    ]);

    expect((await admin.call('GET', 'settings')).body.settings).toEqual(settings);

    const changed = structuredClone(settings);
    changed.mappings.Lead = changed.mappings.Lead.filter((m) => m.prospectField !== 'fax');
    changed.rules.createLeads = 'never';
    const saved = await admin.call('PUT', 'settings', changed);
    expect(saved.status).toBe(200);
    expect(servers.connector!.engine.mappings.Lead.map((m) => m.prospectField)).not.toContain('fax');
    expect(servers.connector!.engine.rules.createLeads).toBe('never');
  });

  it('keeps saved mappings and rules across a restart, and keeps sessions (the key is in credentials.json)', async () => {
    await servers.stop();
    servers = await start();
    // The same browser, on the restarted console: its cookie still holds the session.
    admin = Object.assign(new ConsoleClient(servers.consoleUrl!), { cookie: admin.cookie, csrf: admin.csrf });
    const settings = (await admin.call('GET', 'settings')).body.settings as {
      mappings: { Lead: Json[] };
      rules: Json;
    };
    expect(settings.rules.createLeads).toBe('never');
    expect(settings.mappings.Lead.map((m) => m.prospectField)).not.toContain('fax');
    crm = await connectCrm({ flow: 'password', ...servers.credentials.crm }, { client: 'test' });
  });

  it('lists sync errors by category, exports them as CSV, and skips one', async () => {
    servers.crm!.config.validationRules.push({
      object: 'Lead',
      name: 'No_Acme',
      when: [{ field: 'Company', op: 'equals', value: 'Acme' }],
      message: 'Acme is not a customer',
      field: 'Company',
      active: true,
    });
    const marketing = servers.marketing!;
    const unit = (await marketing.units.list())[0]!;
    // A prospect assigned to a user is handed to sales as a Lead, which the rule refuses.
    const settings = (await admin.call('GET', 'settings')).body.settings as { rules: Json };
    await admin.call('PUT', 'settings', {
      ...settings,
      rules: { ...settings.rules, createLeads: 'assigned' },
    });
    const users = (await admin.call('GET', 'prospects')).body.users as Array<{ id: number }>;
    const created = await fetch(`${servers.marketingUrl}/api/v5/objects/prospects?fields=id`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await token(servers)}`,
        'pardot-business-unit-id': unit.id,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ email: 'acme@example.com', lastName: 'Buyer', company: 'Acme' }),
    });
    const prospectId = ((await created.json()) as { id: number }).id;
    const assigned = await admin.call('POST', `prospects/${prospectId}/assign`, { userId: users[0]!.id });
    expect(assigned.status, JSON.stringify(assigned.body)).toBe(200);

    let errors: Json[] = [];
    await expect
      .poll(
        async () => (errors = (await admin.call('GET', 'errors')).body.errors as Json[]).length,
        SYNC_WAIT,
      )
      .toBeGreaterThan(0);
    expect(errors[0]).toMatchObject({
      category: 'validation',
      side: 'crm',
      message: 'Acme is not a customer',
      state: 'open',
    });

    const csv = await admin.call('GET', 'errors.csv');
    expect(csv.type).toContain('text/csv');
    const rows = parse(String(csv.body), { columns: true }) as Json[];
    expect(rows[0]).toMatchObject({
      category: 'validation',
      message: 'Acme is not a customer',
      prospectId: String(prospectId),
    });

    const skipped = await admin.call('POST', 'errors/skip', { ids: [errors[0]!.id] });
    expect(skipped.body.skipped).toBe(1);
    expect((await admin.call('GET', 'errors')).body.errors).toEqual([]);
    expect((await admin.call('POST', 'errors/skip', { ids: 'some' })).status).toBe(400);
  });

  it('links the demo’s sample data on its first start, and a backfill run again makes nothing twice', async () => {
    // The sample Leads and Contacts predate the connector: its first start backfills them.
    const withEmail = async () =>
      (await crm.query('SELECT Id FROM Lead WHERE Email != null AND IsConverted = false')).totalSize +
      (await crm.query('SELECT Id FROM Contact WHERE Email != null')).totalSize;
    const sample = await withEmail();
    expect(sample).toBeGreaterThanOrEqual(20);
    type Overview = { linked: { total: number }; backfill: { needed: boolean; doneAt: string | null } };
    await expect
      .poll(async () => ((await admin.call('GET', 'overview')).body as Overview).backfill.doneAt, SYNC_WAIT)
      .not.toBeNull();
    const first = (await admin.call('GET', 'overview')).body as Overview;
    expect(first.backfill.needed).toBe(false);
    expect(first.linked.total).toBeGreaterThanOrEqual(sample - 2);

    const started = await admin.call('POST', 'backfill');
    expect(started.status).toBe(202);
    const id = (started.body.job as Json).id;
    let job: Json = {};
    await expect
      .poll(async () => (job = (await admin.call('GET', `jobs/${id}`)).body.job as Json).state, SYNC_WAIT)
      .toBe('done');
    // Everything was linked at the first start: the second backfill has nothing to make.
    expect(String(job.message)).toMatch(/^0 linked/);
    const overview = (await admin.call('GET', 'overview')).body as Overview;
    expect(overview.linked.total).toBeGreaterThanOrEqual(first.linked.total);
    expect(overview.linked.total).toBeLessThanOrEqual(await withEmail());
    const minutes = (await admin.call('GET', 'metrics?minutes=60')).body.minutes as Json[];
    expect(minutes).toHaveLength(60);
    expect(minutes.reduce((n, m) => n + Number(m.crmCalls), 0)).toBeGreaterThan(0);
    expect((await admin.call('GET', 'metrics?minutes=0')).status).toBe(400);
  });

  it('edits a Lead, refusing a field the page does not edit', async () => {
    const lead = (
      await crm.query<{ Id: string }>("SELECT Id FROM Lead WHERE Email = 'edsger@dijkstra.example'")
    ).records[0]!;
    const edited = await admin.call('PATCH', `crm/Lead/${lead.Id}`, { fields: { Title: 'Professor' } });
    expect(edited.status, JSON.stringify(edited.body)).toBe(200);
    expect(((await crm.sobject('Lead').retrieve(lead.Id)) as unknown as Json).Title).toBe('Professor');
    const refused = await admin.call('PATCH', `crm/Lead/${lead.Id}`, { fields: { OwnerId: 'x' } });
    expect(refused.status).toBe(400);
    expect((refused.body.error as Json).code).toBe('INVALID_INPUT');
  });
});

/** A bearer token for the marketing API, from the CRM's OAuth server as any client gets one. */
function token(servers: RunningServers): Promise<string> {
  return new SalesforceTokenSource({ flow: 'password', ...servers.credentials.crm }).token();
}
