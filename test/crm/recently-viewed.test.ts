import jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.js';
import { startTestCrm, type TestCrm } from '../support/crm-server.js';

for (const dialect of DIALECTS) {
  describe(`recently viewed records: FOR VIEW, FOR REFERENCE, /recent (${dialect})`, () => {
    let crm: TestCrm;
    let conn: jsforce.Connection;
    let clock = Date.parse('2026-12-01T09:00:00Z');

    beforeAll(async () => {
      crm = await startTestCrm({ dialect, now: () => new Date(clock) });
      conn = await crm.connect();
    });

    afterAll(async () => {
      await crm.close();
    });

    it('stamps what a FOR VIEW query returns and lists it, newest first, in /recent and recentItems', async () => {
      const first = await crm.create('Account', { Name: 'Viewed first' });
      const second = await crm.create('Account', { Name: 'Viewed second' });
      const lead = await crm.create('Lead', { LastName: 'Viewed', Company: 'Lead Co' });
      const before = await conn.query<{ SystemModstamp: string }>(
        `SELECT SystemModstamp FROM Account WHERE Id = '${first}'`,
      );
      clock += 1_000;
      await conn.query(`SELECT Id FROM Account WHERE Id = '${first}' FOR VIEW`);
      clock += 1_000;
      await conn.query(`SELECT Name FROM Account WHERE Id = '${second}' FOR VIEW`);
      clock += 1_000;
      await conn.query(`SELECT Id FROM Lead WHERE Id = '${lead}' FOR VIEW`);

      const recent = (await conn.recent(2)) as unknown as Array<{
        Id: string;
        Name: string;
        attributes: { type: string };
      }>;
      expect(recent.map((r) => [r.attributes.type, r.Id, r.Name])).toEqual([
        ['Lead', lead, 'Viewed'],
        ['Account', second, 'Viewed second'],
      ]);
      const accounts = (await conn.sobject('Account').recent()) as Array<{ Id: string }>;
      expect(accounts.map((r) => r.Id)).toEqual([second, first]);

      const stamped = await conn.query<{
        LastViewedDate: string;
        LastReferencedDate: string;
        SystemModstamp: string;
      }>(`SELECT LastViewedDate, LastReferencedDate, SystemModstamp FROM Account WHERE Id = '${first}'`);
      expect(Date.parse(stamped.records[0]!.LastViewedDate)).toBe(Date.parse('2026-12-01T09:00:01Z'));
      expect(stamped.records[0]!.LastReferencedDate).toBe(stamped.records[0]!.LastViewedDate);
      // Viewing is not a change.
      expect(stamped.records[0]!.SystemModstamp).toBe(before.records[0]!.SystemModstamp);
    });

    it('stamps only LastReferencedDate for FOR REFERENCE, and still refuses FOR UPDATE', async () => {
      const id = await crm.create('Account', { Name: 'Referenced' });
      clock += 1_000;
      await conn.query(`SELECT Id FROM Account WHERE Id = '${id}' FOR REFERENCE`);
      const r = await conn.query<{ LastViewedDate: string | null; LastReferencedDate: string | null }>(
        `SELECT LastViewedDate, LastReferencedDate FROM Account WHERE Id = '${id}'`,
      );
      expect(r.records[0]).toMatchObject({ LastViewedDate: null });
      expect(r.records[0]!.LastReferencedDate).not.toBeNull();
      const update = await crm.api(`/query?q=${encodeURIComponent(`SELECT Id FROM Account FOR UPDATE`)}`);
      expect(update.status).toBe(400);
      const limit = await crm.api('/recent?limit=0');
      expect(limit.status).toBe(400);
    });
  });
}
