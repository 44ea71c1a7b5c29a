import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.js';
import { startTestMarketing, visitorActivities, type TestMarketing } from '../support/marketing-server.js';

type Json = Record<string, unknown>;

for (const dialect of DIALECTS) {
  describe(`hosted forms and landing pages (${dialect})`, () => {
    let m: TestMarketing;
    let campaignId: number;
    let formId: number;
    let listId: number;
    let pageId: number;

    const post = async (path: string, body: Json, unit?: string) => {
      const r = await m.call(path, { method: 'POST', body: JSON.stringify(body), unit });
      return { status: r.status, body: r.body as Json };
    };
    const submit = (path: string, fields: Record<string, string>) =>
      fetch(`${m.url}${path}`, { method: 'POST', body: new URLSearchParams(fields), redirect: 'manual' });
    const activities = async (prospectId: number) =>
      (await visitorActivities(m, m.v3Unit.id, prospectId)).map((a) => [a.type, a.formId, a.landingPageId]);

    beforeAll(async () => {
      m = await startTestMarketing({ dialect });
      campaignId = (await post('/api/v5/objects/campaigns?fields=id', { name: 'Forms' })).body.id as number;
      listId = (await post('/api/v5/objects/lists?fields=id', { name: 'Webinar sign-ups' })).body
        .id as number;
      formId = (
        await post('/api/v5/objects/forms?fields=id', {
          name: 'Webinar',
          campaignId,
          successLocation: 'https://www.example.com/see-you',
          completionActions: [
            { kind: 'addToList', listId },
            { kind: 'addTag', tag: 'webinar' },
          ],
        })
      ).body.id as number;
      const fields: Json[] = [
        { prospectApiFieldId: 'email', label: 'Work email', isRequired: true, sortOrder: 1 },
        { prospectApiFieldId: 'firstName', label: 'First name', isRequired: true, sortOrder: 2 },
        {
          prospectApiFieldId: 'industry',
          label: 'Industry',
          type: 'dropdown',
          options: 'Software\nManufacturing',
          sortOrder: 3,
        },
        { prospectApiFieldId: 'company', label: 'Company', sortOrder: 4 },
      ];
      for (const field of fields) {
        const r = await post('/api/v5/objects/form-fields?fields=id', { formId, ...field });
        expect(r.status).toBe(201);
      }
      pageId = (
        await post('/api/v5/objects/landing-pages?fields=id', {
          name: 'Webinar page',
          title: 'Join our webinar',
          campaignId,
          formId,
        })
      ).body.id as number;
    });
    afterAll(() => m.close());

    it('shows the form with labelled fields, a hidden honeypot, and no tracking of its own', async () => {
      const r = await fetch(`${m.url}/form/${m.v3Unit.id}/${formId}`);
      expect(r.status).toBe(200);
      const html = await r.text();
      expect(html).toContain('<label for="pi_email">Work email');
      expect(html).toContain('<option>Manufacturing</option>');
      expect(html).toMatch(/class="hp" aria-hidden="true">.*name="pi_extra_field"/);
    });

    it('shows each error beside its field, keeps the values, and changes nothing', async () => {
      const r = await submit(`/form/${m.v3Unit.id}/${formId}`, {
        email: 'not-an-email',
        firstName: '',
        industry: 'Farming',
        company: '<b>Acme</b>',
      });
      expect(r.status).toBe(400);
      const html = await r.text();
      expect(html).toContain('Please correct the errors below');
      expect(html).toContain(
        '<p class="error" id="pi_email_error" role="alert">Please input a valid email address</p>',
      );
      expect(html).toContain('id="pi_firstName_error" role="alert">This field is required');
      expect(html).toContain('id="pi_industry_error" role="alert">Please select one of the choices');
      // Values are kept, escaped.
      expect(html).toContain('value="&lt;b&gt;Acme&lt;/b&gt;"');
      expect(await m.services.prospects.byEmail(m.v3Unit.id, 'not-an-email')).toEqual([]);
    });

    it('makes one prospect however often it is submitted, runs its completion actions, and redirects', async () => {
      const fields = {
        email: 'webinar@example.com',
        firstName: 'Ada',
        industry: 'Software',
        company: 'Engines',
      };
      const first = await submit(`/form/${m.v3Unit.id}/${formId}`, fields);
      expect(first.status).toBe(303);
      expect(first.headers.get('location')).toBe('https://www.example.com/see-you');
      const again = await submit(`/form/${m.v3Unit.id}/${formId}`, { ...fields, company: '' });
      expect(again.status).toBe(303);
      const found = await m.services.prospects.byEmail(m.v3Unit.id, 'webinar@example.com');
      expect(found).toHaveLength(1);
      // An empty input blanks nothing; two successes score 50 each.
      expect(found[0]!.values).toMatchObject({
        firstName: 'Ada',
        industry: 'Software',
        company: 'Engines',
        score: 100,
      });
      expect(await activities(found[0]!.id)).toEqual([
        [4, formId, null],
        [4, formId, null],
      ]);
      const members = await m.services.collections.memberships(m.v3Unit.id, { listId });
      expect(members.map((x) => x.values.prospectId)).toEqual([found[0]!.id]);
      const tags = await m.call(
        `/api/v5/objects/tagged-objects?fields=objectType,objectId&objectId=${found[0]!.id}`,
      );
      expect((tags.body as { values: Json[] }).values).toEqual([
        { objectType: 'Prospect', objectId: found[0]!.id },
      ]);
    });

    it('looks like a success to a bot that fills the honeypot, and records nothing', async () => {
      const r = await submit(`/form/${m.v3Unit.id}/${formId}`, {
        email: 'bot@example.com',
        firstName: 'Bot',
        pi_extra_field: 'http://spam.example.com',
      });
      expect(r.status).toBe(303);
      expect(await m.services.prospects.byEmail(m.v3Unit.id, 'bot@example.com')).toEqual([]);
    });

    it('serves a landing page with the form and the tracking script, and records submissions on it', async () => {
      const r = await fetch(`${m.url}/lp/${m.v3Unit.id}/${pageId}`);
      const html = await r.text();
      expect(html).toContain('<h1>Join our webinar</h1>');
      expect(html).toContain(`piAId='${m.v3Unit.trackingId}'`);
      expect(html).toContain(`action="/lp/${m.v3Unit.id}/${pageId}"`);
      const sent = await submit(`/lp/${m.v3Unit.id}/${pageId}`, {
        email: 'lp@example.com',
        firstName: 'Lin',
      });
      expect(sent.status).toBe(303);
      const [p] = await m.services.prospects.byEmail(m.v3Unit.id, 'lp@example.com');
      expect(await activities(p!.id)).toEqual([[4, formId, pageId]]);
    });

    it('refuses a bad field definition or completion action, and answers 404 for unknown forms', async () => {
      const badType = await post('/api/v5/objects/form-fields?fields=id', {
        formId,
        prospectApiFieldId: 'phone',
        type: 'colour',
      });
      expect(badType.status).toBe(400);
      expect(badType.body).toMatchObject({ code: 62 });
      const badAction = await post('/api/v5/objects/forms?fields=id', {
        name: 'Broken',
        campaignId,
        completionActions: [{ kind: 'addToList' }],
      });
      expect(badAction.status).toBe(400);
      expect(String(badAction.body.message)).toContain('completionActions');
      expect((await fetch(`${m.url}/form/${m.v3Unit.id}/999999`)).status).toBe(404);
      expect((await fetch(`${m.url}/form/${m.v4Unit.id}/${formId}`)).status).toBe(404);
      expect((await fetch(`${m.url}/lp/${m.v3Unit.id}/999999`)).status).toBe(404);
    });
  });
}
