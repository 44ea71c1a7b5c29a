import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';

type Json = Record<string, unknown>;

for (const dialect of DIALECTS) {
  describe(`v5 campaigns, lists, list memberships and tags (${dialect})`, () => {
    let m: TestMarketing;

    beforeAll(async () => {
      m = await startTestMarketing({ dialect });
    });

    afterAll(async () => {
      await m.close();
    });

    const post = (collection: string, body: Json, fields = 'id') =>
      m.call(`/api/v5/objects/${collection}?fields=${fields}`, {
        method: 'POST',
        body: JSON.stringify(body),
      });
    const idOf = (r: { body: unknown }) => (r.body as Json).id as number;

    it('creates, reads, updates, lists and deletes campaigns', async () => {
      const created = await post(
        'campaigns',
        { name: 'Spring Launch', cost: 1200 },
        'id,name,cost,createdAt',
      );
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ name: 'Spring Launch', cost: 1200 });
      expect(created.headers.get('location')).toBe(`/api/v5/objects/campaigns/${idOf(created)}`);
      const patched = await m.call(`/api/v5/objects/campaigns/${idOf(created)}?fields=name,salesforceId`, {
        method: 'PATCH',
        body: JSON.stringify({ salesforceId: '701000000000001AAA' }),
      });
      expect(patched.body).toEqual({ name: 'Spring Launch', salesforceId: '701000000000001AAA' });
      const listed = await m.call('/api/v5/objects/campaigns?fields=id,name&salesforceId=701000000000001AAA');
      expect((listed.body as { values: Json[] }).values).toEqual([
        { id: idOf(created), name: 'Spring Launch' },
      ]);
      expect((await m.call(`/api/v5/objects/campaigns/${idOf(created)}`, { method: 'DELETE' })).status).toBe(
        204,
      );
      const afterDelete = await m.call('/api/v5/objects/campaigns?fields=id&deleted=true');
      expect((afterDelete.body as { values: Json[] }).values).toEqual([{ id: idOf(created) }]);
      // Another unit sees none of it.
      expect(
        (await m.call(`/api/v5/objects/campaigns/${idOf(created)}?fields=id`, { unit: m.v4Unit.id })).status,
      ).toBe(404);
    });

    it('puts prospects on lists once, refusing unknown lists and prospects', async () => {
      const list = idOf(await post('lists', { name: 'Newsletter', isPublic: true }));
      const prospect = idOf(
        await m.call('/api/v5/objects/prospects?fields=id', {
          method: 'POST',
          body: JSON.stringify({ email: 'member@example.com' }),
        }),
      );
      const membership = await post(
        'list-memberships',
        { listId: list, prospectId: prospect },
        'id,listId,prospectId,optedOut',
      );
      expect(membership).toMatchObject({
        status: 201,
        body: { listId: list, prospectId: prospect, optedOut: null },
      });
      expect(await post('list-memberships', { listId: list, prospectId: prospect })).toMatchObject({
        status: 400,
        body: { code: 62 },
      });
      expect(await post('list-memberships', { listId: 999999, prospectId: prospect })).toMatchObject({
        body: { code: 62 },
      });
      expect(await post('list-memberships', { listId: list })).toMatchObject({ body: { code: 13 } });
      const moved = await m.call(`/api/v5/objects/list-memberships/${idOf(membership)}?fields=id`, {
        method: 'PATCH',
        body: JSON.stringify({ listId: list }),
      });
      expect(moved).toMatchObject({ status: 400, body: { code: 62 } });
      const byList = await m.call(`/api/v5/objects/list-memberships?fields=prospectId&listId=${list}`);
      expect((byList.body as { values: Json[] }).values).toEqual([{ prospectId: prospect }]);
    });

    it('lists the unit’s users, linked to their CRM users, and keeps them read only', async () => {
      const users = await m.call('/api/v5/objects/users?fields=id,email,role,salesforceId');
      expect((users.body as { values: Json[] }).values).toEqual([
        expect.objectContaining({
          email: 'admin@test.handoff',
          role: 'Administrator',
          salesforceId: m.crm.adminUserId,
        }),
      ]);
      expect(await post('users', { email: 'new@example.com' })).toMatchObject({
        status: 400,
        body: { code: 24 },
      });
    });

    it('defines forms, form handlers and their fields against live campaigns', async () => {
      const campaign = idOf(await post('campaigns', { name: 'Forms campaign' }));
      expect(await post('forms', { name: 'Contact us' })).toMatchObject({ status: 400, body: { code: 13 } });
      expect(await post('forms', { name: 'Contact us', campaignId: 424242 })).toMatchObject({
        body: { code: 62 },
      });
      const form = await post('forms', {
        name: 'Contact us',
        campaignId: campaign,
        successLocation: 'https://x.example/thanks',
      });
      expect(form.status).toBe(201);
      const handler = idOf(
        await post('form-handlers', {
          name: 'Website signup',
          campaignId: campaign,
          successLocation: 'https://x.example/ok',
          errorLocation: 'https://x.example/error',
        }),
      );
      const field = await post(
        'form-handler-fields',
        { formHandlerId: handler, name: 'work_email', prospectApiFieldId: 'email', isRequired: true },
        'formHandlerId,name,prospectApiFieldId,isRequired',
      );
      expect(field.body).toEqual({
        formHandlerId: handler,
        name: 'work_email',
        prospectApiFieldId: 'email',
        isRequired: true,
      });
      expect(
        await post('form-handler-fields', {
          formHandlerId: handler,
          name: 'work_email',
          prospectApiFieldId: 'email',
        }),
      ).toMatchObject({ status: 400, body: { code: 62 } });
    });

    it('pages a collection with tokens and answers bad queries with their codes', async () => {
      for (let i = 0; i < 7; i++) await post('tags', { name: `tag-${i}` });
      expect(await post('tags', { name: 'tag-0' })).toMatchObject({ status: 400, body: { code: 62 } });
      const names: string[] = [];
      let path: string | null = '/api/v5/objects/tags?fields=name&limit=3';
      while (path) {
        const page = (await m.call(path)).body as { values: Json[]; nextPageUrl: string | null };
        names.push(...page.values.map((v) => String(v.name)));
        path = page.nextPageUrl
          ? new URL(page.nextPageUrl).pathname + new URL(page.nextPageUrl).search
          : null;
      }
      expect(names).toEqual(Array.from({ length: 7 }, (_, i) => `tag-${i}`));
      expect(await m.call('/api/v5/objects/tags')).toMatchObject({ status: 400, body: { code: 13 } });
      expect(await m.call('/api/v5/objects/tags?fields=id&orderBy=name')).toMatchObject({
        body: { code: 5 },
      });
      expect(await m.call('/api/v5/objects/tags?fields=colour')).toMatchObject({ body: { code: 62 } });
      expect(await m.call('/api/v5/objects/gadgets?fields=id')).toMatchObject({ status: 404 });
    });
  });
}
