import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.js';
import { buildMarketingApp } from '../../src/marketing/app.js';
import { openMarketing } from '../../src/marketing/marketing-services.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';

type Json = Record<string, unknown>;

for (const dialect of DIALECTS) {
  describe(`business units, auth and limits (${dialect})`, () => {
    let m: TestMarketing;

    beforeAll(async () => {
      m = await startTestMarketing({ dialect });
    });

    afterAll(async () => {
      await m.close();
    });

    it('refuses a missing unit header (181), a bad token (184), and units not granted or inactive (201)', async () => {
      const path = '/api/v5/objects/prospects?fields=id';
      expect(await m.call(path, { unit: null })).toMatchObject({ status: 400, body: { code: 181 } });
      expect(await m.call(path, { token: 'not-a-token' })).toMatchObject({
        status: 401,
        body: { code: 184 },
      });
      expect(await m.call(path, { token: null })).toMatchObject({ status: 401, body: { code: 184 } });
      expect(await m.call(path, { unit: m.otherUnit.id })).toMatchObject({
        status: 400,
        body: { code: 201 },
      });
      expect(await m.call(path, { unit: '0UvXXXXXXXXXXXXXXX' })).toMatchObject({ body: { code: 201 } });
      const legacy = await m.call('/api/prospect/version/3/do/query?format=json', { token: 'bad' });
      expect(legacy.body).toEqual({
        '@attributes': { stat: 'fail', version: 1, err_code: 184 },
        err: 'access_token is invalid, unverified, or has expired',
      });

      const spare = await m.services.units.ensure({
        name: 'Paused unit',
        grants: [{ crmUserId: m.crm.adminUserId, email: 'admin@test.handoff' }],
      });
      expect((await m.call(path, { unit: spare.id })).status).toBe(200);
      await m.services.units.updateSettings(spare.id, { active: false });
      expect(await m.call(path, { unit: spare.id })).toMatchObject({ body: { code: 201 } });
    });

    it('never lets data cross units', async () => {
      const created = await m.call('/api/v5/objects/prospects?fields=id', {
        method: 'POST',
        body: JSON.stringify({ email: 'private@example.com' }),
      });
      const id = (created.body as Json).id as number;
      const elsewhere = await m.call(`/api/v5/objects/prospects/${id}?fields=id`, { unit: m.v4Unit.id });
      expect(elsewhere).toMatchObject({ status: 404, body: { code: 3 } });
      const patch = await m.call(`/api/v5/objects/prospects/${id}?fields=id`, {
        method: 'PATCH',
        body: JSON.stringify({ firstName: 'Intruder' }),
        unit: m.v4Unit.id,
      });
      expect(patch.status).toBe(404);
      const query = await m.call('/api/v5/objects/prospects?fields=id&email=private@example.com', {
        unit: m.v4Unit.id,
      });
      expect((query.body as { values: unknown[] }).values).toEqual([]);
      const legacy = await m.call('/api/prospect/version/4/do/read/email/private@example.com?format=json', {
        unit: m.v4Unit.id,
      });
      expect((legacy.body as Json)['@attributes']).toMatchObject({ err_code: 4 });
      const history = await m.call(`/_handoff/prospects/${id}/history`, { unit: m.v4Unit.id });
      expect(history.status).toBe(404);
    });

    it('refuses a sixth concurrent request of a unit with 66, and serves other units meanwhile', async () => {
      // Five requests in flight, held open (as slow calls would hold them).
      for (let i = 0; i < 5; i++) expect(m.services.units.enter(m.v3Unit.id)).toBe(true);
      try {
        const sixth = await m.call('/api/v5/objects/prospects?fields=id');
        expect(sixth).toMatchObject({ status: 429, body: { code: 66 } });
        expect((await m.call('/api/v5/objects/prospects?fields=id', { unit: m.v4Unit.id })).status).toBe(200);
      } finally {
        for (let i = 0; i < 5; i++) m.services.units.leave(m.v3Unit.id);
      }
      expect((await m.call('/api/v5/objects/prospects?fields=id')).status).toBe(200);
      // Real concurrency: five parallel calls all succeed and give their slots back.
      const parallel = await Promise.all(
        Array.from({ length: 5 }, () => m.call('/api/v5/objects/prospects?fields=id')),
      );
      expect(parallel.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      expect(m.services.units.enter(m.v3Unit.id)).toBe(true);
      m.services.units.leave(m.v3Unit.id);
    });

    it('honours a page token issued by another engine process sharing the database', async () => {
      for (let i = 0; i < 3; i++) {
        await m.call('/api/v5/objects/prospects?fields=id', {
          method: 'POST',
          body: JSON.stringify({ email: `shared${i}@example.com` }),
          unit: m.v4Unit.id,
        });
      }
      const first = await m.call('/api/v5/objects/prospects?fields=id&limit=1', { unit: m.v4Unit.id });
      const token = (first.body as { nextPageToken: string }).nextPageToken;
      const other = await openMarketing({
        database: m.crm.database,
        tokens: { verify: async (t) => m.crm.services.oauth.verify(t) },
      });
      const app = buildMarketingApp(other);
      try {
        const second = await app.inject({
          method: 'GET',
          url: `/api/v5/objects/prospects?nextPageToken=${encodeURIComponent(token)}`,
          headers: { authorization: `Bearer ${await m.crm.token()}`, 'pardot-business-unit-id': m.v4Unit.id },
        });
        expect(second.statusCode).toBe(200);
        expect((second.json() as { values: unknown[] }).values).toHaveLength(1);
      } finally {
        await app.close();
        await other.close();
      }
    });

    it('refuses calls past the unit’s daily limit with 122', async () => {
      const unit = await m.services.units.ensure({
        name: 'Small unit',
        dailyApiLimit: 3,
        grants: [{ crmUserId: m.crm.adminUserId, email: 'admin@test.handoff' }],
      });
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++)
        statuses.push((await m.call('/api/v5/objects/prospects?fields=id', { unit: unit.id })).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const refused = await m.call('/api/v5/objects/prospects?fields=id', { unit: unit.id });
      expect(refused.body).toEqual({ code: 122, message: 'Daily API rate limit met.' });
      expect((await m.call('/api/v5/objects/prospects?fields=id', { unit: m.v4Unit.id })).status).toBe(200);
    });
  });
}
