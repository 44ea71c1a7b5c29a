import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.js';
import { startTestMarketing, visitorActivities, type TestMarketing } from '../support/marketing-server.js';

type Json = Record<string, unknown>;

for (const dialect of DIALECTS) {
  describe(`form handlers (${dialect})`, () => {
    let m: TestMarketing;
    const handlers: Record<string, number> = {};

    /** A handler on the unit with email (required), first name, company (required) and phone. */
    const makeHandler = async (unit: string, name: string, locations: Json) => {
      const call = (path: string, body: Json) =>
        m.call(path, { method: 'POST', body: JSON.stringify(body), unit }).then((r) => r.body as Json);
      const campaign = await call('/api/v5/objects/campaigns?fields=id', { name: `${name} campaign` });
      const handler = await call('/api/v5/objects/form-handlers?fields=id', {
        name,
        campaignId: campaign.id,
        ...locations,
      });
      for (const [field, prospectApiFieldId, isRequired] of [
        ['email', 'email', true],
        ['first_name', 'firstName', false],
        ['company', 'company', true],
        ['phone', 'phone', false],
      ] as const) {
        await call('/api/v5/objects/form-handler-fields?fields=id', {
          formHandlerId: handler.id,
          name: field,
          prospectApiFieldId,
          isRequired,
        });
      }
      return handler.id as number;
    };
    const submit = (unit: string, handler: number, fields: Record<string, string>) =>
      fetch(`${m.url}/l/${unit}/${handler}`, {
        method: 'POST',
        body: new URLSearchParams(fields),
        redirect: 'manual',
      });
    const activities = async (unit: string, prospectId: number) =>
      (await visitorActivities(m, unit, prospectId)).map((a) => [a.type, a.formHandlerId]);

    beforeAll(async () => {
      m = await startTestMarketing({ dialect });
      handlers.v3 = await makeHandler(m.v3Unit.id, 'Contact us', {
        successLocation: 'https://www.example.com/thanks',
        errorLocation: 'https://www.example.com/contact',
      });
      handlers.v4 = await makeHandler(m.v4Unit.id, 'Webinar', {});
    });

    afterAll(() => m.close());

    it('makes the prospect, fills the mapped fields, records the success and redirects', async () => {
      const r = await submit(m.v3Unit.id, handlers.v3!, {
        email: 'form@example.com',
        first_name: 'Ada',
        company: 'Engines Ltd',
        unmapped: 'ignored',
      });
      expect(r.status).toBe(302);
      expect(r.headers.get('location')).toBe('https://www.example.com/thanks');
      const [p] = await m.services.prospects.byEmail(m.v3Unit.id, 'form@example.com');
      // Form success scores 50 by default.
      expect(p?.values).toMatchObject({ firstName: 'Ada', company: 'Engines Ltd', score: 50 });
      expect(await activities(m.v3Unit.id, p!.id)).toEqual([[4, handlers.v3]]);
    });

    it('updates the same prospect on a second submission, and an empty input blanks nothing', async () => {
      await submit(m.v3Unit.id, handlers.v3!, {
        email: 'twice@example.com',
        first_name: 'Grace',
        company: 'Navy',
      });
      const again = await submit(m.v3Unit.id, handlers.v3!, {
        email: 'TWICE@example.com',
        first_name: '',
        company: 'Yale',
        phone: '555-0100',
      });
      expect(again.status).toBe(302);
      const found = await m.services.prospects.byEmail(m.v3Unit.id, 'twice@example.com');
      expect(found).toHaveLength(1);
      expect(found[0]!.values).toMatchObject({
        firstName: 'Grace',
        company: 'Yale',
        phone: '555-0100',
        score: 100,
      });
      expect(await activities(m.v3Unit.id, found[0]!.id)).toEqual([
        [4, handlers.v3],
        [4, handlers.v3],
      ]);
    });

    it('sends a submission with errors back to the error location, changing nothing', async () => {
      const r = await submit(m.v3Unit.id, handlers.v3!, { email: 'not-an-email', company: '' });
      expect(r.status).toBe(302);
      const location = new URL(r.headers.get('location')!);
      expect(location.origin + location.pathname).toBe('https://www.example.com/contact');
      expect(location.searchParams.get('errorMessage')).toBe('Please correct the errors below');
      expect(location.searchParams.get('email')).toBe('Please input a valid email address');
      expect(location.searchParams.get('company')).toBe('This field is required');
      expect(await m.services.prospects.byEmail(m.v3Unit.id, 'not-an-email')).toEqual([]);
      // A known prospect's failed submission is recorded on it as an Error.
      const known = await submit(m.v3Unit.id, handlers.v3!, { email: 'form@example.com', company: '' });
      expect(known.status).toBe(302);
      const [p] = await m.services.prospects.byEmail(m.v3Unit.id, 'form@example.com');
      expect(await activities(m.v3Unit.id, p!.id)).toEqual([
        [4, handlers.v3],
        [3, handlers.v3],
      ]);
      expect(p!.values.company).toBe('Engines Ltd');
      // The error took its 5 points off the 50.
      expect(p!.values.score).toBe(45);
    });

    it('in a unit with several prospects per email, updates the most recently updated one', async () => {
      const older = await m.services.prospects.create(
        m.v4Unit,
        { type: 'api' },
        { email: 'multi@example.com' },
      );
      const newer = await m.services.prospects.create(
        m.v4Unit,
        { type: 'api' },
        { email: 'multi@example.com' },
      );
      await m.services.prospects.update(m.v4Unit, { type: 'api' }, newer.id, { jobTitle: 'touched' });
      const r = await submit(m.v4Unit.id, handlers.v4!, { email: 'multi@example.com', company: 'Multi' });
      expect(r.status).toBe(200);
      expect(await r.text()).toContain('Thank you');
      expect((await m.services.prospects.read(m.v4Unit.id, newer.id)).values.company).toBe('Multi');
      expect((await m.services.prospects.read(m.v4Unit.id, older.id)).values.company ?? null).toBeNull();
      expect(await m.services.prospects.byEmail(m.v4Unit.id, 'multi@example.com')).toHaveLength(2);
    });

    it('scores each activity by its type, and keeps the score’s history', async () => {
      const p = await m.services.prospects.create(m.v3Unit, { type: 'api' }, { email: 'scored@example.com' });
      for (const type of [2, 2, 1, 24])
        await m.services.activities.record(m.v3Unit, { type, prospectId: p.id });
      const after = await m.services.prospects.read(m.v3Unit.id, p.id);
      expect(after.values.score).toBe(1 + 1 + 3 + 20);
      const history = (await m.services.prospects.history(m.v3Unit.id, p.id)).filter(
        (c) => c.field === 'score',
      );
      expect(history.map((c) => c.newValue)).toEqual(['1', '2', '5', '25']);
    });

    it('answers 404 for a handler or unit that does not exist, and 400 without an error location', async () => {
      expect((await submit(m.v3Unit.id, 999_999, { email: 'x@example.com' })).status).toBe(404);
      expect((await submit('no-such-unit', handlers.v3!, { email: 'x@example.com' })).status).toBe(404);
      // The v3 unit's handler is not the v4 unit's.
      expect((await submit(m.v4Unit.id, handlers.v3!, { email: 'x@example.com' })).status).toBe(404);
      const bad = await submit(m.v4Unit.id, handlers.v4!, { email: '' });
      expect(bad.status).toBe(400);
      expect(await bad.text()).toContain('email: This field is required');
    });
  });
}

describe('scoring configured over the defaults', () => {
  it('uses the configured points, and the defaults for the rest', async () => {
    const m = await startTestMarketing({ scoring: { 2: 10, 4: 0 } });
    try {
      const p = await m.services.prospects.create(m.v3Unit, { type: 'api' }, { email: 'custom@example.com' });
      for (const type of [2, 4, 1]) await m.services.activities.record(m.v3Unit, { type, prospectId: p.id });
      expect((await m.services.prospects.read(m.v3Unit.id, p.id)).values.score).toBe(10 + 0 + 3);
    } finally {
      await m.close();
    }
  });
});
