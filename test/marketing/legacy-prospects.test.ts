import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';

type Json = Record<string, unknown>;
const xml = new XMLParser({ ignoreAttributes: false, parseTagValue: false });

for (const dialect of DIALECTS) {
  describe(`v3/v4 prospect API (${dialect})`, () => {
    let m: TestMarketing;

    beforeAll(async () => {
      m = await startTestMarketing({ dialect });
    });

    afterAll(async () => {
      await m.close();
    });

    /** A v3/v4 call with form parameters and format=json, as most integrations make them. */
    const legacy = async (version: 3 | 4, path: string, params: Record<string, string> = {}) => {
      const r = await m.call(`/api/prospect/version/${version}/do/${path}`, {
        method: 'POST',
        body: new URLSearchParams({ format: 'json', ...params }),
        unit: version === 3 ? m.v3Unit.id : m.v4Unit.id,
      });
      return { status: r.status, body: r.body as Json };
    };
    const prospectOf = (r: { body: Json }) => r.body.prospect as Json;

    it('answers in XML by default, with the real envelope', async () => {
      const r = await m.call('/api/prospect/version/3/do/create/email/xml@example.com?first_name=Xavier', {
        method: 'POST',
      });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/text\/xml/);
      const doc = xml.parse(r.text) as { rsp: Json };
      expect(doc.rsp['@_stat']).toBe('ok');
      expect((doc.rsp.prospect as Json).email).toBe('xml@example.com');
      expect((doc.rsp.prospect as Json).first_name).toBe('Xavier');

      const fail = await m.call('/api/prospect/version/3/do/read/email/nobody@example.com');
      const failDoc = xml.parse(fail.text) as { rsp: { '@_stat': string; err: Json } };
      expect(failDoc.rsp['@_stat']).toBe('fail');
      expect(failDoc.rsp.err).toEqual({ '#text': 'Invalid prospect email address', '@_code': '4' });
    });

    it('v3: email is the key — create refuses a duplicate, update and upsert find by email', async () => {
      const created = await legacy(3, 'create/email/grace@example.com', {
        first_name: 'Grace',
        company: 'Navy',
      });
      expect(created.body['@attributes']).toEqual({ stat: 'ok', version: 1 });
      const id = String(prospectOf(created).id);

      const duplicate = await legacy(3, 'create/email/GRACE@example.com');
      expect(duplicate.body).toEqual({
        '@attributes': { stat: 'fail', version: 1, err_code: 9 },
        err: 'A prospect with the specified email address already exists',
      });

      const updated = await legacy(3, 'update/email/grace@example.com', { job_title: 'Rear Admiral' });
      expect(prospectOf(updated)).toMatchObject({ id: Number(id), job_title: 'Rear Admiral' });
      const upserted = await legacy(3, 'upsert/email/grace@example.com', { company: 'US Navy' });
      expect(prospectOf(upserted)).toMatchObject({ id: Number(id), company: 'US Navy' });
      const upsertNew = await legacy(3, 'upsert/email/new-v3@example.com', { first_name: 'New' });
      expect(prospectOf(upsertNew).id).not.toBe(Number(id));

      const byId = await legacy(3, `read/id/${id}`);
      expect(prospectOf(byId)).toMatchObject({ email: 'grace@example.com', job_title: 'Rear Admiral' });
      expect(await legacy(3, 'read/id/99999999')).toMatchObject({ body: { '@attributes': { err_code: 3 } } });
      expect(await legacy(3, 'create/email/not-an-email')).toMatchObject({
        body: { '@attributes': { err_code: 4 } },
      });
    });

    it('v4: several prospects per email — upsert by email creates, update needs id or fid', async () => {
      const first = prospectOf(await legacy(4, 'create/email/twin@example.com', { first_name: 'One' }));
      const second = prospectOf(await legacy(4, 'create/email/twin@example.com', { first_name: 'Two' }));
      expect(second.id).not.toBe(first.id);
      const upserted = prospectOf(await legacy(4, 'upsert/email/twin@example.com', { first_name: 'Three' }));
      expect([first.id, second.id]).not.toContain(upserted.id);

      const byEmail = await legacy(4, 'update/email/twin@example.com', { first_name: 'Nope' });
      expect(byEmail.body['@attributes']).toMatchObject({ stat: 'fail', err_code: 13 });
      const byId = await legacy(4, `update/id/${String(first.id)}`, { first_name: 'Uno' });
      expect(prospectOf(byId)).toMatchObject({ id: first.id, first_name: 'Uno' });
    });

    it('finds prospects by CRM id (fid), which only the sync sets', async () => {
      const created = await m.call('/api/v5/objects/prospects?fields=id', {
        method: 'POST',
        body: JSON.stringify({ email: 'linked@example.com' }),
        unit: m.v4Unit.id,
      });
      const id = (created.body as Json).id as number;
      // Link as the connector would, through the service (the API keeps salesforce* read-only).
      await m.services.prospects.update(m.v4Unit, { type: 'sync' }, id, {
        salesforceId: '00Q5e00000AbCdEAAA',
      });
      const byFid = await legacy(4, 'read/fid/00Q5e00000AbCdEAAA');
      expect(prospectOf(byFid)).toMatchObject({ id, crm_fid: '00Q5e00000AbCdEAAA' });
      const updated = await legacy(4, 'update/fid/00Q5e00000AbCdEAAA', { company: 'Linked Co' });
      expect(prospectOf(updated)).toMatchObject({ id, company: 'Linked Co' });
    });

    it('answers only the version its unit uses', async () => {
      const wrong = await m.call('/api/prospect/version/4/do/read/id/1?format=json', { unit: m.v3Unit.id });
      expect((wrong.body as Json)['@attributes']).toMatchObject({ stat: 'fail', err_code: 24 });
    });

    it('queries with filters, sorting, limit and offset, counting all matches', async () => {
      for (let i = 0; i < 5; i++)
        await legacy(3, `create/email/query${i}@example.com`, { company: 'Query Co' });
      const first = await legacy(3, 'query', { sort_by: 'id', sort_order: 'ascending', limit: '2' });
      const result = first.body.result as { total_results: number; prospect: Json[] };
      expect(result.prospect).toHaveLength(2);
      expect(result.total_results).toBeGreaterThanOrEqual(5);
      const next = await legacy(3, 'query', {
        sort_by: 'id',
        sort_order: 'ascending',
        limit: '2',
        offset: '2',
      });
      const nextIds = (next.body.result as { prospect: Json[] }).prospect.map((p) => p.id);
      expect(nextIds).not.toContain(result.prospect[0]!.id);
      expect(Number(nextIds[0])).toBeGreaterThan(Number(result.prospect[1]!.id));
      const bad = await legacy(3, 'query', { limit: '500' });
      expect(bad.body['@attributes']).toMatchObject({ err_code: 5 });
    });

    it('assigns a prospect to a user of the unit, and deletes it', async () => {
      const created = prospectOf(await legacy(3, 'create/email/assign@example.com'));
      const userId = String(await m.services.units.userId(m.v3Unit.id, m.crm.adminUserId));
      const assigned = await legacy(3, `assign/id/${String(created.id)}`, { user_id: userId });
      expect(prospectOf(assigned)).toMatchObject({ assigned_to: Number(userId) });
      const nobody = await legacy(3, `assign/id/${String(created.id)}`, { user_id: '999999' });
      expect(nobody.body['@attributes']).toMatchObject({ err_code: 13 });
      expect((await legacy(3, `delete/id/${String(created.id)}`)).body['@attributes']).toEqual({
        stat: 'ok',
        version: 1,
      });
      expect((await legacy(3, `read/id/${String(created.id)}`)).body['@attributes']).toMatchObject({
        err_code: 3,
      });
    });
  });
}
