import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openIngest, type IngestServices } from '../../src/ingest/ingest-services.js';
import { untilDelivered } from '../../src/testing/stack.js';
import { TEST_CREDENTIALS } from '../support/crm-server.js';
import { DIALECTS } from '../support/databases.js';
import { startTestIngest, type TestIngest } from '../support/ingest-server.js';

for (const dialect of DIALECTS) {
  describe(`one ingest process delivers at a time (${dialect})`, () => {
    let t: TestIngest;
    let other: IngestServices | undefined;
    // The first process's clock: moved on by the test to where its lease needs renewing.
    let ahead = 0;

    beforeAll(async () => {
      t = await startTestIngest({ dialect, now: () => new Date(Date.now() + ahead) });
    });

    afterAll(async () => {
      await other?.close();
      await t.close();
    });

    const leaseExpiry = async () =>
      (
        await sql<{
          expires_at: string;
        }>`select expires_at from ingest_lease where name = 'ingest-delivery'`.execute(t.services.database.db)
      ).rows[0]?.expires_at;

    let n = 0;
    const identify = async () => {
      n += 1;
      const r = await t.post(
        '/v1/identify',
        { userId: `lease-${n}`, traits: { email: `lease${n}@example.com` }, messageId: `lease-${n}` },
        t.v3.writeKey,
      );
      expect(r.status).toBe(200);
      return `lease-${n}`;
    };

    it('renews its lease once half of it has run, not on every pass', async () => {
      await identify();
      await t.settled();
      const first = await leaseExpiry();
      expect(first).toBeDefined();
      // More passes within the lease's first half leave it as it was.
      await identify();
      await identify();
      await t.settled();
      expect(await leaseExpiry()).toBe(first);
      // Past the half, the next pass renews it.
      ahead = 6_000;
      await identify();
      await t.settled();
      expect(Date.parse((await leaseExpiry())!)).toBeGreaterThan(Date.parse(first!) + 5_000);
    });

    it('when the delivering process stops, a second one takes over its events', async () => {
      other = await openIngest({
        database: t.services.database,
        now: () => new Date(Date.now() + ahead),
        marketing: {
          baseUrl: t.m.url,
          businessUnitId: t.m.v3Unit.id,
          login: { flow: 'password', loginUrl: t.m.crm.url, ...TEST_CREDENTIALS },
        },
      });
      await identify();
      await t.settled();
      // The first process stops delivering (it releases its lease); events still arrive.
      await t.services.delivery.close();
      const messageId = await identify();
      expect((await t.services.event(t.v3.source.id, messageId))?.status).toBe('pending');
      await untilDelivered(other, 20_000);
      expect((await other.event(t.v3.source.id, messageId))?.status).toBe('delivered');
    });
  });
}
