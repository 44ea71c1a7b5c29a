import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';

for (const dialect of DIALECTS) {
  describe(`what real Account Engagement clients expect (${dialect})`, () => {
    let m: TestMarketing;

    beforeAll(async () => {
      m = await startTestMarketing({ dialect });
    });
    afterAll(() => m.close());

    it('reads a prospect in the recycle bin only when asked, and refuses to update it (219)', async () => {
      const created = await m.call('/api/v5/objects/prospects?fields=id', {
        method: 'POST',
        body: JSON.stringify({ email: `recycled-${dialect}@example.com` }),
      });
      const id = (created.body as { id: number }).id;
      expect((await m.call(`/api/v5/objects/prospects/${id}?fields=id`)).status).toBe(200);
      expect((await m.call(`/api/v5/objects/prospects/${id}`, { method: 'DELETE' })).status).toBe(204);

      expect(await m.call(`/api/v5/objects/prospects/${id}?fields=id,email`)).toMatchObject({
        status: 404,
        body: { code: 3, message: expect.stringMatching(/recycle bin/) },
      });
      for (const deleted of ['true', 'all'])
        expect(
          await m.call(`/api/v5/objects/prospects/${id}?fields=id,email,isDeleted&deleted=${deleted}`),
        ).toMatchObject({
          status: 200,
          body: { id, email: `recycled-${dialect}@example.com`, isDeleted: true },
        });
      expect((await m.call(`/api/v5/objects/prospects/${id}?fields=id&deleted=maybe`)).status).toBe(400);
      expect(
        await m.call(`/api/v5/objects/prospects/${id}?fields=id`, {
          method: 'PATCH',
          body: JSON.stringify({ firstName: 'Late' }),
        }),
      ).toMatchObject({ status: 400, body: { code: 219 } });
    });

    it('answers every v3/v4 error in JSON when format=json comes in the query or the form body', async () => {
      const token = await m.crm.token();
      const path = '/api/prospect/version/4/do/query';
      const cases: Array<{ name: string; headers: Record<string, string>; code: number }> = [
        { name: 'no token', headers: { 'pardot-business-unit-id': m.v3Unit.id }, code: 184 },
        {
          name: 'a wrong token',
          headers: { authorization: 'Bearer nope', 'pardot-business-unit-id': m.v3Unit.id },
          code: 184,
        },
        { name: 'no business unit', headers: { authorization: `Bearer ${token}` }, code: 181 },
        {
          name: 'an unknown unit',
          headers: { authorization: `Bearer ${token}`, 'pardot-business-unit-id': '0UvAAAAAAAAAAAAAAA' },
          code: 201,
        },
        {
          name: 'a unit not granted',
          headers: { authorization: `Bearer ${token}`, 'pardot-business-unit-id': m.otherUnit.id },
          code: 201,
        },
      ];
      for (const { name, headers, code } of cases) {
        const inQuery = await fetch(`${m.url}${path}?format=json`, { headers });
        const inBody = await fetch(`${m.url}${path}`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'format=json&limit=1',
        });
        for (const [where, answer] of [
          ['query', inQuery],
          ['body', inBody],
        ] as const) {
          expect(answer.headers.get('content-type'), `${name} (${where})`).toContain('application/json');
          expect(await answer.json(), `${name} (${where})`).toEqual({
            '@attributes': { stat: 'fail', version: 1, err_code: code },
            err: expect.any(String),
          });
        }
      }
      // A request error after the checks, and an unknown action, in JSON too.
      const invalid = await fetch(`${m.url}/api/prospect/version/4/do/read/id/0`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'pardot-business-unit-id': m.v3Unit.id,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'format=json',
      });
      expect(await invalid.json()).toMatchObject({
        '@attributes': { stat: 'fail', err_code: expect.any(Number) },
      });
      // Without format=json: XML.
      const xml = await fetch(`${m.url}${path}`, { headers: { 'pardot-business-unit-id': m.v3Unit.id } });
      expect(await xml.text()).toMatch(/<rsp stat="fail" version="1.0"><err code="184">/);
    });
  });
}
