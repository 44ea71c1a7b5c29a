import { Analytics as SegmentAnalytics } from '@segment/analytics-node';
import RudderAnalytics from '@rudderstack/rudder-sdk-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.js';
import { startTestIngest, type TestIngest } from '../support/ingest-server.js';

type Json = Record<string, unknown>;

for (const dialect of DIALECTS) {
  describe(`identify, track and page become prospects and activities (${dialect})`, () => {
    let t: TestIngest;

    beforeAll(async () => {
      t = await startTestIngest({ dialect });
    });

    afterAll(async () => {
      await t.close();
    });

    beforeEach(() => {
      t.m.services.faults.clear();
    });

    /** Segment's own Node library, pointed at the ingest. */
    async function segment(writeKey: string, send: (a: SegmentAnalytics) => void): Promise<void> {
      const analytics = new SegmentAnalytics({ writeKey, host: t.url, flushInterval: 10, maxRetries: 0 });
      const errors: unknown[] = [];
      analytics.on('error', (e) => errors.push(e));
      send(analytics);
      await analytics.closeAndFlush();
      expect(errors).toEqual([]);
    }

    /** RudderStack's Node library (gzip on, as by default), pointed at the ingest. */
    async function rudder(writeKey: string, send: (a: RudderAnalytics) => void): Promise<void> {
      const analytics = new RudderAnalytics(writeKey, {
        dataPlaneUrl: t.url,
        flushInterval: 10,
        retryCount: 0,
        logLevel: 'error',
      });
      send(analytics);
      await new Promise<void>((resolve, reject) =>
        analytics.flush((error?: unknown) => (error ? reject(error as Error) : resolve())),
      );
    }

    const prospects = async (unit: string, email: string, extra = '') =>
      (
        (
          await t.m.call(
            `/api/v5/objects/prospects?fields=id,email,firstName,jobTitle${extra}&email=${encodeURIComponent(email)}`,
            { unit },
          )
        ).body as { values: Json[] }
      ).values;
    const activities = async (unit: string, prospectId: number) =>
      (
        (
          await t.m.call(`/api/v5/objects/external-activities?fields=type,value&prospectId=${prospectId}`, {
            unit,
          })
        ).body as { values: Json[] }
      ).values;

    it('v3: creates by email, updates the same prospect, follows an email change, and reports unknown traits', async () => {
      const unit = t.m.v3Unit.id;
      await segment(t.v3.writeKey, (a) => {
        a.identify({
          userId: 'v3-user',
          traits: { email: 'Ada@Example.com', first_name: 'Ada', favorite_color: 'teal' },
        });
        a.identify({ userId: 'v3-user', traits: { email: 'ada@example.com', title: 'CTO' } });
      });
      await t.settled();
      const [ada, ...others] = await prospects(unit, 'ada@example.com');
      expect(others).toEqual([]);
      expect(ada).toMatchObject({ firstName: 'Ada', jobTitle: 'CTO' });
      const first = (await t.services.failures()).length;
      expect(first).toBe(0);

      // The email changes: the same prospect follows (Segment's destination would make a new one).
      await segment(t.v3.writeKey, (a) =>
        a.identify({ userId: 'v3-user', traits: { email: 'ada@newco.example' } }),
      );
      await t.settled();
      expect(await prospects(unit, 'ada@example.com')).toEqual([]);
      expect((await prospects(unit, 'ada@newco.example')).map((p) => p.id)).toEqual([ada!.id]);

      // Another userId with the same email: v3 keeps one prospect per email.
      await segment(t.v3.writeKey, (a) =>
        a.identify({ userId: 'v3-other', traits: { email: 'ADA@newco.example', firstName: 'Ada L.' } }),
      );
      await t.settled();
      expect(await prospects(unit, 'ada@newco.example')).toMatchObject([
        { id: ada!.id, firstName: 'Ada L.' },
      ]);

      // favorite_color matched no field: said so on the delivery record, not dropped silently.
      const events = await t.services.database.db
        .selectFrom('ingest_event' as never)
        .selectAll()
        .execute();
      const withUnknown = (events as Array<{ result: string | null; type: string }>)
        .filter((e) => e.type === 'identify' && e.result)
        .map((e) => JSON.parse(e.result!) as Json)
        .filter(
          (r) => Array.isArray(r.unknownTraits) && (r.unknownTraits as string[]).includes('favorite_color'),
        );
      expect(withUnknown).toHaveLength(1);
      // Once the unit has the custom field, the trait lands in it.
      await t.m.call('/api/v5/objects/custom-fields?fields=id', {
        method: 'POST',
        body: JSON.stringify({ name: 'Favorite Color', fieldId: 'Favorite_Color', type: 'Text' }),
        unit,
      });
      await new Promise((r) => setTimeout(r, 1_100));
      await segment(t.v3.writeKey, (a) =>
        a.identify({ userId: 'v3-user', traits: { favorite_color: 'navy' } }),
      );
      await t.settled();
      expect(await prospects(unit, 'ada@newco.example', ',Favorite_Color__c')).toMatchObject([
        { id: ada!.id, Favorite_Color__c: 'navy' },
      ]);
    });

    it('v4: updates by id or fid, matches the lookup field or userId, and creates only for a new person', async () => {
      const unit = t.m.v4Unit.id;
      await t.m.call('/api/v5/objects/custom-fields?fields=id', {
        method: 'POST',
        body: JSON.stringify({ name: 'Customer Id', fieldId: 'Customer_Id', type: 'Text' }),
        unit,
      });
      const byLookup = await t.addSource('v4 lookup', {
        apiVersion: 4,
        businessUnitId: unit,
        lookupField: 'Customer_Id',
      });
      const byUserId = await t.addSource('v4 user id', {
        apiVersion: 4,
        businessUnitId: unit,
        lookupField: 'Customer_Id',
        useUserIdAsLookup: true,
      });

      // Only an email, twice, from two anonymous visitors: one prospect, not one per call.
      await rudder(t.v4.writeKey, (a) => {
        a.identify({ anonymousId: 'anon-1', traits: { email: 'grace@example.com', firstName: 'Grace' } });
        a.identify({ anonymousId: 'anon-2', traits: { email: 'grace@example.com', jobTitle: 'Admiral' } });
      });
      await t.settled();
      const grace = await prospects(unit, 'grace@example.com');
      expect(grace).toHaveLength(1);
      expect(grace[0]).toMatchObject({ firstName: 'Grace', jobTitle: 'Admiral' });

      // Lookup field: two customers sharing an email are two prospects (v4), each kept apart.
      await rudder(byLookup.writeKey, (a) => {
        a.identify({
          anonymousId: 'x1',
          traits: { email: 'shared@example.com', Customer_Id: 'c-1', firstName: 'One' },
        });
        a.identify({
          anonymousId: 'x2',
          traits: { email: 'shared@example.com', Customer_Id: 'c-2', firstName: 'Two' },
        });
        a.identify({
          anonymousId: 'x3',
          traits: { email: 'shared@example.com', Customer_Id: 'c-1', jobTitle: 'First' },
        });
      });
      await t.settled();
      const shared = await prospects(unit, 'shared@example.com', ',Customer_Id__c');
      expect(shared.map((p) => [p.Customer_Id__c, p.firstName, p.jobTitle]).sort()).toEqual([
        ['c-1', 'One', 'First'],
        ['c-2', 'Two', null],
      ]);
      // An email change with the lookup field updates that customer (Segment would create one).
      await rudder(byLookup.writeKey, (a) =>
        a.identify({ anonymousId: 'x4', traits: { email: 'one@newmail.example', Customer_Id: 'c-1' } }),
      );
      await t.settled();
      expect(
        (await prospects(unit, 'one@newmail.example', ',Customer_Id__c')).map((p) => p.Customer_Id__c),
      ).toEqual(['c-1']);
      expect(await prospects(unit, 'shared@example.com')).toHaveLength(1);

      // userId as the lookup value.
      await rudder(byUserId.writeKey, (a) =>
        a.identify({ userId: 'cust-9', traits: { email: 'nine@example.com' } }),
      );
      await t.settled();
      expect(await prospects(unit, 'nine@example.com', ',Customer_Id__c')).toMatchObject([
        { Customer_Id__c: 'cust-9' },
      ]);

      // integrations.Pardot.id and .fid name the prospect outright, whatever the email says.
      const [nine] = await prospects(unit, 'nine@example.com');
      await t.m.services.prospects.update(t.m.v4Unit, { type: 'sync' }, nine!.id as number, {
        salesforceId: '00Q000000000009AAA',
      });
      await rudder(t.v4.writeKey, (a) => {
        a.identify({
          userId: 'someone',
          traits: { jobTitle: 'By id' },
          integrations: { Pardot: { id: String(grace[0]!.id) } },
        });
        a.identify({
          userId: 'someone-else',
          traits: { firstName: 'By fid' },
          integrations: { Pardot: { fid: '00Q000000000009AAA' } },
        });
      });
      await t.settled();
      expect((await prospects(unit, 'grace@example.com'))[0]).toMatchObject({ jobTitle: 'By id' });
      expect((await prospects(unit, 'nine@example.com'))[0]).toMatchObject({ firstName: 'By fid' });

      // Pardot:false and All:false keep the destination out.
      await rudder(t.v4.writeKey, (a) => {
        a.identify({
          userId: 'off-1',
          traits: { email: 'off1@example.com' },
          integrations: { Pardot: false },
        });
        a.identify({ userId: 'off-2', traits: { email: 'off2@example.com' }, integrations: { All: false } });
      });
      await t.settled();
      expect(await prospects(unit, 'off1@example.com')).toEqual([]);
      expect(await prospects(unit, 'off2@example.com')).toEqual([]);
    });

    it('turns track and page into activities, holding an anonymous visitor’s until identify', async () => {
      const unit = t.m.v3Unit.id;
      await segment(t.v3.writeKey, (a) => {
        a.page({
          anonymousId: 'visitor-7',
          name: 'Pricing',
          properties: { url: 'https://shop.example/pricing' },
        });
        a.track({ anonymousId: 'visitor-7', event: 'Viewed Plan', properties: { plan: 'pro' } });
      });
      await t.settled();
      expect(await prospects(unit, 'lin@example.com')).toEqual([]);
      await segment(t.v3.writeKey, (a) => {
        a.identify({ userId: 'lin', anonymousId: 'visitor-7', traits: { email: 'lin@example.com' } });
        a.track({ userId: 'lin', event: 'Signed Up', properties: { plan: 'pro' } });
      });
      await t.settled();
      const [lin] = await prospects(unit, 'lin@example.com');
      const done = await activities(unit, lin!.id as number);
      expect(done.map((a) => a.type).sort()).toEqual(['Page View', 'Signed Up', 'Viewed Plan']);
      expect(done.find((a) => a.type === 'Page View')?.value).toBe('https://shop.example/pricing');
      expect(JSON.parse(String(done.find((a) => a.type === 'Signed Up')?.value))).toEqual({ plan: 'pro' });

      // alias: a later anonymous id joins the same person.
      await segment(t.v3.writeKey, (a) => {
        a.alias({ userId: 'lin', previousId: 'phone-3' });
        a.screen({ anonymousId: 'phone-3', name: 'Home' });
      });
      await t.settled();
      expect((await activities(unit, lin!.id as number)).map((a) => a.type)).toContain('Screen View');
    });

    it('counts page views of a source with a tracking account id as the prospect’s visits, scored, the anonymous ones from identify on', async () => {
      const unit = t.m.v3Unit;
      const { writeKey } = await t.addSource(`tracked ${dialect}`, {
        apiVersion: 3,
        businessUnitId: unit.id,
        accountId: String(unit.trackingId),
      });
      const read = async (path: string) =>
        ((await t.m.call(path, { unit: unit.id })).body as { values: Json[] }).values;
      // Before the person is known: held. One more from analytics.js in device mode (Pardot
      // bundled): its tracking script counted it in the browser, so the ingest does not.
      await rudder(writeKey, (a) => {
        a.page({
          anonymousId: 'tracked-1',
          name: 'Pricing',
          properties: { url: 'https://shop.example/pricing', title: 'Pricing' },
        });
      });
      const bundled = await t.post(
        '/v1/page',
        {
          anonymousId: 'tracked-1',
          properties: { url: 'https://shop.example/in-browser' },
          _metadata: { bundled: ['Pardot', 'Segment.io'], unbundled: [] },
        },
        writeKey,
      );
      expect(bundled.status).toBe(200);
      await t.settled();
      await segment(writeKey, (a) => {
        a.identify({
          userId: 'tracked-user',
          anonymousId: 'tracked-1',
          traits: { email: 'tracked@example.com' },
        });
        a.page({ userId: 'tracked-user', name: 'Docs', properties: { url: 'https://shop.example/docs' } });
      });
      await t.settled();
      const [person] = await prospects(unit.id, 'tracked@example.com', ',score');
      const prospectId = person!.id as number;
      const views = await read(
        `/api/v5/objects/visitor-page-views?fields=url,visitorId,visitId&prospectId=${prospectId}`,
      );
      expect(views.map((v) => v.url).sort()).toEqual([
        'https://shop.example/docs',
        'https://shop.example/pricing',
      ]);
      // One visitor of the prospect, one visit holding both views; each View scored a point.
      expect(new Set(views.map((v) => v.visitorId)).size).toBe(1);
      const visits = await read(
        `/api/v5/objects/visits?fields=id,visitorPageViewCount&prospectId=${prospectId}`,
      );
      expect(visits).toEqual([expect.objectContaining({ visitorPageViewCount: 2 })]);
      const scored = await read(
        `/api/v5/objects/visitor-activities?fields=type&prospectId=${prospectId}&type=2`,
      );
      expect(scored).toHaveLength(2);
      expect(person!.score).toBe(2);
      // Not external activities as well: the tracker has them.
      expect((await activities(unit.id, prospectId)).map((a) => a.type)).not.toContain('Page View');
      const skipped = await t.services.recent(20);
      expect(
        skipped.find((e) => e.message.properties?.url === 'https://shop.example/in-browser')?.status,
      ).toBe('skipped');
    });

    it('creates one prospect for 50 concurrent first identifies of one email, on v3 and v4', async () => {
      for (const [source, unit, email] of [
        [t.v3, t.m.v3Unit.id, 'rush-v3@example.com'],
        [t.v4, t.m.v4Unit.id, 'rush-v4@example.com'],
      ] as const) {
        const responses = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            t.post(
              '/v1/identify',
              { anonymousId: `rush-${i}`, traits: { email, firstName: `N${i}` } },
              source.writeKey,
            ),
          ),
        );
        expect(responses.every((r) => r.status === 200)).toBe(true);
        await t.settled();
        expect(await prospects(unit, email)).toHaveLength(1);
      }
    });

    it('applies a replayed messageId once', async () => {
      const unit = t.m.v3Unit.id;
      const batch = {
        batch: [
          { type: 'identify', userId: 'replay', messageId: 'rp-1', traits: { email: 'replay@example.com' } },
          { type: 'track', userId: 'replay', messageId: 'rp-2', event: 'Bought' },
        ],
      };
      for (let i = 0; i < 3; i++) expect((await t.post('/v1/batch', batch, t.v3.writeKey)).status).toBe(200);
      await t.settled();
      const [p] = await prospects(unit, 'replay@example.com');
      expect(await activities(unit, p!.id as number)).toEqual([{ type: 'Bought', value: '{}' }]);
    });

    it('applies one person’s events in order, and audience traits become list membership', async () => {
      const unit = t.m.v3Unit.id;
      const list = await t.m.call('/api/v5/objects/lists?fields=id', {
        method: 'POST',
        body: JSON.stringify({ name: 'High value users' }),
        unit,
      });
      const listId = (list.body as Json).id as number;
      const source = await t.addSource('audiences', {
        apiVersion: 3,
        businessUnitId: unit,
        audiences: { high_value_users: listId },
      });
      const titles = Array.from({ length: 30 }, (_, i) => `Title ${i}`);
      expect(
        (
          await t.post(
            '/v1/batch',
            {
              batch: [
                ...titles.map((jobTitle) => ({
                  type: 'identify',
                  userId: 'ordered',
                  traits: { email: 'ordered@example.com', jobTitle },
                })),
                { type: 'identify', userId: 'ordered', traits: { high_value_users: true } },
              ],
            },
            source.writeKey,
          )
        ).status,
      ).toBe(200);
      await t.settled();
      const [p] = await prospects(unit, 'ordered@example.com');
      expect(p).toMatchObject({ jobTitle: 'Title 29' });
      const members = async () =>
        (
          (await t.m.call(`/api/v5/objects/list-memberships?fields=prospectId&listId=${listId}`, { unit }))
            .body as {
            values: Json[];
          }
        ).values;
      expect(await members()).toEqual([{ prospectId: p!.id }]);
      // Leaving the audience takes the prospect off the list; entering twice adds it once.
      await t.post(
        '/v1/identify',
        { userId: 'ordered', traits: { high_value_users: true } },
        source.writeKey,
      );
      await t.settled();
      expect(await members()).toHaveLength(1);
      await t.post(
        '/v1/identify',
        { userId: 'ordered', traits: { high_value_users: false } },
        source.writeKey,
      );
      await t.settled();
      expect(await members()).toEqual([]);
    });

    it('lists permanent failures with the reason, and delivers them when retried after the cause is fixed', async () => {
      const unit = t.m.v4Unit.id;
      const source = await t.addSource('missing lookup field', {
        apiVersion: 4,
        businessUnitId: unit,
        lookupField: 'Account_Number',
      });
      await t.post(
        '/v1/identify',
        {
          userId: 'acct-1',
          messageId: 'fail-1',
          traits: { email: 'acct@example.com', Account_Number: 'A-1' },
        },
        source.writeKey,
      );
      await t.settled();
      const [failed] = await t.services.failures({ sourceId: source.source.id });
      expect(failed?.message.messageId).toBe('fail-1');
      expect(failed?.lastError).toContain('Account_Number');
      // The cause is fixed: the unit gets the field. A retry delivers the same event.
      await t.m.call('/api/v5/objects/custom-fields?fields=id', {
        method: 'POST',
        body: JSON.stringify({ name: 'Account Number', fieldId: 'Account_Number', type: 'Text' }),
        unit,
      });
      await new Promise((r) => setTimeout(r, 1_100));
      expect(await t.services.retryFailed([failed!.seq])).toBe(1);
      await t.settled();
      expect(await t.services.failures({ sourceId: source.source.id })).toEqual([]);
      expect(await prospects(unit, 'acct@example.com', ',Account_Number__c')).toMatchObject([
        { Account_Number__c: 'A-1' },
      ]);
    });

    it('delivers through 5xx, 66, 122 and lost answers once the marketing engine recovers, with no duplicate', async () => {
      const unit = t.m.v4Unit;
      const addFault = (rule: Json) => t.m.services.faults.add(rule);
      // Read the engine directly: the faults below would fail the test's own API reads too.
      const stored = () => t.m.services.prospects.byEmail(unit.id, 'flaky@example.com');
      // The create is applied but its answer lost; reads and updates fail for a while.
      addFault({ route: 'POST /api/v5/objects/prospects', fault: 'lost-answer', times: 1 });
      addFault({ route: 'GET /api/v5/objects/prospects', fault: 'error-500', times: 2 });
      addFault({ route: 'PATCH /api/v5/objects/prospects/*', fault: 'concurrency-66', times: 2 });
      addFault({ route: 'POST /api/v5/external-activities', fault: 'daily-limit-122', times: 1 });
      await rudder(t.v4.writeKey, (a) => {
        a.identify({ userId: 'flaky', traits: { email: 'flaky@example.com', firstName: 'Flaky' } });
        // RudderStack keeps a given messageId, though its types do not name it.
        a.track({ userId: 'flaky', event: 'Survived', messageId: 'flaky-track' } as Parameters<
          RudderAnalytics['track']
        >[0]);
      });
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        const identify = (await t.services.status()).delivered;
        if (identify > 0 && (await stored()).length > 0) {
          const track = await t.services.event(t.v4.source.id, 'flaky-track');
          if (track?.lastError) break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      const made = await stored();
      expect(made).toHaveLength(1);
      expect(made[0]!.values.firstName).toBe('Flaky');
      // The daily-limit answer holds the track back for a later try: pending, not dropped.
      const track = await t.services.event(t.v4.source.id, 'flaky-track');
      expect(track).toMatchObject({ status: 'pending' });
      expect(track!.lastError).toMatch(/122/);
      expect(Date.parse(track!.nextAttemptAt!)).toBeGreaterThan(Date.now() + 20_000);
      expect(await t.services.failures()).toEqual([]);
    }, 30_000);
  });
}
