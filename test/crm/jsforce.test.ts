import jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.js';
import { startTestCrm, TEST_CREDENTIALS, type TestCrm } from '../support/crm-server.js';
import { buildAccount, buildContact, buildLead, leadKeyField } from '../support/factories.js';

interface SaveResult {
  id?: string;
  success: boolean;
  errors: Array<{ errorCode?: string; statusCode?: string; message: string }>;
}

for (const dialect of DIALECTS) {
  describe(`jsforce 3 against the embedded CRM (${dialect})`, () => {
    let crm: TestCrm;
    let conn: jsforce.Connection;

    beforeAll(async () => {
      crm = await startTestCrm({
        dialect,
        config: {
          customFields: [leadKeyField('External_Key__c')],
        },
      });
      conn = await crm.connect();
    });

    afterAll(async () => {
      await crm.close();
    });

    it('logs in with the OAuth password grant and learns the org and user from the identity URL', () => {
      expect(conn.accessToken).toBeTruthy();
      expect(conn.instanceUrl).toBe(crm.url);
      expect(conn.userInfo?.id).toBe(crm.adminUserId);
      expect(conn.userInfo?.organizationId).toBe(crm.services.orgId());
    });

    it('logs in with the client credentials grant as the connected app’s run-as user', async () => {
      const cc = new jsforce.Connection({
        oauth2: {
          loginUrl: crm.url,
          clientId: TEST_CREDENTIALS.clientId,
          clientSecret: TEST_CREDENTIALS.clientSecret,
        },
        version: '60.0',
      });
      const userInfo = await cc.authorize({ grant_type: 'client_credentials' });
      expect(userInfo.id).toBe(crm.adminUserId);
      const identity = await cc.identity();
      expect(identity.username).toBe(TEST_CREDENTIALS.username);
    });

    it('rejects a wrong password with invalid_grant', async () => {
      const bad = new jsforce.Connection({
        oauth2: {
          loginUrl: crm.url,
          clientId: TEST_CREDENTIALS.clientId,
          clientSecret: TEST_CREDENTIALS.clientSecret,
        },
      });
      await expect(bad.login(TEST_CREDENTIALS.username, 'wrong')).rejects.toThrow(/authentication failure/);
    });

    it('describes the global schema and an object with its fields, types and picklists', async () => {
      const global = await conn.describeGlobal();
      expect(global.sobjects.map((s) => s.name)).toEqual(
        expect.arrayContaining([
          'Account',
          'Contact',
          'Lead',
          'Opportunity',
          'Campaign',
          'CampaignMember',
          'Task',
          'User',
        ]),
      );
      const lead = await conn.sobject('Lead').describe();
      const byName = new Map(lead.fields.map((f) => [f.name, f]));
      expect(lead.keyPrefix).toBe('00Q');
      expect(byName.get('Email')?.type).toBe('email');
      expect(byName.get('LastName')?.nillable).toBe(false);
      expect(byName.get('pi__score__c')?.type).toBe('double');
      expect(byName.get('External_Key__c')?.externalId).toBe(true);
      expect(byName.get('Status')?.picklistValues?.map((p) => p.value)).toContain('Open - Not Contacted');
      expect(byName.get('SystemModstamp')?.createable).toBe(false);
    });

    it('creates, retrieves, updates and destroys a single record', async () => {
      const created = (await conn
        .sobject('Lead')
        .create(buildLead({ LastName: 'Single', Company: 'Acme' }))) as SaveResult;
      expect(created.success).toBe(true);
      expect(created.id).toMatch(/^00Q[0-9A-Za-z]{15}$/);
      const id = created.id as string;

      const read = (await conn.sobject('Lead').retrieve(id)) as Record<string, unknown>;
      expect(read).toMatchObject({
        Id: id,
        LastName: 'Single',
        Company: 'Acme',
        Status: 'Open - Not Contacted',
        IsDeleted: false,
      });
      expect(read.OwnerId).toBe(crm.adminUserId);
      expect(read.CreatedById).toBe(crm.adminUserId);
      expect(String(read.SystemModstamp)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/);

      const updated = (await conn
        .sobject('Lead')
        .update({ Id: id, Phone: '+1 555 0100', Company: 'Acme Corp' })) as SaveResult;
      expect(updated.success).toBe(true);
      const after = (await conn.sobject('Lead').retrieve(id)) as Record<string, unknown>;
      expect(after).toMatchObject({ Phone: '+1 555 0100', Company: 'Acme Corp', LastName: 'Single' });
      expect(String(after.SystemModstamp) >= String(read.SystemModstamp)).toBe(true);

      const destroyed = (await conn.sobject('Lead').destroy(id)) as SaveResult;
      expect(destroyed.success).toBe(true);
      await expect(conn.sobject('Lead').retrieve(id)).rejects.toMatchObject({
        errorCode: 'ENTITY_IS_DELETED',
      });
    });

    it('creates, retrieves, updates and destroys arrays through sObject Collections, with per-record results', async () => {
      const created = (await conn
        .sobject('Contact')
        .create([
          buildContact({ LastName: 'Many-1' }),
          buildContact({ LastName: undefined }),
          buildContact({ LastName: 'Many-3' }),
        ])) as SaveResult[];
      expect(created.map((r) => r.success)).toEqual([true, false, true]);
      expect(created[1]?.errors[0]).toMatchObject({ statusCode: 'REQUIRED_FIELD_MISSING' });
      const ids = [created[0]?.id, created[2]?.id] as string[];

      const read = (await conn.sobject('Contact').retrieve(ids)) as Array<Record<string, unknown>>;
      expect(read.map((r) => r.LastName)).toEqual(['Many-1', 'Many-3']);

      const updated = (await conn
        .sobject('Contact')
        .update(ids.map((Id) => ({ Id, Title: 'CFO' })))) as SaveResult[];
      expect(updated.every((r) => r.success)).toBe(true);
      const reread = (await conn.sobject('Contact').retrieve(ids)) as Array<Record<string, unknown>>;
      expect(reread.map((r) => r.Title)).toEqual(['CFO', 'CFO']);

      const destroyed = (await conn.sobject('Contact').destroy(ids)) as SaveResult[];
      expect(destroyed.every((r) => r.success)).toBe(true);
      const count = await conn.query(`SELECT COUNT() FROM Contact WHERE Id IN ('${ids.join("','")}')`);
      expect(count.totalSize).toBe(0);
    });

    it('upserts by external id: creates the first time, updates the second, for one record and for arrays', async () => {
      const first = (await conn
        .sobject('Lead')
        .upsert(buildLead({ External_Key__c: 'ext-1', LastName: 'Up' }), 'External_Key__c')) as SaveResult & {
        created: boolean;
      };
      expect(first).toMatchObject({ success: true, created: true });
      const second = (await conn
        .sobject('Lead')
        .upsert({ External_Key__c: 'EXT-1', LastName: 'Upserted' }, 'External_Key__c')) as SaveResult & {
        created: boolean;
      };
      expect(second).toMatchObject({ success: true, created: false, id: first.id });
      const read = (await conn.sobject('Lead').retrieve(first.id as string)) as Record<string, unknown>;
      expect(read.LastName).toBe('Upserted');

      const many = (await conn
        .sobject('Lead')
        .upsert(
          [buildLead({ External_Key__c: 'ext-1', Title: 'CEO' }), buildLead({ External_Key__c: 'ext-2' })],
          'External_Key__c',
        )) as Array<SaveResult & { created: boolean }>;
      expect(many.map((r) => [r.success, r.created])).toEqual([
        [true, false],
        [true, true],
      ]);
      expect(many[0]?.id).toBe(first.id);
    });

    it('queries with autoFetch across several pages, returning every record exactly once', async () => {
      const company = `Paging ${Date.now()}`;
      const batch = Array.from({ length: 450 }, (_, i) =>
        buildLead({ Company: company, LastName: `P${String(i).padStart(3, '0')}` }),
      );
      for (let i = 0; i < batch.length; i += 200) {
        const results = (await conn.sobject('Lead').create(batch.slice(i, i + 200))) as SaveResult[];
        expect(results.every((r) => r.success)).toBe(true);
      }
      let pageRequests = 0;
      const records: Array<Record<string, unknown>> = [];
      await new Promise<void>((resolve, reject) => {
        const query = conn
          .query(`SELECT Id, LastName FROM Lead WHERE Company = '${company}' ORDER BY LastName`)
          .on('fetch', () => pageRequests++)
          .on('record', (r: Record<string, unknown>) => records.push(r))
          .on('end', () => resolve())
          .on('error', reject);
        void query.run({
          autoFetch: true,
          maxFetch: 10_000,
          headers: { 'Sforce-Query-Options': 'batchSize=200' },
        });
      });
      expect(pageRequests).toBe(3);
      expect(records).toHaveLength(450);
      expect(new Set(records.map((r) => r.Id)).size).toBe(450);
      expect(records.map((r) => r.LastName)).toEqual(batch.map((b) => b.LastName));
    });

    it('reports updated and deleted records for a window', async () => {
      const start = new Date(Date.now() - 60_000);
      const kept = (await conn.sobject('Account').create(buildAccount())) as SaveResult;
      const gone = (await conn.sobject('Account').create(buildAccount())) as SaveResult;
      await conn.sobject('Account').destroy(gone.id as string);
      const end = new Date(Date.now() + 120_000);

      const updated = await conn.sobject('Account').updated(start, end);
      expect(updated.ids).toContain(kept.id);
      expect(updated.ids).not.toContain(gone.id);
      expect(updated.latestDateCovered).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00\.000\+0000$/);

      const deleted = await conn.sobject('Account').deleted(start, end);
      expect(deleted.deletedRecords.map((d) => d.id)).toEqual([gone.id]);
      expect(deleted.earliestDateAvailable).toBeTruthy();
    });

    it('reads the org limits, whose remaining count goes down as calls are made', async () => {
      const before = (await conn.limits()) as unknown as {
        DailyApiRequests: { Max: number; Remaining: number };
      };
      await conn.sobject('Lead').describe();
      const after = (await conn.limits()) as unknown as {
        DailyApiRequests: { Max: number; Remaining: number };
      };
      expect(before.DailyApiRequests.Max).toBe(100_000);
      expect(after.DailyApiRequests.Remaining).toBe(before.DailyApiRequests.Remaining - 2);
    });

    it('refreshes an expired access token with the refresh token and retries the call', async () => {
      const refreshing = await crm.connect();
      const oldToken = refreshing.accessToken as string;
      await crm.services.oauth.revoke(oldToken);
      const result = await refreshing.query('SELECT COUNT() FROM User');
      expect(result.totalSize).toBeGreaterThanOrEqual(1);
      expect(refreshing.accessToken).not.toBe(oldToken);
    });
  });
}
