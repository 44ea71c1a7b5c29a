import type jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connector/connector-services.js';
import { openTestConnector } from '../support/connector.js';
import { passCrmCalls } from '../support/crm-calls.js';
import { DEFAULT_MAPPINGS } from '../../src/connector/domain/field-mapping.js';
import { DIALECTS } from '../support/databases.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';
import { noInternsRule } from '../support/factories.js';

type Json = Record<string, unknown>;

for (const dialect of DIALECTS) {
  describe(`the connector between the CRM and the marketing engine (${dialect})`, () => {
    let m: TestMarketing;
    let conn: jsforce.Connection;
    let connector: Connector;

    const open = (unitId: string, mappings?: Parameters<typeof openTestConnector>[2]) =>
      openTestConnector(m, unitId, mappings);
    const prospect = async (
      unit: string,
      email: string,
      fields = 'id,email,firstName,phone,jobTitle,company',
    ) =>
      (
        (
          await m.call(`/api/v5/objects/prospects?fields=${fields}&email=${encodeURIComponent(email)}`, {
            unit,
          })
        ).body as {
          values: Json[];
        }
      ).values;
    const lead = async (id: string) => (await conn.sobject('Lead').retrieve(id)) as unknown as Json;

    beforeAll(async () => {
      m = await startTestMarketing({ dialect });
      conn = await m.crm.connect();
      connector = await open(m.v3Unit.id);
      // The first pass starts the cursors: records older than the connector are left alone.
      await connector.runOnce();
    });

    afterAll(async () => {
      await m.close();
    });

    it('makes a prospect for a new Lead, and sends the prospect id back to the Lead', async () => {
      const created = await conn.sobject('Lead').create({
        FirstName: 'Nova',
        LastName: 'Quinn',
        Company: 'Quinn Labs',
        Email: 'nova@quinn.example',
        Phone: '+1 555 0100',
      });
      const leadId = (created as { id: string }).id;
      const pass = await connector.runOnce();
      expect(pass.errors).toEqual([]);
      expect(pass.created).toBe(1);
      const [p] = await prospect(
        m.v3Unit.id,
        'nova@quinn.example',
        'id,firstName,company,phone,salesforceLeadId',
      );
      expect(p).toMatchObject({
        firstName: 'Nova',
        company: 'Quinn Labs',
        phone: '+1 555 0100',
        salesforceLeadId: leadId,
      });
      // The prospect's id flows to the Lead's Account Engagement fields on the next pass.
      await connector.runOnce();
      expect((await lead(leadId)).pi__pardot_id__c).toBe(String(p!.id));
    });

    it('gives a new Contact’s prospect its Account’s name as company, and never writes it back', async () => {
      const account = (await conn.sobject('Account').create({ Name: 'Contoso Ltd' })) as { id: string };
      const contact = (await conn
        .sobject('Contact')
        .create({ LastName: 'Reyes', AccountId: account.id, Email: 'reyes@contoso.example' })) as {
        id: string;
      };
      expect((await connector.runOnce()).errors).toEqual([]);
      const [p] = await prospect(m.v3Unit.id, 'reyes@contoso.example', 'id,company,salesforceContactId');
      expect(p).toMatchObject({ company: 'Contoso Ltd', salesforceContactId: contact.id });
      // Marketing's company is not the Account's to change: the Account's name comes back.
      await m.call(`/api/v5/objects/prospects/${String(p!.id)}?fields=id`, {
        method: 'PATCH',
        body: JSON.stringify({ company: 'Other Co' }),
      });
      expect((await connector.runOnce()).errors).toEqual([]);
      expect(((await conn.sobject('Account').retrieve(account.id)) as unknown as Json).Name).toBe(
        'Contoso Ltd',
      );
      const [after] = await prospect(m.v3Unit.id, 'reyes@contoso.example', 'id,company');
      expect(after!.company).toBe('Contoso Ltd');
    });

    it('sends a sales rep’s phone change to the prospect, and a marketing title change to the Lead', async () => {
      const leadId = (
        (await conn
          .sobject('Lead')
          .create({ LastName: 'Ortiz', Company: 'Ortiz Co', Email: 'ortiz@example.com' })) as {
          id: string;
        }
      ).id;
      await connector.runOnce();
      await conn.sobject('Lead').update({ Id: leadId, Phone: '+44 20 7946 0000' });
      await connector.runOnce();
      const [p] = await prospect(m.v3Unit.id, 'ortiz@example.com');
      expect(p).toMatchObject({ phone: '+44 20 7946 0000' });

      await m.call(`/api/v5/objects/prospects/${p!.id}?fields=id`, {
        method: 'PATCH',
        body: JSON.stringify({ jobTitle: 'VP Marketing' }),
      });
      await connector.runOnce();
      expect(await lead(leadId)).toMatchObject({ Title: 'VP Marketing', Phone: '+44 20 7946 0000' });

      // The sync log says what went where, why, and by which call — found by either id.
      const log = await connector.syncLog(leadId);
      expect(log.map((e) => [e.field, e.toSide, e.value, e.reason, e.apiCall])).toEqual(
        expect.arrayContaining([
          [
            '*',
            'marketing',
            'ortiz@example.com',
            'prospect made for a new Lead',
            'POST /api/v5/objects/prospects',
          ],
          [
            'phone',
            'marketing',
            '+44 20 7946 0000',
            'changed in the CRM',
            `PATCH /api/v5/objects/prospects/${p!.id}`,
          ],
          [
            'jobTitle',
            'crm',
            'VP Marketing',
            'changed in marketing',
            'PATCH /services/data/v60.0/composite/sobjects',
          ],
        ]),
      );
      expect((await connector.syncLog(String(p!.id))).map((e) => e.id)).toEqual(log.map((e) => e.id));
    });

    it('settles a field changed on both sides by its policy: the CRM by default', async () => {
      const leadId = (
        (await conn
          .sobject('Lead')
          .create({ LastName: 'Both', Company: 'Both Co', Email: 'both@example.com', Phone: '1' })) as {
          id: string;
        }
      ).id;
      await connector.runOnce();
      const [p] = await prospect(m.v3Unit.id, 'both@example.com');
      await conn.sobject('Lead').update({ Id: leadId, Phone: 'from the CRM' });
      await m.call(`/api/v5/objects/prospects/${p!.id}?fields=id`, {
        method: 'PATCH',
        body: JSON.stringify({ phone: 'from marketing' }),
      });
      await connector.runOnce();
      expect((await prospect(m.v3Unit.id, 'both@example.com'))[0]).toMatchObject({ phone: 'from the CRM' });
      expect(await lead(leadId)).toMatchObject({ Phone: 'from the CRM' });
    });

    it('lets marketing win where the mapping says so, and a blank never erases a value', async () => {
      const mappings = {
        Lead: DEFAULT_MAPPINGS.Lead.map((mp) =>
          mp.prospectField === 'jobTitle' ? { ...mp, conflict: 'marketing' as const } : mp,
        ),
      };
      const own = await open(m.v4Unit.id, mappings);
      await own.runOnce();
      const leadId = (
        (await conn
          .sobject('Lead')
          .create({ LastName: 'Policy', Company: 'P Co', Email: 'policy@example.com', Title: 'CTO' })) as {
          id: string;
        }
      ).id;
      await own.runOnce();
      const [p] = await prospect(m.v4Unit.id, 'policy@example.com');
      await conn.sobject('Lead').update({ Id: leadId, Title: 'CIO', Phone: null });
      await m.call(`/api/v5/objects/prospects/${p!.id}?fields=id`, {
        method: 'PATCH',
        body: JSON.stringify({ jobTitle: 'Chief Marketer', phone: '555-0199' }),
        unit: m.v4Unit.id,
      });
      await own.runOnce();
      expect(await lead(leadId)).toMatchObject({ Title: 'Chief Marketer', Phone: '555-0199' });
      expect((await prospect(m.v4Unit.id, 'policy@example.com'))[0]).toMatchObject({
        jobTitle: 'Chief Marketer',
      });
    });

    it('settles conflicts by the latest change, and by the CRM unless it is blank', async () => {
      const mappings = {
        Lead: DEFAULT_MAPPINGS.Lead.map((mp) =>
          mp.prospectField === 'phone'
            ? { ...mp, conflict: 'latest' as const }
            : mp.prospectField === 'jobTitle'
              ? { ...mp, conflict: 'crm-unless-blank' as const }
              : mp,
        ),
      };
      const own = await open(m.v4Unit.id, mappings);
      await own.runOnce();
      const leadId = (
        (await conn.sobject('Lead').create({
          LastName: 'Latest',
          Company: 'L Co',
          Email: 'latest@example.com',
          Phone: '1',
          Title: 'CTO',
        })) as { id: string }
      ).id;
      await own.runOnce();
      const [p] = await prospect(m.v4Unit.id, 'latest@example.com');
      const patch = (body: Json) =>
        m.call(`/api/v5/objects/prospects/${p!.id}?fields=id`, {
          method: 'PATCH',
          body: JSON.stringify(body),
          unit: m.v4Unit.id,
        });
      // v5 datetimes are to the second: the later change is a second later.
      const tick = () => new Promise((resolve) => setTimeout(resolve, 1_100));
      // Marketing changed the phone last: it wins; the CRM blanked the title: marketing's stays.
      await conn.sobject('Lead').update({ Id: leadId, Phone: 'crm first', Title: null });
      await tick();
      await patch({ phone: 'marketing last', jobTitle: 'Chief Marketer' });
      await own.runOnce();
      expect(await lead(leadId)).toMatchObject({ Phone: 'marketing last', Title: 'Chief Marketer' });
      // The CRM changed both last: it wins both (its title is not blank now).
      await patch({ phone: 'marketing first', jobTitle: 'Marketer' });
      await tick();
      await conn.sobject('Lead').update({ Id: leadId, Phone: 'crm last', Title: 'CEO' });
      await own.runOnce();
      expect((await prospect(m.v4Unit.id, 'latest@example.com'))[0]).toMatchObject({
        phone: 'crm last',
        jobTitle: 'CEO',
      });
      expect(await lead(leadId)).toMatchObject({ Phone: 'crm last', Title: 'CEO' });
    });

    it('comes to rest: once both sides agree, further passes write nothing (no ping-pong)', async () => {
      for (let i = 0; i < 20; i++) {
        await conn
          .sobject('Lead')
          .create({ LastName: `Rest ${i}`, Company: 'Rest Co', Email: `rest${i}@example.com` });
      }
      let pass = await connector.runOnce();
      for (let i = 0; i < 5 && pass.writesToCrm + pass.writesToMarketing > 0; i++)
        pass = await connector.runOnce();
      const quiet = await connector.runOnce();
      expect(quiet.errors).toEqual([]);
      expect(quiet.writesToCrm + quiet.writesToMarketing + quiet.created).toBe(0);
      expect(await prospect(m.v3Unit.id, 'rest7@example.com')).toHaveLength(1);
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`the connector follows conversions, deletions, assignments and refusals (${dialect})`, () => {
    let m: TestMarketing;
    let conn: jsforce.Connection;
    let connector: Connector;

    beforeAll(async () => {
      m = await startTestMarketing({ dialect });
      conn = await m.crm.connect();
      connector = await openTestConnector(m);
      await connector.runOnce();
    });

    afterAll(async () => {
      await m.close();
    });

    const newLead = async (email: string, extra: Json = {}) => {
      const created = (await conn
        .sobject('Lead')
        .create({ LastName: 'Case', Company: 'Case Co', Email: email, ...extra })) as {
        id: string;
      };
      await connector.runOnce();
      const [p] = (await m.services.prospects.byEmail(m.v3Unit.id, email)) ?? [];
      return { leadId: created.id, prospectId: p!.id };
    };
    const read = (id: number) => m.services.prospects.read(m.v3Unit.id, id);

    it('relinks the prospect to the Contact when its Lead is converted, keeping its history', async () => {
      const { leadId, prospectId } = await newLead('convert@example.com', { Phone: '100' });
      const [converted] = (await conn.soap.convertLead([
        { leadId, convertedStatus: 'Closed - Converted' },
      ])) as Array<{
        contactId: string;
        success: boolean;
      }>;
      const pass = await connector.runOnce();
      expect(pass.relinked).toBe(1);
      expect((await read(prospectId)).values).toMatchObject({
        salesforceContactId: converted!.contactId,
        salesforceId: converted!.contactId,
        salesforceLeadId: leadId,
      });
      // The Contact's changes now reach the same prospect; no second prospect was made.
      await conn.sobject('Contact').update({ Id: converted!.contactId, Phone: '200' });
      await connector.runOnce();
      expect((await read(prospectId)).values.phone).toBe('200');
      expect(await m.services.prospects.byEmail(m.v3Unit.id, 'convert@example.com')).toHaveLength(1);
      const history = await m.services.prospects.history(m.v3Unit.id, prospectId);
      expect(history.some((h) => h.field === 'phone' && h.newValue === '100')).toBe(true);
    });

    it('does nothing while paused, and catches up on everything after resuming', async () => {
      await connector.pause(true);
      await conn.sobject('Lead').create({ LastName: 'Paused', Company: 'P Co', Email: 'paused@example.com' });
      expect((await connector.runOnce()).paused).toBe(true);
      expect(await m.services.prospects.byEmail(m.v3Unit.id, 'paused@example.com')).toHaveLength(0);
      await connector.pause(false);
      await connector.runOnce();
      expect(await m.services.prospects.byEmail(m.v3Unit.id, 'paused@example.com')).toHaveLength(1);
    });

    it('follows a CRM email change on the same prospect', async () => {
      const { leadId, prospectId } = await newLead('old-address@example.com');
      await conn.sobject('Lead').update({ Id: leadId, Email: 'new-address@example.com' });
      await connector.runOnce();
      expect((await read(prospectId)).values.email).toBe('new-address@example.com');
      expect(await m.services.prospects.byEmail(m.v3Unit.id, 'new-address@example.com')).toHaveLength(1);
    });

    it('keeps the prospect’s address when told not to follow CRM email changes', async () => {
      const own = await openTestConnector(m, m.v4Unit.id, undefined, { followEmailChanges: false });
      await own.runOnce();
      const leadId = (
        (await conn
          .sobject('Lead')
          .create({ LastName: 'Keep', Company: 'K Co', Email: 'keep@example.com' })) as { id: string }
      ).id;
      await own.runOnce();
      const [p] = await m.services.prospects.byEmail(m.v4Unit.id, 'keep@example.com');
      await conn.sobject('Lead').update({ Id: leadId, Email: 'changed-in-crm@example.com', Phone: '42' });
      await own.runOnce();
      // The phone follows; the address does not.
      const after = await m.services.prospects.read(m.v4Unit.id, p!.id);
      expect([after.values.email, after.values.phone]).toEqual(['keep@example.com', '42']);
      expect(await m.services.prospects.byEmail(m.v4Unit.id, 'changed-in-crm@example.com')).toEqual([]);
    });

    it('moves a merged-away Lead’s prospect to the surviving Lead, or unlinks it when that one has its own', async () => {
      // The survivor has no prospect (no email): the loser's prospect moves to it.
      const survivor = (
        (await conn.sobject('Lead').create({ LastName: 'Survivor', Company: 'M Co' })) as { id: string }
      ).id;
      const { leadId: loser, prospectId } = await newLead('merged@example.com', { Phone: '7' });
      await conn.soap.merge({
        masterRecord: { type: 'Lead', Id: survivor, Phone: '8' },
        recordToMergeIds: [loser],
      } as never);
      for (let i = 0; i < 3; i++) await connector.runOnce();
      const moved = await read(prospectId);
      expect([
        moved.isDeleted,
        moved.values.salesforceId,
        moved.values.salesforceLeadId,
        moved.values.phone,
      ]).toEqual([false, survivor, survivor, '8']);
      // Both have prospects: the survivor keeps its own; the other is unlinked, not deleted.
      const a = await newLead('keeper@example.com');
      const b = await newLead('unlinked@example.com');
      await conn.soap.merge({
        masterRecord: { type: 'Lead', Id: a.leadId },
        recordToMergeIds: [b.leadId],
      } as never);
      await connector.runOnce();
      const kept = await read(a.prospectId);
      const unlinked = await read(b.prospectId);
      expect([kept.isDeleted, kept.values.salesforceId]).toEqual([false, a.leadId]);
      expect([unlinked.isDeleted, unlinked.values.salesforceId ?? null]).toEqual([false, null]);
      expect((await connector.syncLog(b.leadId)).at(-1)?.reason).toMatch(
        /merged into .*own prospect: this one is unlinked/,
      );
    });

    it('deletes and undeletes on either side', async () => {
      const { leadId, prospectId } = await newLead('bin@example.com');
      await conn.sobject('Lead').destroy(leadId);
      expect((await connector.runOnce()).deletions).toBe(1);
      expect((await read(prospectId)).isDeleted).toBe(true);
      await conn.soap.undelete([leadId]);
      expect((await connector.runOnce()).undeletions).toBe(1);
      expect((await read(prospectId)).isDeleted).toBe(false);

      await m.call(`/api/v5/objects/prospects/${prospectId}`, { method: 'DELETE' });
      expect((await connector.runOnce()).deletions).toBe(1);
      expect((await conn.query(`SELECT Id FROM Lead WHERE Id = '${leadId}'`)).totalSize).toBe(0);
      await m.call('/api/v5/objects/prospects/do/undelete', {
        method: 'POST',
        body: JSON.stringify({ prospectId, fields: ['id'] }),
      });
      expect((await connector.runOnce()).undeletions).toBe(1);
      expect((await conn.query(`SELECT Id FROM Lead WHERE Id = '${leadId}'`)).totalSize).toBe(1);
    });

    it('makes a Lead for an assigned prospect, owned by its user, with score and grade', async () => {
      const users = (await m.call('/api/v5/objects/users?fields=id,salesforceId')).body as { values: Json[] };
      const admin = users.values.find((u) => u.salesforceId === m.crm.adminUserId)!;
      const created = await m.call('/api/v5/objects/prospects?fields=id', {
        method: 'POST',
        body: JSON.stringify({ email: 'hot@example.com', firstName: 'Hot', score: 75, grade: 'B+' }),
      });
      const prospectId = (created.body as Json).id as number;
      // Unassigned: no Lead.
      await connector.runOnce();
      expect((await conn.query("SELECT Id FROM Lead WHERE Email = 'hot@example.com'")).totalSize).toBe(0);
      await m.call(`/api/v5/objects/prospects/${prospectId}?fields=id`, {
        method: 'PATCH',
        body: JSON.stringify({ assignedToId: admin.id }),
      });
      const pass = await connector.runOnce();
      expect(pass.leadsCreated).toBe(1);
      const [lead] = (
        await conn.query<Json>(
          "SELECT Id, OwnerId, FirstName, LastName, Company, pi__score__c, pi__grade__c, pi__pardot_id__c FROM Lead WHERE Email = 'hot@example.com'",
        )
      ).records;
      expect(lead).toMatchObject({
        OwnerId: m.crm.adminUserId,
        FirstName: 'Hot',
        LastName: '[not provided]',
        pi__score__c: 75,
        pi__grade__c: 'B+',
        pi__pardot_id__c: String(prospectId),
      });
      expect((await read(prospectId)).values.salesforceLeadId).toBe(lead!.Id);
      // Another pass makes no second Lead.
      await connector.runOnce();
      expect((await conn.query("SELECT Id FROM Lead WHERE Email = 'hot@example.com'")).totalSize).toBe(1);
    });

    it('makes a Lead for a prospect on its form success, by that rule, first in the queue', async () => {
      const own = await openTestConnector(m, m.v4Unit.id, undefined, { createLeads: 'form-success' });
      await own.runOnce();
      const handler = await formHandler(m, 'Demo request', 'Form rule campaign', ['email', 'company']);
      // Not handed off: a prospect made without a form.
      await v4Post(m, '/api/v5/objects/prospects?fields=id', { email: 'no-form@example.com' });
      const submitted = await fetch(`${m.url}/l/${m.v4Unit.id}/${String(handler.id)}`, {
        method: 'POST',
        body: new URLSearchParams({ email: 'form-lead@example.com', company: 'Form Co' }),
      });
      expect(submitted.status).toBe(200);
      const pass = await own.runOnce();
      expect(pass.leadsCreated).toBe(1);
      const [p] = await m.services.prospects.byEmail(m.v4Unit.id, 'form-lead@example.com');
      const leads = (
        await conn.query<Json>(
          "SELECT Company, LeadSource, pi__pardot_id__c, pi__score__c, pi__campaign__c, pi__conversion_date__c, pi__url__c FROM Lead WHERE Email IN ('form-lead@example.com', 'no-form@example.com')",
        )
      ).records;
      // As the native connector makes them: the source, the page's campaign, when the prospect
      // converted, and where to find it in marketing.
      expect(leads).toEqual([
        expect.objectContaining({
          Company: 'Form Co',
          LeadSource: 'Web',
          pi__pardot_id__c: String(p!.id),
          pi__score__c: 50,
          pi__campaign__c: 'Form rule campaign',
          pi__url__c: `${m.url}/prospect/read?id=${p!.id}`,
        }),
      ]);
      const converted = p!.values.convertedAt as string;
      expect(converted).toEqual(expect.any(String));
      expect(p!.values.convertedFromObjectType).toBe('FormHandler');
      // Salesforce date-times are kept to the second.
      expect(Date.parse(String(leads[0]!.pi__conversion_date__c))).toBe(
        Math.floor(Date.parse(converted) / 1000) * 1000,
      );
      expect((await own.syncLog(String(p!.id))).map((e) => e.reason)).toContain(
        'Lead made for a prospect on its form success',
      );
    });

    it('makes the Leads of 30 form submissions together, in a few CRM calls, each linked to its prospect', async () => {
      const own = await openTestConnector(m, m.v4Unit.id, undefined, { createLeads: 'form-success' });
      await own.runOnce();
      const handler = await formHandler(m, 'Webinar sign-up', 'Webinar campaign', ['email']);
      const passCalls = () => passCrmCalls(conn, own);
      // A pass before the forms, as the baseline: it polls, and may rework a record the tests
      // before changed a moment ago (the unit is shared).
      const idle = await passCalls();
      const emails = Array.from({ length: 30 }, (_, i) => `webinar${i}@example.com`);
      for (const email of emails) {
        const submitted = await fetch(`${m.url}/l/${m.v4Unit.id}/${String(handler.id)}`, {
          method: 'POST',
          body: new URLSearchParams({ email }),
        });
        expect(submitted.status).toBe(200);
      }
      const busy = await passCalls();
      expect(busy.result.errors).toEqual([]);
      expect(busy.result.leadsCreated).toBe(30);
      // One query for Leads a lost answer already made, one Collections create, one read back,
      // then the pairs' write-backs and the form's Tasks in Composite calls. One Lead at a time
      // took three calls each: 90.
      expect(busy.calls - idle.calls).toBeLessThanOrEqual(8);
      const leads = await conn.query<Json>(
        `SELECT Id, Email, LeadSource, pi__pardot_id__c FROM Lead WHERE Email LIKE 'webinar%'`,
      );
      expect(leads.records).toHaveLength(30);
      for (const email of emails) {
        const [p] = await m.services.prospects.byEmail(m.v4Unit.id, email);
        const lead = leads.records.find((l) => l.Email === email);
        expect(lead).toMatchObject({ LeadSource: 'Web', pi__pardot_id__c: String(p!.id) });
        expect(p!.values.salesforceLeadId).toBe(lead!.Id);
      }
      // Nothing made twice: the next pass makes no Lead.
      expect((await own.runOnce()).leadsCreated).toBe(0);
    });

    it('lists a write the CRM refuses, with its message, and delivers it on retry once the rule is fixed', async () => {
      const { leadId, prospectId } = await newLead('rule@example.com');
      const rule = noInternsRule('equals');
      m.crm.services.config.validationRules.push(rule);
      await m.call(`/api/v5/objects/prospects/${prospectId}?fields=id`, {
        method: 'PATCH',
        body: JSON.stringify({ jobTitle: 'Intern' }),
      });
      const refused = await connector.runOnce();
      expect(refused.errors.map((e) => e.message)).toContain('Interns cannot be Leads');
      const [error] = await connector.errors();
      expect(error).toMatchObject({
        side: 'crm',
        crmId: leadId,
        category: 'validation',
        code: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
        message: 'Interns cannot be Leads',
        fields: ['Title'],
        state: 'open',
      });
      // Nothing changed since: another pass does not retry on its own.
      await connector.runOnce();
      expect(await connector.errors()).toHaveLength(1);

      rule.active = false;
      expect(await connector.retry('all')).toBe(1);
      await connector.runOnce();
      expect(await connector.errors()).toEqual([]);
      expect(((await conn.sobject('Lead').retrieve(leadId)) as unknown as Json).Title).toBe('Intern');
    });
  });
}

describe('marketing data sharing: only CRM records with the shared value sync', () => {
  let m: TestMarketing;
  let conn: jsforce.Connection;
  let connector: Connector;

  beforeAll(async () => {
    m = await startTestMarketing();
    conn = await m.crm.connect();
    connector = await openTestConnector(m, m.v3Unit.id, undefined, {
      sharing: { field: 'LeadSource', value: 'Web' },
    });
    await connector.runOnce();
  });

  afterAll(async () => {
    await m.close();
  });

  it('makes prospects for shared Leads only, and stops syncing a Lead that leaves the rule', async () => {
    const shared = (await conn
      .sobject('Lead')
      .create({ LastName: 'In', Company: 'S', Email: 'in@share.example', LeadSource: 'Web' })) as {
      id: string;
    };
    await conn
      .sobject('Lead')
      .create({ LastName: 'Out', Company: 'S', Email: 'out@share.example', LeadSource: 'Partner Referral' });
    await connector.runOnce();
    expect(await m.services.prospects.byEmail(m.v3Unit.id, 'in@share.example')).toHaveLength(1);
    expect(await m.services.prospects.byEmail(m.v3Unit.id, 'out@share.example')).toHaveLength(0);

    await conn.sobject('Lead').update({ Id: shared.id, LeadSource: 'Other', Phone: '555-0000' });
    await connector.runOnce();
    const [p] = await m.services.prospects.byEmail(m.v3Unit.id, 'in@share.example');
    expect(p!.values.phone).toBeNull();
  });

  it('refuses a data-sharing field the CRM does not have', async () => {
    await expect(
      openTestConnector(m, m.v3Unit.id, undefined, { sharing: { field: 'Region__c', value: 'EMEA' } }),
    ).rejects.toThrow('the data-sharing field Region__c does not exist on Lead in the CRM');
  });
});

/** A v5 create in the v4 unit: the created object. */
function v4Post(m: TestMarketing, path: string, body: Json): Promise<Json> {
  return m
    .call(path, { method: 'POST', body: JSON.stringify(body), unit: m.v4Unit.id })
    .then((r) => r.body as Json);
}

/** A form handler of the v4 unit, on a campaign of its own, taking these prospect fields. */
async function formHandler(m: TestMarketing, name: string, campaignName: string, fields: string[]) {
  const campaign = await v4Post(m, '/api/v5/objects/campaigns?fields=id', { name: campaignName });
  const handler = await v4Post(m, '/api/v5/objects/form-handlers?fields=id', {
    name,
    campaignId: campaign.id,
  });
  for (const field of fields)
    await v4Post(m, '/api/v5/objects/form-handler-fields?fields=id', {
      formHandlerId: handler.id,
      name: field,
      prospectApiFieldId: field,
    });
  return handler;
}
