import type jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.js';
import { startTestCrm, type TestCrm } from '../support/crm-server.js';

interface Activity {
  Subject: string;
  IsTask: boolean;
  IsClosed: boolean;
  What: { Name: string } | null;
  Owner: { Username: string };
}
type WithActivities = { Name: string } & Record<
  'ActivityHistories' | 'OpenActivities',
  { records: Activity[] } | null
>;

const HOUR = 3_600_000;

for (const dialect of DIALECTS) {
  describe(`ActivityHistories and OpenActivities (${dialect})`, () => {
    let crm: TestCrm;
    let conn: jsforce.Connection;
    let account: string;
    let contact: string;
    let opportunity: string;

    beforeAll(async () => {
      crm = await startTestCrm({ dialect });
      conn = await crm.connect();
      account = await crm.create('Account', { Name: 'Edge Communications', Type: 'Customer - Direct' });
      contact = await crm.create('Contact', { LastName: 'Gonzalez', AccountId: account });
      opportunity = await crm.create('Opportunity', {
        Name: 'Edge Installation',
        AccountId: account,
        StageName: 'Prospecting',
        CloseDate: '2027-01-31',
      });
      const iso = (offset: number) => new Date(Date.now() + offset).toISOString();
      await crm.create('Task', { Subject: 'Called', Status: 'Completed', WhoId: contact });
      await crm.create('Task', { Subject: 'Call back', Status: 'Not Started', WhatId: account });
      await crm.create('Event', {
        Subject: 'Site visit',
        WhatId: opportunity,
        StartDateTime: iso(-3 * HOUR),
        EndDateTime: iso(-2 * HOUR),
        ActivityDateTime: iso(-3 * HOUR),
        DurationInMinutes: 60,
      });
      await crm.create('Event', {
        Subject: 'Kick-off',
        WhatId: opportunity,
        StartDateTime: iso(48 * HOUR),
        EndDateTime: iso(49 * HOUR),
        ActivityDateTime: iso(48 * HOUR),
        DurationInMinutes: 60,
      });
      const gone = await crm.create('Task', { Subject: 'Deleted', Status: 'Completed', WhatId: account });
      await conn.sobject('Task').destroy(gone);
    });

    afterAll(async () => {
      await crm.close();
    });

    it("lists an Account's past and open activities, through its Contacts and Opportunities too", async () => {
      // As jsforce's own schema test asks for them: include() reads describe's child relationships.
      const found = (await conn
        .sobject('Account')
        .find({ Type: ['Customer - Direct', 'Partner'] }, ['Name'])
        .include('ActivityHistories')
        .select(['Subject', 'IsTask', 'IsClosed', 'ActivityDate', 'What.Name', 'Owner.Username'])
        .end()
        .include('OpenActivities')
        .select(['Subject', 'IsTask', 'IsClosed', 'What.Name', 'Owner.Username'])
        .end()) as unknown as WithActivities[];
      expect(found).toHaveLength(1);
      const [edge] = found;
      const history = edge!.ActivityHistories!.records;
      expect(history.map((a) => [a.Subject, a.IsTask, a.IsClosed]).sort()).toEqual([
        ['Called', true, true],
        ['Site visit', false, true],
      ]);
      expect(history.find((a) => a.Subject === 'Site visit')?.What?.Name).toBe('Edge Installation');
      expect(history[0]!.Owner.Username).toBe('admin@test.handoff');
      expect(edge!.OpenActivities!.records.map((a) => [a.Subject, a.IsClosed]).sort()).toEqual([
        ['Call back', false],
        ['Kick-off', false],
      ]);
    });

    it('lists a Contact’s by its Who and an Opportunity’s by its What', async () => {
      const contacts = await conn.query<{
        ActivityHistories: { records: Activity[] } | null;
        OpenActivities: null;
      }>(
        `SELECT (SELECT Subject FROM ActivityHistories), (SELECT Subject FROM OpenActivities) FROM Contact WHERE Id = '${contact}'`,
      );
      expect(contacts.records[0]?.ActivityHistories?.records.map((a) => a.Subject)).toEqual(['Called']);
      expect(contacts.records[0]?.OpenActivities).toBeNull();
      const opportunities = await conn.query<{ OpenActivities: { records: Activity[] } }>(
        `SELECT (SELECT Subject FROM OpenActivities) FROM Opportunity WHERE Id = '${opportunity}'`,
      );
      expect(opportunities.records[0]?.OpenActivities.records.map((a) => a.Subject)).toEqual(['Kick-off']);
    });

    it('describes them as child relationships, and refuses to query them alone', async () => {
      const described = await conn.sobject('Account').describe();
      expect(described.childRelationships).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            relationshipName: 'ActivityHistories',
            childSObject: 'ActivityHistory',
            field: 'AccountId',
          }),
          expect.objectContaining({ relationshipName: 'OpenActivities', childSObject: 'OpenActivity' }),
        ]),
      );
      const alone = await crm.call(`/query?q=${encodeURIComponent('SELECT Id FROM ActivityHistory')}`, 'GET');
      expect(alone.status).toBe(400);
      expect(alone.body).toEqual([
        expect.objectContaining({
          errorCode: 'INVALID_TYPE_FOR_OPERATION',
          message: 'entity type ActivityHistory does not support query',
        }),
      ]);
      const made = await crm.call('/sobjects/ActivityHistory', 'POST', { Subject: 'x' });
      expect(made.status).toBeGreaterThanOrEqual(400);
      expect(made.status).toBeLessThan(500);
    });
  });
}
