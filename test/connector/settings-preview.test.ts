import type jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connector/connector-services.js';
import { DEFAULT_MAPPINGS, type FieldMapping } from '../../src/connector/domain/field-mapping.js';
import { missCaptureWindow, openTestConnector, settleSync } from '../support/connector.js';
import { DIALECTS } from '../support/databases.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';

type Json = Record<string, unknown>;

const withoutPhone = {
  Lead: DEFAULT_MAPPINGS.Lead.filter((m) => m.prospectField !== 'phone'),
  Contact: DEFAULT_MAPPINGS.Contact,
};
const phone: FieldMapping = {
  prospectField: 'phone',
  crmField: 'Phone',
  direction: 'both',
  conflict: 'marketing',
};
const rules = { createProspects: true, createLeads: 'assigned' as const };

for (const dialect of DIALECTS) {
  describe(`previewing a change of mappings before it is saved (${dialect})`, () => {
    let m: TestMarketing;
    let conn: jsforce.Connection;
    let connector: Connector;
    const leadIds: string[] = [];
    const prospectIds: number[] = [];

    const settle = () => settleSync(connector);
    const prospectPhone = async (id: number) =>
      ((await m.call(`/api/v5/objects/prospects/${id}?fields=phone`)).body as Json).phone ?? null;
    const leadPhone = async (id: string) =>
      ((await conn.sobject('Lead').retrieve(id)) as unknown as Json).Phone ?? null;

    beforeAll(async () => {
      m = await startTestMarketing({ dialect });
      conn = await m.crm.connect();
      for (let i = 0; i < 4; i++) {
        const lead = (await conn.sobject('Lead').create({
          LastName: `Preview ${i}`,
          Company: 'Preview Co',
          Email: `preview${i}@preview.example`,
          Phone: `555-010${i}`,
        })) as { id: string };
        leadIds.push(lead.id);
      }
      // The phone is not mapped yet: each side keeps its own.
      connector = await openTestConnector(m, m.v3Unit.id, withoutPhone, rules);
      await connector.backfill();
      await settle();
      for (const [i, id] of leadIds.entries()) {
        const link = await connector.linkOf(id);
        prospectIds.push(link!.prospectId);
        if (i < 2)
          await m.call(`/api/v5/objects/prospects/${link!.prospectId}?fields=id`, {
            method: 'PATCH',
            body: JSON.stringify({ phone: `777-020${i}` }),
          });
      }
      await settle();
      // All that is long past for the sync: its capture cursors stand after it (a pass re-reads
      // a few seconds behind them, and would otherwise see these edits again).
      await missCaptureWindow(m);
    });

    afterAll(() => m.close());

    it('refuses settings that cannot work, with where, and computes nothing', async () => {
      const preview = await connector.previewSettings({
        mappings: {
          ...withoutPhone,
          Lead: [
            ...withoutPhone.Lead,
            { prospectField: 'department', crmField: 'CreatedDate', direction: 'both', conflict: 'crm' },
          ],
        },
        rules,
      });
      expect(preview.problems).toEqual([
        {
          path: `mappings.Lead.${withoutPhone.Lead.length}`,
          message: expect.stringContaining('CreatedDate'),
        },
      ]);
      expect(preview.pairs).toBe(0);
      expect(preview.samples).toEqual([]);
    });

    it('says what a new mapping would write on each side, writes nothing, and saving writes exactly that', async () => {
      const settings = { mappings: { ...withoutPhone, Lead: [...withoutPhone.Lead, phone] }, rules };
      const logBefore = await Promise.all(leadIds.map((id) => connector.syncLog(id)));
      const preview = await connector.previewSettings(settings);
      expect(preview.problems).toEqual([]);
      expect(preview.pairs).toBe(4);
      // First sync of the field: by its `marketing` policy the prospects' phones go to the CRM;
      // where a prospect has none, the CRM's non-empty value goes to it instead.
      expect(preview.toCrm).toEqual({ records: 2, fields: { 'Lead.Phone': 2 } });
      expect(preview.toMarketing).toEqual({ records: 2, fields: { 'Lead.phone': 2 } });
      const samples = preview.samples
        .map((s) => [s.crmId, s.toSide, s.field, s.before, s.after])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
      expect(samples).toEqual(
        [
          [leadIds[0], 'crm', 'phone', '555-0100', '777-0200'],
          [leadIds[1], 'crm', 'phone', '555-0101', '777-0201'],
          [leadIds[2], 'marketing', 'phone', null, '555-0102'],
          [leadIds[3], 'marketing', 'phone', null, '555-0103'],
        ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      );
      // Nothing written, on either side or in the log.
      expect(await leadPhone(leadIds[0]!)).toBe('555-0100');
      expect(await prospectPhone(prospectIds[2]!)).toBeNull();
      expect(await Promise.all(leadIds.map((id) => connector.syncLog(id)))).toEqual(logBefore);

      expect(await connector.saveSettings(settings)).toEqual([]);
      await settle();
      expect(await leadPhone(leadIds[0]!)).toBe('777-0200');
      expect(await leadPhone(leadIds[1]!)).toBe('777-0201');
      expect(await prospectPhone(prospectIds[2]!)).toBe('555-0102');
      expect(await prospectPhone(prospectIds[3]!)).toBe('555-0103');
      // What the sync wrote, field by field, is what the preview said.
      const written = (
        await Promise.all(
          leadIds.map(async (id, i) =>
            (await connector.syncLog(id))
              .slice(logBefore[i]!.length)
              .filter((e) => e.field === 'phone')
              .map((e) => [id, e.toSide, e.field, e.previous, e.value]),
          ),
        )
      )
        .flat()
        .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
      expect(written).toEqual(samples);
      // And the pairs agree now.
      expect((await connector.verify()).differences).toEqual([]);
    });
  });
}
