import { sql } from 'kysely';
import type jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCrm } from '../../src/crm/crm-services.js';
import { DIALECTS } from '../support/databases.js';
import { startTestCrm, type TestCrm } from '../support/crm-server.js';

for (const dialect of DIALECTS) {
  describe(`unique values and the recycle bin (${dialect})`, () => {
    let crm: TestCrm;
    let conn: jsforce.Connection;

    beforeAll(async () => {
      crm = await startTestCrm({ dialect });
      conn = await crm.connect();
    });

    afterAll(async () => {
      await crm.close();
    });

    /** A StreamingChannel's Name is unique: jsforce's own streaming test makes, deletes and makes it again. */
    async function channelCycle(name: string): Promise<{ first: string; second: string }> {
      const first = await crm.create('StreamingChannel', { Name: name });
      await conn.sobject('StreamingChannel').destroy(first);
      const second = await crm.create('StreamingChannel', { Name: name });
      return { first, second };
    }

    it('frees a unique value when its record goes to the recycle bin, and refuses its undelete while taken', async () => {
      const { first, second } = await channelCycle('/u/Reused');
      expect(second).not.toBe(first);

      const [undeleted] = await conn.soap.undelete([first]);
      expect(undeleted).toMatchObject({ success: false });
      expect(JSON.stringify(undeleted)).toContain('DUPLICATE_VALUE');
      const all = await conn.query<{ Id: string; IsDeleted: boolean }>(
        "SELECT Id, IsDeleted FROM StreamingChannel WHERE Name = '/u/Reused' ORDER BY Id",
        { scanAll: true },
      );
      expect(all.records.map((r) => [r.Id, r.IsDeleted])).toEqual([
        [first, true],
        [second, false],
      ]);

      // Once the value is free again, the undelete goes through.
      await conn.sobject('StreamingChannel').destroy(second);
      const [again] = await conn.soap.undelete([first]);
      expect(again).toMatchObject({ success: true });
      const taken = await crm.call('/sobjects/StreamingChannel', 'POST', { Name: '/u/Reused' });
      expect(taken.status).toBe(400);
      expect(taken.body).toEqual([expect.objectContaining({ errorCode: 'DUPLICATE_VALUE' })]);
    });

    it('moves a store made with the earlier whole-table unique index to the live-records one', async () => {
      const { db, dialect: store } = crm.services.database;
      // The earlier index could not hold the rows the test above left (a name live and deleted).
      await sql`delete from crm_streamingchannel`.execute(db);
      await sql`drop index crm_streamingchannel_name_live`.execute(db);
      await sql`create unique index crm_streamingchannel_name on crm_streamingchannel (${store.ciIndexExpression('Name')})`.execute(
        db,
      );
      await expect(channelCycle('/u/Before')).rejects.toThrow(/DUPLICATE_VALUE|duplicate value/);

      const restarted = await openCrm({ database: crm.database, config: { leadAssignment: 'off' } });
      await restarted.close();
      const { first, second } = await channelCycle('/u/After');
      expect(second).not.toBe(first);
    });
  });
}
