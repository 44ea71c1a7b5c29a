import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIngestApp } from '../../src/ingest/app.js';
import { openIngest } from '../../src/ingest/ingest-services.js';
import { TEST_CREDENTIALS } from '../support/crm-server.js';
import { DIALECTS } from '../support/databases.js';
import { startTestIngest, type TestIngest } from '../support/ingest-server.js';

type Json = Record<string, unknown>;

for (const dialect of DIALECTS) {
  describe(`the Segment Tracking API (${dialect})`, () => {
    let t: TestIngest;

    beforeAll(async () => {
      t = await startTestIngest({ dialect });
    });

    afterAll(async () => {
      await t.close();
    });

    it('accepts every call type with Basic auth or a body write key, and stores each once', async () => {
      const key = t.v3.writeKey;
      const calls: Array<[string, Json]> = [
        ['/v1/identify', { userId: 'u-api-1', traits: { email: 'api1@example.com' }, messageId: 'api-m1' }],
        [
          '/v1/track',
          { userId: 'u-api-1', event: 'Signed Up', properties: { plan: 'pro' }, messageId: 'api-m2' },
        ],
        [
          '/v1/page',
          {
            anonymousId: 'a-api-1',
            name: 'Home',
            properties: { url: 'https://x.test/' },
            messageId: 'api-m3',
          },
        ],
        ['/v1/screen', { userId: 'u-api-1', name: 'Settings', messageId: 'api-m4' }],
        ['/v1/group', { userId: 'u-api-1', groupId: 'g1', traits: { name: 'Acme' }, messageId: 'api-m5' }],
        ['/v1/alias', { userId: 'u-api-1', previousId: 'a-api-1', messageId: 'api-m6' }],
      ];
      for (const [path, body] of calls) {
        const r = await t.post(path, body, key);
        expect(r.status, path).toBe(200);
        expect(r.body).toEqual({ success: true });
      }
      const inBody = await t.post(
        '/v1/track',
        { writeKey: key, userId: 'u-api-1', event: 'Body Key', messageId: 'api-m7' },
        null,
      );
      expect(inBody.body).toEqual({ success: true });
      for (let i = 1; i <= 7; i++) {
        const stored = await t.services.event(t.v3.source.id, `api-m${i}`);
        expect(stored?.message.messageId).toBe(`api-m${i}`);
      }
      expect((await t.services.event(t.v3.source.id, 'api-m2'))?.message).toMatchObject({
        type: 'track',
        event: 'Signed Up',
        properties: { plan: 'pro' },
      });
    });

    it('refuses a bad write key with 401 and bad payloads with 400 saying what is wrong', async () => {
      const ok = { userId: 'u1', event: 'E' };
      expect((await t.post('/v1/track', ok, null)).status).toBe(401);
      expect((await t.post('/v1/track', ok, 'not-a-key')).status).toBe(401);
      const cases: Array<[string, unknown, RegExp]> = [
        ['/v1/track', '{"userId": "u1", "event": ', /JSON/],
        ['/v1/track', { event: 'E' }, /userId or an anonymousId/],
        ['/v1/track', { userId: 'u1' }, /event/],
        ['/v1/track', { userId: 'u1', event: 'E', properties: 'nope' }, /properties/],
        ['/v1/alias', { userId: 'u1' }, /previousId/],
        ['/v1/identify', { userId: 'u1', traits: { bio: 'x'.repeat(33 * 1024) } }, /32 KB/],
        [
          '/v1/batch',
          {
            batch: [
              { type: 'track', userId: 'u', event: 'E' },
              { type: 'fly', userId: 'u' },
            ],
          },
          /batch\.1\.type/,
        ],
        [
          '/v1/batch',
          { batch: Array.from({ length: 2501 }, () => ({ type: 'track', userId: 'u', event: 'E' })) },
          /2500/,
        ],
        ['/v1/batch', { batch: 'no' }, /batch/],
      ];
      for (const [path, body, message] of cases) {
        const r = await t.post(path, body, t.v3.writeKey);
        expect(r.status, JSON.stringify(body).slice(0, 60)).toBe(400);
        expect((r.body as Json).success).toBe(false);
        expect(String((r.body as Json).message)).toMatch(message);
      }
      // Over 500 KB in all, though each event is small.
      const big = {
        batch: Array.from({ length: 40 }, () => ({
          type: 'track',
          userId: 'u',
          event: 'E',
          properties: { pad: 'x'.repeat(14_000) },
        })),
      };
      const tooLarge = await t.post('/v1/batch', big, t.v3.writeKey);
      expect(tooLarge.status).toBe(400);
      expect(String((tooLarge.body as Json).message)).toMatch(/500 KB/);
      // Nothing of a refused batch was kept.
      const status = await t.services.status();
      expect(Object.values(status).reduce((a, b) => a + b, 0)).toBeLessThan(20);
    });

    it('de-duplicates by messageId per source, and corrects timestamps with sentAt', async () => {
      const sentAt = new Date(Date.now() + 3_600_000).toISOString(); // the sender's clock runs an hour fast
      const timestamp = new Date(Date.parse(sentAt) - 60_000).toISOString();
      const body = {
        batch: [{ type: 'track', userId: 'dup', event: 'Once', messageId: 'dup-1', timestamp }],
        sentAt,
      };
      await t.post('/v1/batch', body, t.v3.writeKey);
      await t.post('/v1/batch', { ...body, batch: [{ ...body.batch[0], event: 'Twice' }] }, t.v3.writeKey);
      const stored = await t.services.event(t.v3.source.id, 'dup-1');
      expect(stored?.message.event).toBe('Once');
      // A minute before it was received, whatever the sender's clock said.
      const lag = Date.parse(stored!.message.receivedAt) - Date.parse(stored!.message.timestamp);
      expect(lag).toBeGreaterThanOrEqual(59_000);
      expect(lag).toBeLessThanOrEqual(61_000);
      // Another source may use the same message id.
      await t.post('/v1/track', { userId: 'dup', event: 'Other source', messageId: 'dup-1' }, t.v4.writeKey);
      expect((await t.services.event(t.v4.source.id, 'dup-1'))?.message.event).toBe('Other source');
    });

    it('de-duplicates across two ingest processes sharing the store, and delivers each event once', async () => {
      const second = await openIngest({
        database: t.m.crm.database.reopen(),
        marketing: {
          baseUrl: t.m.url,
          businessUnitId: t.m.v3Unit.id,
          login: { flow: 'password', loginUrl: t.m.crm.url, ...TEST_CREDENTIALS },
        },
      });
      const app = buildIngestApp(second);
      await app.listen({ host: '127.0.0.1', port: 0 });
      try {
        const address = app.server.address();
        const secondUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
        const body = JSON.stringify({
          batch: [
            {
              type: 'identify',
              userId: 'twice',
              messageId: 'two-1',
              traits: { email: 'two-procs@example.com' },
            },
            { type: 'track', userId: 'twice', messageId: 'two-2', event: 'Counted Once' },
          ],
        });
        const headers = {
          'content-type': 'application/json',
          authorization: `Basic ${Buffer.from(`${t.v3.writeKey}:`).toString('base64')}`,
        };
        const answers = await Promise.all(
          [t.url, secondUrl, t.url, secondUrl].map((url) =>
            fetch(`${url}/v1/batch`, { method: 'POST', headers, body }),
          ),
        );
        expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
        await t.settled();
        const prospects = await t.m.services.prospects.byEmail(t.m.v3Unit.id, 'two-procs@example.com');
        expect(prospects).toHaveLength(1);
        const activities = await t.m.call(
          `/api/v5/objects/external-activities?fields=type&prospectId=${prospects[0]!.id}`,
        );
        expect((activities.body as { values: Json[] }).values).toEqual([{ type: 'Counted Once' }]);
      } finally {
        await app.close();
        await second.close();
        await second.database.close();
      }
    });

    it('takes gzipped bodies and text/plain beacons', async () => {
      const zipped = await fetch(`${t.url}/v1/batch`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
          authorization: `Basic ${Buffer.from(`${t.v3.writeKey}:`).toString('base64')}`,
        },
        body: gzipSync(
          JSON.stringify({ batch: [{ type: 'track', userId: 'z', event: 'Zipped', messageId: 'gz-1' }] }),
        ),
      });
      expect(zipped.status).toBe(200);
      const beacon = await fetch(`${t.url}/v1/track`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify({
          writeKey: t.v3.writeKey,
          userId: 'z',
          event: 'Beacon',
          messageId: 'beacon-1',
        }),
      });
      expect(beacon.status).toBe(200);
      expect((await t.services.event(t.v3.source.id, 'gz-1'))?.message.event).toBe('Zipped');
      expect((await t.services.event(t.v3.source.id, 'beacon-1'))?.message.event).toBe('Beacon');
    });
  });
}

describe('the Tracking API rate limit', () => {
  let t: TestIngest;

  beforeAll(async () => {
    t = await startTestIngest({ rateLimit: 50 });
  });

  afterAll(async () => {
    await t.close();
  });

  it('answers 429 with Retry-After over the source’s rate, and keeps nothing of the refused call', async () => {
    const batch = (n: number, tag: string) => ({
      batch: Array.from({ length: n }, (_, i) => ({
        type: 'track',
        userId: 'r',
        event: 'E',
        messageId: `${tag}-${i}`,
      })),
    });
    expect((await t.post('/v1/batch', batch(40, 'first'), t.v3.writeKey)).status).toBe(200);
    const refused = await t.post('/v1/batch', batch(40, 'second'), t.v3.writeKey);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await t.services.event(t.v3.source.id, 'second-0')).toBeUndefined();
    // Another source has its own budget.
    expect((await t.post('/v1/batch', batch(40, 'other'), t.v4.writeKey)).status).toBe(200);
  });
});
