import type jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connector/connector-services.js';
import { openTestConnector } from '../support/connector.js';
import { DIALECTS } from '../support/databases.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';

type Json = Record<string, unknown>;

for (const dialect of DIALECTS) {
  describe(`marketing activities become CRM Tasks (${dialect})`, () => {
    let m: TestMarketing;
    let conn: jsforce.Connection;
    let connector: Connector;
    let campaignId: number;

    const post = async (path: string, body: Json) => {
      const r = await m.call(path, { method: 'POST', body: JSON.stringify(body) });
      expect(r.status, r.text).toBeLessThan(300);
      return r.body as Json;
    };
    const tasksOf = async (whoId: string) =>
      (
        await conn.query<Json>(
          `SELECT Subject, Type, Status, ActivityDate, Description, OwnerId, WhoId, Handoff_Activity_Id__c FROM Task WHERE WhoId = '${whoId}' ORDER BY Handoff_Activity_Id__c`,
        )
      ).records;
    /** A Lead synced to its new prospect. */
    const newLead = async (email: string) => {
      const leadId = (
        (await conn.sobject('Lead').create({ LastName: 'Reader', Company: 'R Co', Email: email })) as {
          id: string;
        }
      ).id;
      await connector.runOnce();
      const [p] = await m.services.prospects.byEmail(m.v3Unit.id, email);
      return { leadId, prospectId: p!.id };
    };
    /** An email to the prospect, and its open and click as the recipient's mail client makes them. */
    const emailAndEngage = async (prospectId: number, subject: string) => {
      const email = await post('/api/v5/objects/emails?fields=id', {
        campaignId,
        prospectId,
        subject,
        htmlMessage: '<a href="https://www.example.com/offer">Offer</a>',
      });
      const emailId = email.id as number;
      // The recipient's tracking id, as the mail carried it.
      const token = (await m.crm.database.db
        .selectFrom('marketing_email_recipient' as never)
        .select(['token' as never])
        .where('email_id' as never, '=', emailId as never)
        .executeTakeFirstOrThrow()) as { token: string };
      await fetch(`${m.url}/e/${token.token}/o.gif`);
      await fetch(`${m.url}/e/${token.token}/c/0`, { redirect: 'manual' });
    };

    beforeAll(async () => {
      m = await startTestMarketing({ dialect });
      conn = await m.crm.connect();
      connector = await openTestConnector(m, m.v3Unit.id, undefined, { createLeads: 'form-success' });
      await connector.runOnce();
      campaignId = (await post('/api/v5/objects/campaigns?fields=id', { name: 'Autumn offer' })).id as number;
    });
    afterAll(() => m.close());

    it('makes the email open and click two Tasks on the Lead, once each though the CRM loses answers', async () => {
      const { leadId, prospectId } = await newLead('reader@example.com');
      // Every Task upsert is applied by the CRM, but its answer is lost, twice — whether it goes
      // alone or inside a Composite call with the Lead's score update.
      for (const route of [
        'PATCH /services/data/*/composite/sobjects/Task/*',
        'POST /services/data/*/composite',
      ])
        m.crm.services.faults.add({ route, fault: 'lost-answer', times: 2 });
      await emailAndEngage(prospectId, 'Autumn offer inside');
      for (let i = 0; i < 5; i++) {
        await connector.runOnce();
        await new Promise((resolve) => setTimeout(resolve, 60));
      }
      // The lost answers happened: each try after them upserted the same Tasks again.
      const fired = m.crm.services.faults.list().map((r) => r.fired);
      expect(fired[0]! + fired[1]!).toBeGreaterThanOrEqual(2);
      m.crm.services.faults.clear();
      const owner = ((await conn.sobject('Lead').retrieve(leadId)) as unknown as Json).OwnerId;
      const tasks = await tasksOf(leadId);
      expect(tasks.map((t) => [t.Subject, t.Type, t.Status])).toEqual([
        ['Email: Autumn offer inside', 'Email', 'Completed'],
        ['Email opened: Autumn offer inside', 'Email', 'Completed'],
        ['Email clicked: Autumn offer inside', 'Email', 'Completed'],
      ]);
      for (const task of tasks) {
        expect(task.OwnerId).toBe(owner);
        expect(task.ActivityDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        expect(String(task.Handoff_Activity_Id__c)).toMatch(new RegExp(`^${m.v3Unit.id}:\\d+$`));
      }
      expect(String(tasks[2]!.Description)).toContain('https://www.example.com/offer');
      // Quiet afterwards: nothing more to write.
      const quiet = await connector.runOnce();
      expect(quiet.writesToCrm).toBe(0);
      expect(await tasksOf(leadId)).toHaveLength(3);
    });

    it('puts the next activity’s Task on the Contact once the Lead is converted', async () => {
      const { leadId, prospectId } = await newLead('convert-reader@example.com');
      await emailAndEngage(prospectId, 'Before');
      await connector.runOnce();
      const before = await tasksOf(leadId);
      const [converted] = (await conn.soap.convertLead([
        { leadId, convertedStatus: 'Closed - Converted' },
      ])) as Array<{
        contactId: string;
      }>;
      await connector.runOnce();
      await m.services.activities.record(m.v3Unit, {
        type: 24,
        prospectId,
        campaignId,
        details: 'Autumn webinar',
      });
      await connector.runOnce();
      const onContact = await tasksOf(converted!.contactId);
      expect(onContact.map((t) => t.Subject)).toContain('Webinar attended: Autumn offer');
      // The earlier Tasks are the same Tasks as before (the CRM moved them with the conversion).
      const keys = (
        await conn.query<Json>(
          `SELECT Handoff_Activity_Id__c FROM Task WHERE Handoff_Activity_Id__c LIKE '${m.v3Unit.id}:%'`,
        )
      ).records.map((t) => t.Handoff_Activity_Id__c);
      expect(new Set(keys).size).toBe(keys.length);
      expect(before).toHaveLength(3);
    });

    it('makes a Lead for a form submission, with the form’s Task on it', async () => {
      const handler = await post('/api/v5/objects/form-handlers?fields=id', {
        name: 'Demo request',
        campaignId,
      });
      await post('/api/v5/objects/form-handler-fields?fields=id', {
        formHandlerId: handler.id,
        name: 'email',
        prospectApiFieldId: 'email',
      });
      await post('/api/v5/objects/form-handler-fields?fields=id', {
        formHandlerId: handler.id,
        name: 'last_name',
        prospectApiFieldId: 'lastName',
      });
      await fetch(`${m.url}/l/${m.v3Unit.id}/${handler.id as number}`, {
        method: 'POST',
        body: new URLSearchParams({ email: 'demo-request@example.com', last_name: 'Requester' }),
        redirect: 'manual',
      });
      await connector.runOnce();
      const [lead] = (await conn.query<Json>(`SELECT Id FROM Lead WHERE Email = 'demo-request@example.com'`))
        .records;
      expect(lead).toBeDefined();
      const tasks = await tasksOf(String(lead!.Id));
      expect(tasks.map((t) => [t.Subject, t.Type])).toEqual([['Form: Demo request', 'Other']]);
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`list memberships ↔ CampaignMembers (${dialect})`, () => {
    it('round-trips campaign membership: added or removed on either side, the other follows', async () => {
      const m = await startTestMarketing({ dialect });
      try {
        const conn = await m.crm.connect();
        const connector = await openTestConnector(m, m.v3Unit.id);
        await connector.runOnce();
        const campaign = (await conn.sobject('Campaign').create({ Name: 'Spring webinar' })) as {
          id: string;
        };
        const list = (
          await m.call('/api/v5/objects/lists?fields=id', {
            method: 'POST',
            body: JSON.stringify({ name: 'Spring webinar', salesforceCampaignId: campaign.id }),
          })
        ).body as { id: number };
        const leads: string[] = [];
        for (const n of [1, 2, 3]) {
          const made = (await conn
            .sobject('Lead')
            .create({ LastName: `Member ${n}`, Company: 'M Co', Email: `member${n}@example.com` })) as {
            id: string;
          };
          leads.push(made.id);
        }
        await connector.runOnce();
        const prospectOf = async (n: number) =>
          (await m.services.prospects.byEmail(m.v3Unit.id, `member${n}@example.com`))[0]!.id;
        const crmMembers = async () =>
          (
            await conn.query<{ LeadId: string; Status: string }>(
              `SELECT LeadId, Status FROM CampaignMember WHERE CampaignId = '${campaign.id}' ORDER BY LeadId`,
            )
          ).records.map((r) => r.LeadId);
        const listMembers = async () =>
          (await m.services.collections.memberships(m.v3Unit.id, { listId: list.id }))
            .map((x) => Number(x.values.prospectId))
            .sort((a, b) => a - b);

        // Marketing adds member 1 → a CampaignMember on its Lead.
        await m.call('/api/v5/objects/list-memberships?fields=id', {
          method: 'POST',
          body: JSON.stringify({ listId: list.id, prospectId: await prospectOf(1) }),
        });
        // The CRM adds member 2 → its prospect joins the list.
        await conn
          .sobject('CampaignMember')
          .create({ CampaignId: campaign.id, LeadId: leads[1], Status: 'Responded' });
        await connector.runOnce();
        expect(await crmMembers()).toEqual([leads[0], leads[1]].sort());
        expect(await listMembers()).toEqual([await prospectOf(1), await prospectOf(2)].sort((a, b) => a - b));

        // Removed on either side: marketing drops 1, the CRM drops 2.
        const [one] = await m.services.collections.memberships(m.v3Unit.id, {
          listId: list.id,
          prospectId: await prospectOf(1),
        });
        await m.call(`/api/v5/objects/list-memberships/${one!.id}`, { method: 'DELETE' });
        const [two] = (
          await conn.query<{ Id: string }>(`SELECT Id FROM CampaignMember WHERE LeadId = '${leads[1]}'`)
        ).records;
        await conn.sobject('CampaignMember').destroy(two!.Id);
        await connector.runOnce();
        expect(await crmMembers()).toEqual([]);
        expect(await listMembers()).toEqual([]);
        // Nothing more to do.
        const quiet = await connector.runOnce();
        expect([quiet.writesToCrm, quiet.writesToMarketing]).toEqual([0, 0]);
        await connector.stop();
      } finally {
        await m.close();
      }
    });
  });
}

describe('a Lead made for an assigned prospect in an org with lead assignment rules', () => {
  it("keeps the assignee as owner rather than the org's round robin", async () => {
    const m = await startTestMarketing({ crmConfig: { leadAssignment: 'round-robin' } });
    try {
      for (const last of ['One', 'Two']) {
        const r = await m.crm.api('/sobjects/User', {
          method: 'POST',
          body: JSON.stringify({
            FirstName: 'Rep',
            LastName: last,
            Username: `${last}@test.handoff`,
            Email: `${last}@test.handoff`,
          }),
        });
        expect(r.status).toBe(201);
      }
      const conn = await m.crm.connect();
      const connector = await openTestConnector(m, m.v3Unit.id);
      await connector.runOnce();
      const admin = await m.services.units.userId(m.v3Unit.id, m.crm.adminUserId);
      const owners: unknown[] = [];
      for (const n of [1, 2, 3]) {
        await m.services.prospects.create(
          m.v3Unit,
          { type: 'api' },
          { email: `assigned${n}@example.com`, assignedToId: admin! },
        );
      }
      await connector.runOnce();
      for (const n of [1, 2, 3]) {
        const [lead] = (
          await conn.query<Json>(`SELECT OwnerId FROM Lead WHERE Email = 'assigned${n}@example.com'`)
        ).records;
        owners.push(lead?.OwnerId);
      }
      expect(owners).toEqual([m.crm.adminUserId, m.crm.adminUserId, m.crm.adminUserId]);
    } finally {
      await m.close();
    }
  });
});
