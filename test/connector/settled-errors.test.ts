import type jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connector/connector-services.js';
import { openTestConnector } from '../support/connector.js';
import { DIALECTS } from '../support/databases.js';
import { noInternsRule } from '../support/factories.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';

type Json = Record<string, unknown>;

/** The CRM calls the connector made over the last minutes, as its metrics count them. */
async function crmCalls(connector: Connector): Promise<number> {
  return (await connector.metrics(5)).reduce((n, minute) => n + minute.crmCalls, 0);
}

for (const dialect of DIALECTS) {
  describe(`sync errors that settle (${dialect})`, () => {
    let m: TestMarketing;
    let conn: jsforce.Connection;
    let connector: Connector;
    const rule = noInternsRule('contains');

    const patchProspect = (id: number, values: Json) =>
      m.call(`/api/v5/objects/prospects/${id}?fields=id`, { method: 'PATCH', body: JSON.stringify(values) });
    const lead = async (id: string) => (await conn.sobject('Lead').retrieve(id)) as unknown as Json;

    beforeAll(async () => {
      m = await startTestMarketing({ dialect });
      conn = await m.crm.connect();
      connector = await openTestConnector(m, m.v3Unit.id);
      await connector.runOnce();
      m.crm.services.config.validationRules.push(rule);
    });

    afterAll(async () => {
      await m.close();
    });

    it('tries a refused write once, holds the value back while other fields sync, and keeps one error', async () => {
      const created = (await conn
        .sobject('Lead')
        .create({ FirstName: 'Ida', LastName: 'Rule', Company: 'Rule Co', Email: 'ida@rule.example' })) as {
        id: string;
      };
      await connector.runOnce();
      const [p] = await m.services.prospects.byEmail(m.v3Unit.id, 'ida@rule.example');
      await connector.runOnce();

      await patchProspect(p!.id, { jobTitle: 'Intern' });
      const refused = await connector.runOnce();
      expect(refused.errors.map((e) => e.message)).toContain('Interns cannot be Leads');
      const [first] = await connector.errors();
      expect(first).toMatchObject({
        crmId: created.id,
        prospectId: p!.id,
        code: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
        category: 'validation',
        values: { Title: 'Intern' },
        person: { name: 'Ida Rule', email: 'ida@rule.example' },
        tries: 1,
        state: 'open',
      });
      expect(first!.hint).toMatch(/validation rule/);

      // Other fields change on both sides, again and again: they sync; the refused title is
      // not sent again, and no pass makes a new error.
      for (const phone of ['555-0001', '555-0002', '555-0003']) {
        await patchProspect(p!.id, { phone });
        const pass = await connector.runOnce();
        expect(pass.errors).toEqual([]);
        expect((await lead(created.id)).Phone).toBe(phone);
      }
      await conn.sobject('Lead').update({ Id: created.id, Industry: 'Energy' });
      expect((await connector.runOnce()).errors).toEqual([]);
      const before = await crmCalls(connector);
      await connector.runOnce();
      await connector.runOnce();
      // Passes after a refusal read what changed (Leads, Contacts, Campaigns) and write nothing.
      expect((await crmCalls(connector)) - before).toBeLessThanOrEqual(6);
      const [still] = await connector.errors();
      expect(still).toMatchObject({ id: first!.id, createdAt: first!.createdAt, tries: 1, state: 'open' });
      expect((await lead(created.id)).Title).toBeNull();

      // A changed value the rule still refuses is tried (once): the same error, refused twice.
      await patchProspect(p!.id, { jobTitle: 'Summer Intern' });
      expect((await connector.runOnce()).errors).toHaveLength(1);
      await connector.runOnce();
      const [again] = await connector.errors();
      expect(again).toMatchObject({
        id: first!.id,
        createdAt: first!.createdAt,
        tries: 2,
        values: { Title: 'Summer Intern' },
      });
    });

    it('retries an error by id, once, and resolves it when the value is taken', async () => {
      const [error] = await connector.errors();
      // Asked to retry while the rule still stands: tried once more, the same error stays open.
      expect(await connector.retry([error!.id])).toBe(1);
      expect((await connector.errors())[0]!.state).toBe('retry');
      await connector.runOnce();
      expect(await connector.errors()).toMatchObject([{ id: error!.id, tries: 3, state: 'open' }]);
      await connector.runOnce();
      expect((await connector.errors())[0]!.tries).toBe(3);

      rule.active = false;
      expect(await connector.retry('all')).toBe(1);
      await connector.runOnce();
      expect(await connector.errors()).toEqual([]);
      expect((await lead(error!.crmId!)).Title).toBe('Summer Intern');
      rule.active = true;
    });

    it('makes a refused Lead once for a prospect handed off, not again as the prospect moves', async () => {
      const created = await m.call('/api/v5/objects/prospects?fields=id', {
        method: 'POST',
        body: JSON.stringify({ email: 'hand@rule.example', lastName: 'Off', jobTitle: 'Intern' }),
      });
      const prospectId = (created.body as { id: number }).id;
      const users = (await m.call('/api/v5/objects/users?fields=id,salesforceId')).body as { values: Json[] };
      const admin = users.values.find((u) => u.salesforceId === m.crm.adminUserId)!;
      await patchProspect(prospectId, { assignedToId: admin.id });
      await connector.runOnce();
      const errors = (await connector.errors()).filter((e) => e.prospectId === prospectId);
      expect(errors).toMatchObject([
        {
          crmId: null,
          crmObject: 'Lead',
          message: 'Interns cannot be Leads',
          tries: 1,
          person: { email: 'hand@rule.example' },
        },
      ]);
      for (const score of [5, 10]) {
        await patchProspect(prospectId, { score });
        await connector.runOnce();
      }
      expect((await connector.errors()).filter((e) => e.prospectId === prospectId)).toMatchObject([
        { id: errors[0]!.id, tries: 1 },
      ]);
      // Skipped: it leaves the list, and the prospect is left as it is.
      expect(await connector.skip([errors[0]!.id])).toBe(1);
      await connector.runOnce();
      expect((await connector.errors()).filter((e) => e.prospectId === prospectId)).toEqual([]);
      const leads = await conn.query("SELECT Id FROM Lead WHERE Email = 'hand@rule.example'");
      expect(leads.totalSize).toBe(0);
    });
  });
}
