import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.js';
import { startTestCrm, type TestCrm } from '../support/crm-server.js';

type Json = Record<string, unknown>;
interface QueryBody {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
  records: Json[];
}

for (const dialect of DIALECTS) {
  describe(`relationship queries: subqueries, semi-joins and anti-joins (${dialect})`, () => {
    let crm: TestCrm;
    const ids: Record<string, string> = {};

    const query = async (soql: string, headers: Record<string, string> = {}) => {
      const r = await crm.api(`/query?q=${encodeURIComponent(soql)}`, { headers });
      return {
        status: r.status,
        body: (await r.json()) as QueryBody & Array<{ errorCode: string; message: string }>,
      };
    };

    beforeAll(async () => {
      crm = await startTestCrm({ dialect });
      ids.acme = await crm.create('Account', { Name: 'Rel Acme', AccountNumber: 'A-1' });
      ids.globex = await crm.create('Account', { Name: 'Rel Globex' });
      ids.empty = await crm.create('Account', { Name: 'Rel Empty' });
      for (const [last, account] of [
        ['Ames', 'acme'],
        ['Baker', 'acme'],
        ['Cole', 'acme'],
        ['Drew', 'globex'],
      ] as const) {
        ids[last] = await crm.create('Contact', {
          LastName: last,
          AccountId: ids[account],
          Email: `${last}@rel.example`,
        });
      }
      ids.campaign = await crm.create('Campaign', { Name: 'Rel Webinar' });
      ids.inLead = await crm.create('Lead', { LastName: 'Member', Company: 'Rel Co' });
      ids.outLead = await crm.create('Lead', { LastName: 'Outsider', Company: 'Rel Co' });
      await crm.create('CampaignMember', { CampaignId: ids.campaign, LeadId: ids.inLead });
      await crm.create('Task', { Subject: 'Call', WhoId: ids.inLead, WhatId: ids.acme });
    });

    afterAll(async () => {
      await crm.close();
    });

    it('gives each parent its children as a query result, or null, with the subquery’s own WHERE, ORDER BY and LIMIT', async () => {
      const { status, body } = await query(
        `SELECT Id, Name, (SELECT Id, LastName FROM Contacts WHERE LastName != 'Baker' ORDER BY LastName DESC LIMIT 5) FROM Account WHERE Name LIKE 'Rel %' ORDER BY Name`,
      );
      expect(status).toBe(200);
      expect(body).toMatchObject({ totalSize: 3, done: true });
      const byName = Object.fromEntries(body.records.map((r) => [r.Name, r.Contacts]));
      expect(byName['Rel Acme']).toEqual({
        totalSize: 2,
        done: true,
        records: [
          {
            attributes: { type: 'Contact', url: `/services/data/v60.0/sobjects/Contact/${ids.Cole}` },
            Id: ids.Cole,
            LastName: 'Cole',
          },
          {
            attributes: { type: 'Contact', url: `/services/data/v60.0/sobjects/Contact/${ids.Ames}` },
            Id: ids.Ames,
            LastName: 'Ames',
          },
        ],
      });
      expect((byName['Rel Globex'] as QueryBody).records.map((r) => r.LastName)).toEqual(['Drew']);
      expect(byName['Rel Empty']).toBeNull();

      // LIMIT applies per parent; several subqueries, and polymorphic children (Tasks via WhatId).
      const limited = await query(
        `SELECT Name, (SELECT LastName FROM Contacts ORDER BY LastName LIMIT 1), (SELECT Subject FROM Tasks) FROM Account WHERE Id = '${ids.acme}'`,
      );
      expect(limited.body.records[0]).toMatchObject({
        Contacts: { totalSize: 1, records: [expect.objectContaining({ LastName: 'Ames' })] },
        Tasks: { totalSize: 1, records: [expect.objectContaining({ Subject: 'Call' })] },
      });
      const leads = await query(
        `SELECT LastName, (SELECT CampaignId FROM CampaignMembers), (SELECT Subject FROM Tasks) FROM Lead WHERE Id = '${ids.inLead}'`,
      );
      expect(leads.body.records[0]).toMatchObject({
        CampaignMembers: { records: [expect.objectContaining({ CampaignId: ids.campaign })] },
        Tasks: { records: [expect.objectContaining({ Subject: 'Call' })] },
      });
    });

    it('keeps children on every page of a paged parent query', async () => {
      const many = await Promise.all(
        Array.from({ length: 250 }, (_, i) =>
          crm.create('Account', { Name: `Paged Parent ${String(i).padStart(3, '0')}` }),
        ),
      );
      await Promise.all(
        many.map((accountId, i) => crm.create('Contact', { LastName: `Kid${i}`, AccountId: accountId })),
      );
      const first = await query(
        `SELECT Id, (SELECT LastName FROM Contacts) FROM Account WHERE Name LIKE 'Paged Parent %' ORDER BY Name`,
        { 'Sforce-Query-Options': 'batchSize=200' },
      );
      expect(first.body).toMatchObject({ totalSize: 250, done: false });
      const second = (await (
        await crm.api(first.body.nextRecordsUrl!.replace('/services/data/v60.0', ''))
      ).json()) as QueryBody;
      const all = [...first.body.records, ...second.records];
      expect(all).toHaveLength(250);
      for (const record of all) expect((record.Contacts as QueryBody).records).toHaveLength(1);
    });

    it('filters by semi-joins and anti-joins', async () => {
      const members = await query(
        `SELECT Id FROM Lead WHERE Id IN (SELECT LeadId FROM CampaignMember WHERE CampaignId = '${ids.campaign}')`,
      );
      expect(members.body.records.map((r) => r.Id)).toEqual([ids.inLead]);
      const outsiders = await query(
        `SELECT Id FROM Lead WHERE Company = 'Rel Co' AND Id NOT IN (SELECT LeadId FROM CampaignMember)`,
      );
      expect(outsiders.body.records.map((r) => r.Id)).toEqual([ids.outLead]);
      const withContacts = await query(
        `SELECT Name FROM Account WHERE Name LIKE 'Rel %' AND Id IN (SELECT AccountId FROM Contact WHERE Email LIKE '%rel.example') ORDER BY Name`,
      );
      expect(withContacts.body.records.map((r) => r.Name)).toEqual(['Rel Acme', 'Rel Globex']);
      const without = await query(
        `SELECT Name FROM Account WHERE Name LIKE 'Rel %' AND Id NOT IN (SELECT AccountId FROM Contact) ORDER BY Name`,
      );
      expect(without.body.records.map((r) => r.Name)).toEqual(['Rel Empty']);
    });

    it('refuses what Salesforce refuses, in its error format', async () => {
      const cases: Array<[string, string]> = [
        ['SELECT Id, (SELECT Id FROM Nonsense) FROM Account', 'INVALID_TYPE'],
        ['SELECT Id, (SELECT Id, (SELECT Id FROM Tasks) FROM Contacts) FROM Account', 'MALFORMED_QUERY'],
        [
          'SELECT Id FROM Lead WHERE Id IN (SELECT LeadId, CampaignId FROM CampaignMember)',
          'MALFORMED_QUERY',
        ],
        ['SELECT Id FROM Lead WHERE LastName IN (SELECT LeadId FROM CampaignMember)', 'MALFORMED_QUERY'],
        [
          'SELECT Id FROM Lead WHERE Id IN (SELECT LeadId FROM CampaignMember WHERE ContactId IN (SELECT Id FROM Contact))',
          'MALFORMED_QUERY',
        ],
        ['SELECT Id FROM Lead WHERE Id IN (SELECT Nope FROM CampaignMember)', 'INVALID_FIELD'],
      ];
      for (const [soql, errorCode] of cases) {
        const { status, body } = await query(soql);
        expect(status, soql).toBe(400);
        expect(body[0]?.errorCode, soql).toBe(errorCode);
      }
    });

    it('describes child relationships, and reads the standard fields clients send (Organization, AccountNumber, Case)', async () => {
      const describe = (await (await crm.api('/sobjects/Account/describe')).json()) as {
        childRelationships: Json[];
      };
      expect(describe.childRelationships).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            childSObject: 'Contact',
            field: 'AccountId',
            relationshipName: 'Contacts',
          }),
          expect.objectContaining({
            childSObject: 'Opportunity',
            field: 'AccountId',
            relationshipName: 'Opportunities',
          }),
          expect.objectContaining({ childSObject: 'Case', field: 'AccountId', relationshipName: 'Cases' }),
          expect.objectContaining({ childSObject: 'Task', field: 'WhatId', relationshipName: 'Tasks' }),
        ]),
      );
      // What the Salesforce CLI reads of the org.
      const org = await query(
        'SELECT Name, InstanceName, IsSandbox, TrialExpirationDate, NamespacePrefix, OrganizationType FROM Organization',
      );
      expect(org.status).toBe(200);
      expect(org.body.records[0]).toMatchObject({
        IsSandbox: false,
        TrialExpirationDate: null,
        NamespacePrefix: null,
      });
      const account = await query(`SELECT AccountNumber FROM Account WHERE Id = '${ids.acme}'`);
      expect(account.body.records[0]).toMatchObject({ AccountNumber: 'A-1' });

      const first = await crm.create('Case', { Subject: 'Broken', AccountId: ids.acme, Origin: 'Web' });
      const second = await crm.create('Case', {
        Subject: 'Still broken',
        ContactId: ids.Ames,
        Status: 'Closed',
      });
      const cases = await query(
        `SELECT CaseNumber, Status, Priority, IsClosed, Account.Name FROM Case WHERE Id IN ('${first}', '${second}') ORDER BY CaseNumber`,
      );
      expect(cases.body.records).toEqual([
        expect.objectContaining({
          Status: 'New',
          Priority: 'Medium',
          IsClosed: false,
          Account: expect.objectContaining({ Name: 'Rel Acme' }),
        }),
        expect.objectContaining({ Status: 'Closed', IsClosed: true, Account: null }),
      ]);
      const numbers = cases.body.records.map((r) => String(r.CaseNumber));
      expect(numbers[0]).toMatch(/^\d{8}$/);
      expect(Number(numbers[1])).toBe(Number(numbers[0]) + 1);
      const readOnly = await crm.api('/sobjects/Case', {
        method: 'POST',
        body: JSON.stringify({ CaseNumber: '1' }),
      });
      expect(readOnly.status).toBe(400);
    });
  });
}
