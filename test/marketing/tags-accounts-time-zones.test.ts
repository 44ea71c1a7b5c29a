import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';

type Json = Record<string, unknown>;

// Fixed clock: 2026-07-01 14:30:00 UTC is 10:30 in New York (EDT, -04:00).
const NOW = new Date('2026-07-01T14:30:00.000Z');

for (const dialect of DIALECTS) {
  describe(`tags, prospect accounts, opportunities, time zones and actors (${dialect})`, () => {
    let m: TestMarketing;

    beforeAll(async () => {
      m = await startTestMarketing({ dialect, now: () => NOW });
    });

    afterAll(async () => {
      await m.close();
    });

    const json = (path: string, method: string, body: Json, unit?: string) =>
      m.call(path, { method, body: JSON.stringify(body), unit });
    const newProspect = async (email: string, unit?: string) =>
      ((await json('/api/v5/objects/prospects?fields=id', 'POST', { email }, unit)).body as Json)
        .id as number;

    it('tags a prospect by tag id or name, lists it as a tagged object, and removes it', async () => {
      const prospectId = await newProspect('tagged@example.com');
      const tag = await json('/api/v5/objects/tags?fields=id,name', 'POST', { name: 'VIP' });
      const tagId = (tag.body as Json).id as number;

      const added = await json(`/api/v5/objects/prospects/${prospectId}/do/addTag`, 'POST', { tagId });
      expect(added.status).toBe(200);
      expect(added.body).toMatchObject({ tagId, objectType: 'Prospect', objectId: prospectId });
      // Adding it again answers with the same record, not a second one.
      const again = await json(`/api/v5/objects/prospects/${prospectId}/do/addTag`, 'POST', { tagId });
      expect((again.body as Json).id).toBe((added.body as Json).id);

      // By name: the tag is created on first use.
      const byName = await json(`/api/v5/objects/prospects/${prospectId}/do/addTag`, 'POST', {
        tagName: 'Webinar 2026',
      });
      expect(byName.status).toBe(200);
      const tags = await m.call('/api/v5/objects/tags?fields=id,name&name=Webinar%202026');
      expect((tags.body as { values: Json[] }).values).toHaveLength(1);

      const tagged = await m.call(
        `/api/v5/objects/tagged-objects?fields=tagId,objectType,objectId&objectId=${prospectId}&orderBy=id`,
      );
      expect((tagged.body as { values: Json[] }).values.map((v) => v.tagId)).toEqual([
        tagId,
        (byName.body as Json).tagId,
      ]);

      const removed = await json(`/api/v5/objects/prospects/${prospectId}/do/removeTag`, 'POST', { tagId });
      expect(removed.status).toBe(204);
      const after = await m.call(
        `/api/v5/objects/tagged-objects?fields=tagId&objectType=Prospect&objectId=${prospectId}`,
      );
      expect((after.body as { values: Json[] }).values).toEqual([{ tagId: (byName.body as Json).tagId }]);
    });

    it('refuses tags on missing objects, unknown tags, untaggable collections and the API writing tagged objects', async () => {
      const prospectId = await newProspect('tag-errors@example.com');
      expect(
        (await json('/api/v5/objects/prospects/999999/do/addTag', 'POST', { tagName: 'x' })).body,
      ).toMatchObject({ code: 3 });
      const unknownTag = await json(`/api/v5/objects/prospects/${prospectId}/do/addTag`, 'POST', {
        tagId: 999999,
      });
      expect(unknownTag.status).toBe(400);
      expect(unknownTag.body).toMatchObject({ code: 62 });
      const missing = await json(`/api/v5/objects/prospects/${prospectId}/do/addTag`, 'POST', {});
      expect(missing.body).toMatchObject({ code: 13 });
      const untaggable = await json('/api/v5/objects/visits/1/do/addTag', 'POST', { tagName: 'x' });
      expect(untaggable.status).toBe(404);
      const direct = await json('/api/v5/objects/tagged-objects?fields=id', 'POST', {
        tagId: 1,
        objectType: 'Prospect',
        objectId: prospectId,
      });
      expect(direct.status).toBeGreaterThanOrEqual(400);
      // A tag of another unit is not visible here.
      const foreign = await json('/api/v5/objects/tags?fields=id', 'POST', { name: 'Theirs' }, m.v4Unit.id);
      const cross = await json(`/api/v5/objects/prospects/${prospectId}/do/addTag`, 'POST', {
        tagId: (foreign.body as Json).id,
      });
      expect(cross.body).toMatchObject({ code: 62 });
    });

    it('keeps prospect accounts and opportunities, and links a prospect to its account', async () => {
      const account = await json(
        '/api/v5/objects/prospect-accounts?fields=id,name,website,createdAt',
        'POST',
        {
          name: 'Acme Corp',
          website: 'https://acme.example',
          employees: '500',
        },
      );
      expect(account.status).toBe(201);
      const accountId = (account.body as Json).id as number;
      const prospect = await json('/api/v5/objects/prospects?fields=id,prospectAccountId', 'POST', {
        email: 'buyer@acme.example',
        prospectAccountId: accountId,
      });
      expect(prospect.body).toMatchObject({ prospectAccountId: accountId });
      const legacy = await m.call(`/api/prospect/version/3/do/read/email/buyer@acme.example?format=json`, {
        method: 'POST',
      });
      expect((legacy.body as { prospect: Json }).prospect.prospect_account_id).toBe(accountId);

      const campaign = await json('/api/v5/objects/campaigns?fields=id', 'POST', { name: 'Q3' });
      const opportunity = await json(
        '/api/v5/objects/opportunities?fields=id,name,value,probability,status,closedAt,campaignId',
        'POST',
        {
          name: 'Acme renewal',
          value: 25000.5,
          probability: 60,
          status: 'Open',
          closedAt: '2026-09-30T17:00:00-04:00',
          campaignId: (campaign.body as Json).id,
        },
      );
      expect(opportunity.status).toBe(201);
      expect(opportunity.body).toMatchObject({ name: 'Acme renewal', value: 25000.5, probability: 60 });
      const badCampaign = await json('/api/v5/objects/opportunities?fields=id', 'POST', {
        name: 'Nowhere',
        campaignId: 999999,
      });
      expect(badCampaign.body).toMatchObject({ code: 62 });
      const open = await m.call('/api/v5/objects/opportunities?fields=name&status=Open');
      expect((open.body as { values: Json[] }).values).toEqual([{ name: 'Acme renewal' }]);
    });

    it('shows and reads datetimes in the unit’s time zone', async () => {
      await m.services.units.updateSettings(m.v4Unit.id, { timeZone: 'America/New_York' });
      try {
        const created = await json(
          '/api/v5/objects/prospects?fields=id,createdAt,lastActivityAt',
          'POST',
          { email: 'tz@example.com' },
          m.v4Unit.id,
        );
        // 14:30 UTC is 10:30 in New York in July.
        expect((created.body as Json).createdAt).toBe('2026-07-01T10:30:00-04:00');
        const id = (created.body as Json).id as number;

        // v3/v4 write the unit's wall clock without an offset.
        const legacy = await m.call(`/api/prospect/version/4/do/read/id/${id}?format=json`, {
          method: 'POST',
          unit: m.v4Unit.id,
        });
        expect((legacy.body as { prospect: Json }).prospect.created_at).toBe('2026-07-01 10:30:00');

        // A filter without an offset is New York time: 10:29 there is before the creation, 10:31 after.
        const since = async (value: string) =>
          (
            (
              await m.call(
                `/api/v5/objects/prospects?fields=id&createdAtAfter=${encodeURIComponent(value)}`,
                {
                  unit: m.v4Unit.id,
                },
              )
            ).body as { values: Json[] }
          ).values.map((v) => v.id);
        expect(await since('2026-07-01T10:29:00')).toContain(id);
        expect(await since('2026-07-01T10:31:00')).not.toContain(id);
        expect(await since('2026-07-01T14:29:00Z')).toContain(id);

        // An opportunity's close date given on the wall clock comes back with the winter offset.
        const opportunity = await json(
          '/api/v5/objects/opportunities?fields=closedAt',
          'POST',
          { name: 'Winter deal', closedAt: '2026-12-15 09:00:00' },
          m.v4Unit.id,
        );
        expect((opportunity.body as Json).closedAt).toBe('2026-12-15T09:00:00-05:00');

        const bad = await m.call('/api/v5/objects/prospects?fields=id&createdAtAfter=2026-13-45', {
          unit: m.v4Unit.id,
        });
        expect(bad.body).toMatchObject({ code: 5 });
      } finally {
        await m.services.units.updateSettings(m.v4Unit.id, { timeZone: 'UTC' });
      }
    });

    it('records external activities on the prospect with the email, and refuses them without one', async () => {
      const id = await newProspect('External@Example.com');
      const created = await json('/api/v5/external-activities', 'POST', {
        extension: 'Handoff',
        type: 'Signed Up',
        value: 'plan=pro',
        email: 'external@example.com',
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ prospectId: id, type: 'Signed Up', value: 'plan=pro' });
      const read = await m.call(`${created.headers.get('location')}`);
      expect(read.body).toMatchObject({ id: (created.body as Json).id, extension: 'Handoff' });
      const listed = await m.call(`/api/v5/objects/external-activities?fields=type,value&prospectId=${id}`);
      expect((listed.body as { values: Json[] }).values).toEqual([{ type: 'Signed Up', value: 'plan=pro' }]);
      const prospect = await m.call(`/api/v5/objects/prospects/${id}?fields=lastActivityAt`);
      expect((prospect.body as Json).lastActivityAt).toBe('2026-07-01T14:30:00+00:00');

      const nobody = await json('/api/v5/external-activities', 'POST', {
        extension: 'Handoff',
        type: 'Signed Up',
        email: 'nobody@example.com',
      });
      expect(nobody.body).toMatchObject({ code: 62 });
      const sneaky = await json('/api/v5/external-activities', 'POST', {
        extension: 'Handoff',
        type: 'Signed Up',
        email: 'external@example.com',
        prospectId: 1,
      });
      expect(sneaky.body).toMatchObject({ code: 62 });
      const missing = await json('/api/v5/external-activities', 'POST', {
        extension: 'Handoff',
        email: 'external@example.com',
      });
      expect(missing.body).toMatchObject({ code: 13 });
      // Another unit cannot reach this prospect.
      const foreign = await json(
        '/api/v5/external-activities',
        'POST',
        { extension: 'Handoff', type: 'Signed Up', email: 'external@example.com' },
        m.v4Unit.id,
      );
      expect(foreign.body).toMatchObject({ code: 62 });
    });

    it('records in history who made a change: API, sync or user', async () => {
      const id = await newProspect('actors@example.com');
      await m.call(`/api/v5/objects/prospects/${id}?fields=id`, {
        method: 'PATCH',
        body: JSON.stringify({ jobTitle: 'CTO' }),
        headers: { 'x-handoff-actor': 'sync' },
      });
      await m.call(`/api/v5/objects/prospects/${id}?fields=id`, {
        method: 'PATCH',
        body: JSON.stringify({ jobTitle: 'CEO' }),
        headers: { 'x-handoff-actor': 'nonsense' },
      });
      const history = await m.call(`/_handoff/prospects/${id}/history`);
      const jobTitle = (history.body as { values: Array<Json & { actor: Json }> }).values.filter(
        (h) => h.field === 'jobTitle',
      );
      expect(jobTitle.map((h) => [h.newValue, h.actor.type])).toEqual([
        ['CTO', 'sync'],
        ['CEO', 'api'],
      ]);
      expect(jobTitle[0]!.actor.id).toBe(m.crm.adminUserId);
    });
  });
}
