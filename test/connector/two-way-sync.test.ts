import type jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConnector, type Connector } from '../../src/connector/connector-services.js';
import { DEFAULT_MAPPINGS } from '../../src/connector/domain/field-mapping.js';
import { TEST_CREDENTIALS } from '../support/crm-server.js';
import { DIALECTS } from '../support/databases.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';

type Json = Record<string, unknown>;

for (const dialect of DIALECTS) {
  describe(`the connector between the CRM and the marketing engine (${dialect})`, () => {
    let m: TestMarketing;
    let conn: jsforce.Connection;
    let connector: Connector;

    const open = (unitId: string, mappings?: Parameters<typeof openConnector>[0]['config']['mappings']) => {
      const login = { flow: 'password' as const, loginUrl: m.crm.url, ...TEST_CREDENTIALS };
      return openConnector({
        database: m.crm.database,
        config: { crm: login, marketing: { baseUrl: m.url, businessUnitId: unitId, login }, mappings },
      });
    };
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
