import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';

type Json = Record<string, unknown>;

for (const dialect of DIALECTS) {
  describe(`v5 prospects (${dialect})`, () => {
    let m: TestMarketing;

    beforeAll(async () => {
      m = await startTestMarketing({ dialect });
    });

    afterAll(async () => {
      await m.close();
    });

    const create = async (body: Json, unit?: string) =>
      m.call('/api/v5/objects/prospects?fields=id,email,firstName,score,createdAt,updatedAt', {
        method: 'POST',
        body: JSON.stringify(body),
        unit,
      });

    it('creates a prospect (201 + Location), reads it with only the asked fields, updates and deletes it', async () => {
      const created = await create({ email: 'Ada@Example.com', firstName: 'Ada', company: 'Analytical' });
      expect(created.status).toBe(201);
      const body = created.body as Json;
      expect(body).toMatchObject({ email: 'Ada@Example.com', firstName: 'Ada', score: 0 });
      expect(body.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
      expect(created.headers.get('location')).toBe(`/api/v5/objects/prospects/${String(body.id)}`);

      const read = await m.call(`/api/v5/objects/prospects/${String(body.id)}?fields=id,company,jobTitle`);
      expect(read.body).toEqual({ id: body.id, company: 'Analytical', jobTitle: null });

      const updated = await m.call(`/api/v5/objects/prospects/${String(body.id)}?fields=jobTitle,optedOut`, {
        method: 'PATCH',
        body: JSON.stringify({ jobTitle: 'Countess', optedOut: true }),
      });
      expect(updated).toMatchObject({ status: 200, body: { jobTitle: 'Countess', optedOut: true } });

      expect(
        (await m.call(`/api/v5/objects/prospects/${String(body.id)}`, { method: 'DELETE' })).status,
      ).toBe(204);
      const patchDeleted = await m.call(`/api/v5/objects/prospects/${String(body.id)}`, {
        method: 'PATCH',
        body: JSON.stringify({ jobTitle: 'Ghost' }),
      });
      expect(patchDeleted).toMatchObject({ status: 400, body: { code: 219 } });

      const undeleted = await m.call('/api/v5/objects/prospects/do/undelete', {
        method: 'POST',
        body: JSON.stringify({ prospectId: body.id, fields: ['id', 'isDeleted', 'jobTitle'] }),
      });
      expect(undeleted.body).toEqual({ id: body.id, isDeleted: false, jobTitle: 'Countess' });
    });

    it('answers bad input with the v5 error shape and changes nothing', async () => {
      const noFields = await m.call('/api/v5/objects/prospects/1');
      expect(noFields).toMatchObject({ status: 400, body: { code: 13 } });
      const badEmail = await create({ email: 'not an email' });
      expect(badEmail).toMatchObject({
        status: 400,
        body: { code: 4, message: 'Invalid prospect email address' },
      });
      const readOnly = await create({ email: 'ro@example.com', createdAt: '2020-01-01T00:00:00Z' });
      expect(readOnly).toMatchObject({ status: 400, body: { code: 62 } });
      const crmLink = await create({ email: 'ro@example.com', salesforceId: '00Q000000000001AAA' });
      expect(crmLink).toMatchObject({ status: 400, body: { code: 62 } });
      const unknown = await create({ email: 'ro@example.com', favouriteColour: 'blue' });
      expect(unknown).toMatchObject({ status: 400, body: { code: 62 } });
      const badJson = await m.call('/api/v5/objects/prospects?fields=id', {
        method: 'POST',
        body: '{"email": ',
        headers: { 'content-type': 'application/json' },
      });
      expect(badJson).toMatchObject({ status: 400, body: { code: 62 } });
      const missing = await m.call('/api/v5/objects/prospects/999999999?fields=id');
      expect(missing).toMatchObject({ status: 404, body: { code: 3 } });
      const query = await m.call('/api/v5/objects/prospects?fields=id&email=ro@example.com');
      expect((query.body as { values: unknown[] }).values).toEqual([]);
    });

    it('keeps email unique in a v3 unit (any case) and allows several in a v4 unit', async () => {
      expect((await create({ email: 'twin@example.com' })).status).toBe(201);
      expect(await create({ email: 'TWIN@example.com' })).toMatchObject({ status: 400, body: { code: 9 } });
      expect((await create({ email: 'twin@example.com' }, m.v4Unit.id)).status).toBe(201);
      expect((await create({ email: 'twin@example.com' }, m.v4Unit.id)).status).toBe(201);
    });

    it('upserts the latest prospect by email, reviving a deleted one only when asked', async () => {
      const upsert = (matchEmail: string, prospect: Json, secondaryDeletedSearch = false) =>
        m.call('/api/v5/objects/prospects/do/upsertLatestByEmail', {
          method: 'POST',
          body: JSON.stringify({
            matchEmail,
            prospect,
            fields: ['id', 'firstName', 'isDeleted'],
            secondaryDeletedSearch,
          }),
          unit: m.v4Unit.id,
        });
      const older = (await create({ email: 'latest@example.com', firstName: 'Old' }, m.v4Unit.id))
        .body as Json;
      const newer = (await create({ email: 'latest@example.com', firstName: 'New' }, m.v4Unit.id))
        .body as Json;
      const hit = await upsert('LATEST@example.com', { firstName: 'Updated' });
      expect(hit.body).toEqual({ id: newer.id, firstName: 'Updated', isDeleted: false });
      const olderNow = await m.call(`/api/v5/objects/prospects/${String(older.id)}?fields=firstName`, {
        unit: m.v4Unit.id,
      });
      expect(olderNow.body).toEqual({ firstName: 'Old' });

      const gone = (await create({ email: 'gone@example.com', firstName: 'Gone' }, m.v4Unit.id)).body as Json;
      await m.call(`/api/v5/objects/prospects/${String(gone.id)}`, { method: 'DELETE', unit: m.v4Unit.id });
      const revived = await upsert('gone@example.com', { firstName: 'Back' }, true);
      expect(revived.body).toEqual({ id: gone.id, firstName: 'Back', isDeleted: false });
      await m.call(`/api/v5/objects/prospects/${String(gone.id)}`, { method: 'DELETE', unit: m.v4Unit.id });
      const fresh = await upsert('gone@example.com', { firstName: 'Fresh' });
      expect((fresh.body as Json).id).not.toBe(gone.id);
    });

    it('defines custom fields per unit and reads and writes them on prospects', async () => {
      const defined = await m.call('/api/v5/objects/custom-fields', {
        method: 'POST',
        body: JSON.stringify({ name: 'Favorite Color', fieldId: 'Favorite_Color', type: 'Text' }),
      });
      expect(defined).toMatchObject({ status: 201, body: { fieldId: 'Favorite_Color', type: 'Text' } });
      const again = await m.call('/api/v5/objects/custom-fields', {
        method: 'POST',
        body: JSON.stringify({ name: 'Favorite Color', fieldId: 'favorite_color' }),
      });
      expect(again).toMatchObject({ status: 400, body: { code: 62 } });
      const listed = await m.call('/api/v5/objects/custom-fields?fields=name,fieldId');
      expect((listed.body as { values: unknown[] }).values).toContainEqual({
        name: 'Favorite Color',
        fieldId: 'Favorite_Color',
      });

      const created = await m.call('/api/v5/objects/prospects?fields=id,Favorite_Color__c', {
        method: 'POST',
        body: JSON.stringify({ email: 'colour@example.com', Favorite_Color__c: 'teal' }),
      });
      expect(created.body).toMatchObject({ Favorite_Color__c: 'teal' });
      // Another unit has no such field.
      const elsewhere = await create({ email: 'colour@example.com', Favorite_Color__c: 'teal' }, m.v4Unit.id);
      expect(elsewhere).toMatchObject({ status: 400, body: { code: 62 } });
    });

    it('records the history of every field change with its actor', async () => {
      const created = (await create({ email: 'history@example.com', firstName: 'Hedy' })).body as Json;
      await m.call(`/api/v5/objects/prospects/${String(created.id)}?fields=id`, {
        method: 'PATCH',
        body: JSON.stringify({ firstName: 'Hedwig', score: 10 }),
      });
      const history = await m.call(`/_handoff/prospects/${String(created.id)}/history`);
      const values = (history.body as { values: Array<Json> }).values;
      const firstName = values.filter((v) => v.field === 'firstName');
      expect(firstName.map((v) => [v.oldValue, v.newValue])).toEqual([
        [null, 'Hedy'],
        ['Hedy', 'Hedwig'],
      ]);
      expect(values.find((v) => v.field === 'score' && v.newValue === '10')).toMatchObject({
        oldValue: '0',
        actor: { type: 'api', id: m.crm.adminUserId },
      });
    });
  });
}
