import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VISITOR_ACTIVITIES, VISITS } from '../../src/marketing/collections/collection-defs.js';
import { DIALECTS } from '../support/databases.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';

type Json = Record<string, unknown>;

for (const dialect of DIALECTS) {
  describe(`tracking: /analytics and visitors (${dialect})`, () => {
    let m: TestMarketing;
    let clock = Date.parse('2026-11-23T09:00:00Z');
    const minutes = (n: number) => (clock += n * 60_000);

    beforeAll(async () => {
      m = await startTestMarketing({ dialect, now: () => new Date(clock) });
      // The site these hits come from is the unit's tracker domain.
      await m.services.units.updateSettings(m.v3Unit.id, { trackerDomains: ['example.com'] });
    });
    afterAll(() => m.close());

    /** What pd.js sends: the page, and the visitor from its cookies when it has one. */
    const hit = async (
      params: Record<string, string | number | undefined>,
      headers: Record<string, string> = {},
    ) => {
      const q = new URLSearchParams();
      q.set('account_id', String(m.v3Unit.trackingId));
      q.set('url', 'https://www.example.com/');
      for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
      const r = await fetch(`${m.url}/analytics?${q}`, {
        headers: { origin: 'https://www.example.com', ...headers },
      });
      return { status: r.status, body: (await r.json()) as Json, headers: r.headers };
    };
    const as = (v: Json) => ({ visitor_id: v.visitorId as number, visitor_id_sign: v.sign as string });
    const activitiesOf = async (where: [string, '=', number]) =>
      (
        await m.services.collections.query(VISITOR_ACTIVITIES, {
          unitId: m.v3Unit.id,
          deleted: 'false',
          where: [where],
          afterId: 0,
          descending: false,
          limit: 100,
        })
      ).map((a) => a.values);

    it('serves pd.js, and answers the page’s origin with the visitor and its signature', async () => {
      const script = await fetch(`${m.url}/pd.js`);
      expect(script.headers.get('content-type')).toContain('javascript');
      expect(await script.text()).toContain('visitor_id');
      const first = await hit({ title: 'Home' });
      expect(first.status).toBe(200);
      expect(first.headers.get('access-control-allow-origin')).toBe('https://www.example.com');
      expect(first.headers.get('access-control-allow-credentials')).toBe('true');
      expect(first.body).toMatchObject({
        tracked: true,
        visitorId: expect.any(Number),
        sign: expect.any(String),
      });
      // The engine's own cookie too, for its hosted forms.
      expect(first.headers.get('set-cookie')).toContain(
        `visitor_id${m.v3Unit.trackingId - 1000}=${first.body.visitorId}`,
      );
    });

    it('groups page views into visits, a new one after 30 minutes without a view', async () => {
      const v = (await hit({ title: 'A' })).body;
      minutes(10);
      expect((await hit({ ...as(v), title: 'B' })).body.visitorId).toBe(v.visitorId);
      minutes(31);
      await hit({ ...as(v), title: 'C', campaign_id: 7 });
      const visits = await m.services.collections.query(VISITS, {
        unitId: m.v3Unit.id,
        deleted: 'false',
        where: [['visitor_id', '=', v.visitorId as number]],
        afterId: 0,
        descending: false,
        limit: 10,
      });
      expect(visits.map((x) => [x.values.visitorPageViewCount, x.values.durationInSeconds])).toEqual([
        [2, 600],
        [1, 0],
      ]);
      const views = await activitiesOf(['visitor_id', '=', v.visitorId as number]);
      expect(views.map((a) => [a.type, a.typeName, a.details, a.campaignId, a.prospectId])).toEqual([
        [2, 'View', 'A', null, null],
        [2, 'View', 'B', null, null],
        [2, 'View', 'C', 7, null],
      ]);
    });

    it('does not let a page claim another visitor with a forged or missing signature', async () => {
      const v = (await hit({})).body;
      const forged = await hit({
        visitor_id: v.visitorId as number,
        visitor_id_sign: 'AAAAAAAAAAAAAAAAAAAAAA',
      });
      expect(forged.body.visitorId).not.toBe(v.visitorId);
      const unsigned = await hit({ visitor_id: v.visitorId as number });
      expect(unsigned.body.visitorId).not.toBe(v.visitorId);
    });

    it('identifies a visitor by pi_email without a page view, moving its anonymous activity to the prospect', async () => {
      const v = (await hit({ title: 'Anonymous 1' })).body;
      await hit({ ...as(v), title: 'Anonymous 2' });
      const known = await m.services.prospects.create(
        m.v3Unit,
        { type: 'api' },
        { email: 'known@example.com', score: 10 },
      );
      const identified = await hit({ ...as(v), pi_email: 'KNOWN@example.com' });
      expect(identified.body.visitorId).toBe(v.visitorId);
      const after = await m.services.prospects.read(m.v3Unit.id, known.id);
      // Two views of one point each, now the prospect's; identifying counts no view.
      expect(after.values.score).toBe(12);
      expect((await activitiesOf(['prospect_id', '=', known.id])).map((a) => a.details)).toEqual([
        'Anonymous 1',
        'Anonymous 2',
      ]);
      // Later views are the prospect's at once, and score.
      await hit({ ...as(v), title: 'Known now' });
      expect((await m.services.prospects.read(m.v3Unit.id, known.id)).values.score).toBe(13);
      // An email no prospect has makes one (the unit's rules: one per email in v3).
      const other = (await hit({ pi_email: 'new-visitor@example.com' })).body;
      const made = await m.services.prospects.byEmail(m.v3Unit.id, 'new-visitor@example.com');
      expect(made).toHaveLength(1);
      await hit({ ...as(other), pi_email: 'new-visitor@example.com' });
      expect(await m.services.prospects.byEmail(m.v3Unit.id, 'new-visitor@example.com')).toHaveLength(1);
    });

    it('honours opt-out always, and consent where the unit requires it', async () => {
      const count = async (unitId: string) =>
        (await m.call('/api/v5/objects/visitors?fields=id', { unit: unitId })).body as { values: Json[] };
      const before = (await count(m.v3Unit.id)).values.length;
      expect((await hit({ pi_opt_in: 'false' })).body).toEqual({ tracked: false });
      const cookie = `pi_opt_in${m.v3Unit.trackingId - 1000}=false`;
      expect((await hit({}, { cookie })).body).toEqual({ tracked: false });
      expect((await count(m.v3Unit.id)).values.length).toBe(before);

      await m.services.units.updateSettings(m.v4Unit.id, { requireTrackingConsent: true });
      const v4 = (params: Record<string, string>) => hit({ ...params, account_id: m.v4Unit.trackingId });
      expect((await v4({})).body).toEqual({ tracked: false });
      expect((await v4({ pi_email: 'no-consent@example.com' })).body).toEqual({ tracked: false });
      expect(await m.services.prospects.byEmail(m.v4Unit.id, 'no-consent@example.com')).toEqual([]);
      expect((await v4({ pi_opt_in: 'true' })).body).toMatchObject({ tracked: true });
      expect((await count(m.v4Unit.id)).values).toHaveLength(1);
    });

    it('refuses an unknown account or a malformed hit, recording nothing', async () => {
      expect((await hit({ account_id: 999_999 })).status).toBe(404);
      const bad = await hit({ url: '' });
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ code: 62 });
      expect((await hit({ pi_email: 'not-an-email' })).status).toBe(400);
    });
  });
}
