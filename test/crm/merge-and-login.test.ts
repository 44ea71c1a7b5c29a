import jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.js';
import { startTestCrm, TEST_CREDENTIALS, type TestCrm } from '../support/crm-server.js';
import { buildAccount, buildContact, buildLead } from '../support/factories.js';

interface MergeResult {
  id: string | null;
  mergedRecordIds: string[];
  updatedRelatedIds: string[];
  success: boolean;
  errors: Array<{ statusCode: string; message: string }>;
}

for (const dialect of DIALECTS) {
  describe(`SOAP merge and login (${dialect})`, () => {
    let crm: TestCrm;
    let conn: jsforce.Connection;

    beforeAll(async () => {
      crm = await startTestCrm({ dialect });
      conn = await crm.connect();
    });

    afterAll(async () => {
      await crm.close();
    });

    const create = async (type: string, fields: Record<string, unknown>) =>
      ((await conn.sobject(type).create(fields)) as { id: string }).id;
    const merge = async (request: Record<string, unknown>) =>
      (await conn.soap.merge(request as never)) as unknown as MergeResult;

    it('logs in over SOAP (jsforce without a connected app) and uses the session for REST', async () => {
      const soapConn = new jsforce.Connection({ loginUrl: crm.url, version: '60.0' });
      const info = await soapConn.login(TEST_CREDENTIALS.username, TEST_CREDENTIALS.password);
      expect(info.id).toBe(crm.adminUserId);
      expect(info.organizationId).toBe(crm.services.orgId());
      expect(soapConn.instanceUrl).toBe(crm.url);
      const leadId = await create('Lead', buildLead());
      const lead = (await soapConn.sobject('Lead').retrieve(leadId)) as { Id: string };
      expect(lead.Id).toBe(leadId);

      const wrong = new jsforce.Connection({ loginUrl: crm.url, version: '60.0' });
      await expect(wrong.login(TEST_CREDENTIALS.username, 'not the password')).rejects.toThrow(
        /INVALID_LOGIN/,
      );

      // jsforce's logout() of a SOAP session is SOAP logout: the session ends at once.
      const sessionId = soapConn.accessToken!;
      await soapConn.logout();
      const after = new jsforce.Connection({ instanceUrl: crm.url, accessToken: sessionId, version: '60.0' });
      await expect(after.sobject('Lead').retrieve(leadId)).rejects.toMatchObject({
        errorCode: 'INVALID_SESSION_ID',
      });
    });

    it('describes tabs over SOAP: one app with a tab per object, as jsforce’s soap.describeTabs() reads it', async () => {
      const apps = (await conn.soap.describeTabs()) as unknown as Array<{
        label: string;
        logoUrl: string;
        selected: boolean;
        tabs: Array<Record<string, unknown>>;
      }>;
      expect(apps).toHaveLength(1);
      expect(apps[0]).toMatchObject({ label: 'Sales', logoUrl: expect.any(String), selected: true });
      const lead = apps[0]!.tabs.find((t) => t.sobjectName === 'Lead');
      expect(lead).toMatchObject({
        name: 'standard-Lead',
        label: 'Leads',
        custom: false,
        url: `${crm.url}/00Q/o`,
      });
      for (const tab of apps[0]!.tabs) {
        expect(Array.isArray(tab.icons)).toBe(true);
        expect(tab).toMatchObject({ miniIconUrl: expect.any(String), sobjectName: expect.any(String) });
      }
    });

    it('merges a lead into another: master updated, tasks and memberships moved, loser deleted with MasterRecordId', async () => {
      const master = await create('Lead', buildLead({ LastName: 'Master', Title: null }));
      const loser = await create('Lead', buildLead({ LastName: 'Loser' }));
      const task = await create('Task', { Subject: 'Call', WhoId: loser, Status: 'Not Started' });
      const campaign = await create('Campaign', { Name: `Merge campaign ${loser}` });
      const member = await create('CampaignMember', { CampaignId: campaign, LeadId: loser });

      const result = await merge({
        masterRecord: { type: 'Lead', Id: master, Title: 'VP Sales' },
        recordToMergeIds: [loser],
      });
      expect(result).toMatchObject({ success: true, id: master, mergedRecordIds: [loser] });
      expect([...result.updatedRelatedIds].sort()).toEqual([task, member].sort());

      const survivor = (await conn.sobject('Lead').retrieve(master)) as Record<string, unknown>;
      expect(survivor.Title).toBe('VP Sales');
      expect(((await conn.sobject('Task').retrieve(task)) as { WhoId: string }).WhoId).toBe(master);
      expect(((await conn.sobject('CampaignMember').retrieve(member)) as { LeadId: string }).LeadId).toBe(
        master,
      );

      const gone = await conn.query<{ Id: string; IsDeleted: boolean; MasterRecordId: string }>(
        `SELECT Id, IsDeleted, MasterRecordId FROM Lead WHERE Id = '${loser}'`,
        { scanAll: true },
      );
      expect(gone.records[0]).toMatchObject({ IsDeleted: true, MasterRecordId: master });
      const live = await conn.query(`SELECT Id FROM Lead WHERE Id = '${loser}'`);
      expect(live.totalSize).toBe(0);
    });

    it('merges two accounts into a third, moving their contacts', async () => {
      const master = await create('Account', buildAccount());
      const a = await create('Account', buildAccount());
      const b = await create('Account', buildAccount());
      const contact = await create('Contact', buildContact({ AccountId: b }));
      const result = await merge({ masterRecord: { type: 'Account', Id: master }, recordToMergeIds: [a, b] });
      expect(result).toMatchObject({ success: true, mergedRecordIds: [a, b], updatedRelatedIds: [contact] });
      expect(((await conn.sobject('Contact').retrieve(contact)) as { AccountId: string }).AccountId).toBe(
        master,
      );
    });

    it('refuses bad merges and changes nothing', async () => {
      const master = await create('Contact', buildContact());
      const others = [
        await create('Contact', buildContact()),
        await create('Contact', buildContact()),
        await create('Contact', buildContact()),
      ];
      const tooMany = await merge({
        masterRecord: { type: 'Contact', Id: master },
        recordToMergeIds: others,
      });
      expect(tooMany).toMatchObject({ success: false, errors: [{ statusCode: 'INVALID_OPERATION' }] });

      const account = await create('Account', buildAccount());
      const wrongType = await merge({
        masterRecord: { type: 'Contact', Id: master },
        recordToMergeIds: [account],
      });
      expect(wrongType).toMatchObject({ success: false, errors: [{ statusCode: 'MALFORMED_ID' }] });

      const self = await merge({ masterRecord: { type: 'Contact', Id: master }, recordToMergeIds: [master] });
      expect(self).toMatchObject({ success: false, errors: [{ statusCode: 'INVALID_OPERATION' }] });

      const unsupported = await merge({
        masterRecord: { type: 'Task', Id: master },
        recordToMergeIds: [others[0]],
      });
      expect(unsupported).toMatchObject({ success: false, errors: [{ statusCode: 'INVALID_TYPE' }] });

      // A failing master update rolls the whole merge back: the loser stays.
      const loser = others[0]!;
      const badUpdate = await merge({
        masterRecord: { type: 'Contact', Id: master, Email: 'not-an-email' },
        recordToMergeIds: [loser],
      });
      expect(badUpdate).toMatchObject({ success: false, errors: [{ statusCode: 'INVALID_EMAIL_ADDRESS' }] });
      const still = await conn.query(`SELECT Id FROM Contact WHERE Id = '${loser}'`);
      expect(still.totalSize).toBe(1);
    });
  });
}
