import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';

type Json = Record<string, unknown>;

for (const dialect of DIALECTS) {
  describe(`visitor activities over v5 and v3/v4 (${dialect})`, () => {
    let m: TestMarketing;
    let prospectId: number;

    beforeAll(async () => {
      m = await startTestMarketing({ dialect });
      const created = await m.call('/api/v5/objects/prospects?fields=id', {
        method: 'POST',
        body: JSON.stringify({ email: 'active@example.com' }),
      });
      prospectId = (created.body as Json).id as number;
      // As the engine's forms and email would record them.
      await m.services.activities.record(m.v3Unit, {
        type: 6,
        prospectId,
        emailId: 31,
        details: 'Spring newsletter',
      });
      await m.services.activities.record(m.v3Unit, { type: 11, prospectId, emailId: 31 });
      await m.services.activities.record(m.v3Unit, { type: 4, prospectId, formId: 7, campaignId: 3 });
    });

    afterAll(async () => {
      await m.close();
    });

    it('lists a prospect’s activities with type codes and names, and moves its lastActivityAt', async () => {
      const r = await m.call(
        `/api/v5/objects/visitor-activities?fields=id,type,typeName,prospectId,emailId,formId,details&prospectId=${prospectId}`,
      );
      const values = (r.body as { values: Json[] }).values;
      expect(values.map((v) => [v.type, v.typeName])).toEqual([
        [6, 'Sent'],
        [11, 'Open'],
        [4, 'Success'],
      ]);
      expect(values[0]).toMatchObject({ emailId: 31, details: 'Spring newsletter', formId: null });
      const onlySuccess = await m.call(`/api/v5/objects/visitor-activities?fields=formId&type=4`);
      expect((onlySuccess.body as { values: Json[] }).values).toEqual([{ formId: 7 }]);
      const prospect = await m.call(`/api/v5/objects/prospects/${prospectId}?fields=lastActivityAt`);
      expect((prospect.body as Json).lastActivityAt).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(
        await m.call('/api/v5/objects/visitor-activities?fields=id', {
          method: 'POST',
          body: JSON.stringify({ type: 2 }),
        }),
      ).toMatchObject({ status: 400, body: { code: 24 } });
      await expect(m.services.activities.record(m.v3Unit, { type: 99 })).rejects.toThrow(
        /Invalid visitor activity type/,
      );
    });

    it('reads and queries activities through the legacy API, in its envelope', async () => {
      const query = await m.call(
        `/api/visitorActivity/version/3/do/query?format=json&prospect_id=${prospectId}&type=11`,
      );
      const result = (query.body as { result: { total_results: number; visitor_activity: Json[] } }).result;
      expect(result.total_results).toBe(1);
      expect(result.visitor_activity[0]).toMatchObject({
        type: 11,
        type_name: 'Open',
        prospect_id: prospectId,
        email_id: 31,
      });
      const id = result.visitor_activity[0]!.id as number;
      const read = await m.call(`/api/visitorActivity/version/3/do/read/id/${id}?format=json`);
      expect((read.body as { visitor_activity: Json }).visitor_activity).toMatchObject({
        id,
        type_name: 'Open',
      });
      const missing = await m.call('/api/visitorActivity/version/3/do/read/id/999999?format=json');
      expect((missing.body as Json)['@attributes']).toMatchObject({ stat: 'fail', err_code: 404 });
      // Other units see none of them.
      const elsewhere = await m.call(`/api/v5/objects/visitor-activities?fields=id`, { unit: m.v4Unit.id });
      expect((elsewhere.body as { values: Json[] }).values).toEqual([]);
    });
  });
}
