import type jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.js';
import { startTestCrm, type TestCrm } from '../support/crm-server.js';
import { buildAccount, buildContact, buildLead } from '../support/factories.js';

interface ConvertResult {
  leadId: string;
  accountId: string | null;
  contactId: string | null;
  opportunityId: string | null;
  success: boolean;
  errors: Array<{ statusCode: string; message: string }>;
}

for (const dialect of DIALECTS) {
  describe(`lead conversion over SOAP (${dialect})`, () => {
    let crm: TestCrm;
    let conn: jsforce.Connection;

    beforeAll(async () => {
      crm = await startTestCrm({ dialect });
      conn = await crm.connect();
    });

    afterAll(async () => {
      await crm.close();
    });

    const createLead = async (overrides: Record<string, unknown> = {}) =>
      ((await conn.sobject('Lead').create(buildLead(overrides))) as { id: string }).id;
    const convert = async (request: Record<string, unknown>) =>
      (await conn.soap.convertLead(request as never)) as unknown as ConvertResult;
    const read = async (type: string, id: string) =>
      (await conn.sobject(type).retrieve(id)) as Record<string, unknown>;

    it('converts a lead into a new Account, Contact and Opportunity and marks the lead converted', async () => {
      const leadId = await createLead({
        FirstName: 'Grace',
        LastName: 'Hopper',
        Company: 'Cobol Inc',
        Email: 'grace@cobol.example',
        City: 'Arlington',
        LeadSource: 'Web',
        pi__score__c: 87,
        pi__grade__c: 'A',
      });
      const result = await convert({ leadId, convertedStatus: 'Closed - Converted' });
      expect(result).toMatchObject({ leadId, success: true, errors: [] });
      expect(result.accountId).toMatch(/^001/);
      expect(result.contactId).toMatch(/^003/);
      expect(result.opportunityId).toMatch(/^006/);

      expect(await read('Account', result.accountId as string)).toMatchObject({
        Name: 'Cobol Inc',
        BillingCity: 'Arlington',
      });
      expect(await read('Contact', result.contactId as string)).toMatchObject({
        FirstName: 'Grace',
        LastName: 'Hopper',
        Email: 'grace@cobol.example',
        AccountId: result.accountId,
        pi__score__c: 87,
        pi__grade__c: 'A',
      });
      expect(await read('Opportunity', result.opportunityId as string)).toMatchObject({
        Name: 'Cobol Inc-',
        AccountId: result.accountId,
        StageName: 'Prospecting',
        LeadSource: 'Web',
      });
      const lead = await read('Lead', leadId);
      expect(lead).toMatchObject({
        IsConverted: true,
        Status: 'Closed - Converted',
        ConvertedAccountId: result.accountId,
        ConvertedContactId: result.contactId,
        ConvertedOpportunityId: result.opportunityId,
      });
      expect(lead.ConvertedDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      await expect(conn.sobject('Lead').update({ Id: leadId, Title: 'Admiral' })).rejects.toMatchObject({
        errorCode: 'CANNOT_UPDATE_CONVERTED_LEAD',
      });
    });

    it('merges into a given Account and Contact, filling only the Contact’s blanks, without an Opportunity', async () => {
      const accountId = (
        (await conn.sobject('Account').create(buildAccount({ Name: 'Existing' }))) as { id: string }
      ).id;
      const contactId = (
        (await conn
          .sobject('Contact')
          .create(buildContact({ AccountId: accountId, Title: 'CTO', Email: 'keep@x.example' }))) as {
          id: string;
        }
      ).id;
      const leadId = await createLead({ Title: 'Engineer', Email: 'lead@x.example', Phone: '555-0101' });
      const result = await convert({
        leadId,
        convertedStatus: 'Closed - Converted',
        accountId,
        contactId,
        doNotCreateOpportunity: true,
      });
      expect(result).toMatchObject({ success: true, accountId, contactId, opportunityId: null });
      expect(await read('Contact', contactId)).toMatchObject({
        Title: 'CTO',
        Email: 'keep@x.example',
        Phone: '555-0101',
      });
      const accounts = await conn.query(`SELECT COUNT() FROM Account WHERE Name = 'Existing'`);
      expect(accounts.totalSize).toBe(1);
    });

    it('moves the lead’s open tasks to the contact and leaves closed ones where they were', async () => {
      const leadId = await createLead();
      const open = (
        (await conn.sobject('Task').create({ Subject: 'Call back', WhoId: leadId })) as { id: string }
      ).id;
      const done = (
        (await conn
          .sobject('Task')
          .create({ Subject: 'Sent brochure', WhoId: leadId, Status: 'Completed' })) as { id: string }
      ).id;
      const result = await convert({
        leadId,
        convertedStatus: 'Closed - Converted',
        doNotCreateOpportunity: true,
      });
      expect((await read('Task', open)).WhoId).toBe(result.contactId);
      expect((await read('Task', done)).WhoId).toBe(leadId);
    });

    it('reports a bad conversion per lead and changes nothing for it', async () => {
      const leadId = await createLead({ LastName: 'Unconverted' });
      const [bad, missing] = (await conn.soap.convertLead([
        { leadId, convertedStatus: 'Open - Not Contacted' },
        { leadId: '00Q5g0000009999EAA', convertedStatus: 'Closed - Converted' },
      ] as never)) as unknown as ConvertResult[];
      expect(bad).toMatchObject({ success: false, errors: [{ statusCode: 'INVALID_STATUS' }] });
      expect(missing).toMatchObject({
        success: false,
        errors: [{ statusCode: 'INVALID_CROSS_REFERENCE_KEY' }],
      });
      expect((await read('Lead', leadId)).IsConverted).toBe(false);
      const contacts = await conn.query(`SELECT COUNT() FROM Contact WHERE LastName = 'Unconverted'`);
      expect(contacts.totalSize).toBe(0);
      const again = await convert({
        leadId,
        convertedStatus: 'Closed - Converted',
        doNotCreateOpportunity: true,
      });
      expect(again.success).toBe(true);
      const twice = await convert({ leadId, convertedStatus: 'Closed - Converted' });
      expect(twice).toMatchObject({
        success: false,
        errors: [{ statusCode: 'CANNOT_UPDATE_CONVERTED_LEAD' }],
      });
    });

    it('undeletes records from the recycle bin', async () => {
      const leadId = await createLead({ LastName: 'Lazarus' });
      await conn.sobject('Lead').destroy(leadId);
      const [restored] = (await conn.soap.undelete([leadId])) as unknown as Array<{
        id: string;
        success: boolean;
      }>;
      expect(restored).toMatchObject({ id: leadId, success: true });
      expect((await read('Lead', leadId)).IsDeleted).toBe(false);
      const [again] = (await conn.soap.undelete([leadId])) as unknown as Array<{
        success: boolean;
        errors: Array<{ statusCode: string }>;
      }>;
      expect(again).toMatchObject({ success: false, errors: [{ statusCode: 'UNDELETE_FAILED' }] });
    });

    it('answers getUserInfo for the session’s user, and a SOAP fault for a bad session', async () => {
      const info = (await conn.soap.getUserInfo()) as unknown as Record<string, unknown>;
      expect(info).toMatchObject({ userId: crm.adminUserId, organizationId: crm.services.orgId() });
      const fault = await fetch(`${crm.url}/services/Soap/u/60.0`, {
        method: 'POST',
        headers: { 'content-type': 'text/xml', SOAPAction: '""' },
        body: '<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Header><SessionHeader><sessionId>forged</sessionId></SessionHeader></soapenv:Header><soapenv:Body><getUserInfo/></soapenv:Body></soapenv:Envelope>',
      });
      expect(fault.status).toBe(500);
      expect(await fault.text()).toContain('<faultcode>sf:INVALID_SESSION_ID</faultcode>');
    });
  });
}
