import type jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BackfillProgress } from '../../src/connector/backfill.js';
import type { Connector } from '../../src/connector/connector-services.js';
import { deleteLink } from '../../src/connector/store/link-store.js';
import { openTestConnector } from '../support/connector.js';
import { DIALECTS } from '../support/databases.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';

type Json = Record<string, unknown>;

const LEADS = 2_500;
const CONTACTS = 200;

for (const dialect of DIALECTS) {
  describe(`handoff sync backfill (${dialect})`, () => {
    let m: TestMarketing;
    let conn: jsforce.Connection;
    let connector: Connector;
    let existingProspectId: number;
    let assignedProspectId: number;

    beforeAll(async () => {
      m = await startTestMarketing({ dialect });
      conn = await m.crm.connect();
      // What the CRM held before the connector: Leads (some without email), Contacts.
      for (let i = 0; i < LEADS; i += 200) {
        await conn.sobject('Lead').create(
          Array.from({ length: Math.min(200, LEADS - i) }, (_, j) => ({
            FirstName: `First${i + j}`,
            LastName: `Back ${i + j}`,
            Company: 'Backfill Co',
            Phone: `555-${i + j}`,
            Email: (i + j) % 100 === 99 ? null : `back${i + j}@example.com`,
          })),
          { allOrNone: true },
        );
      }
      await conn.sobject('Contact').create(
        Array.from({ length: CONTACTS }, (_, i) => ({
          LastName: `Contact ${i}`,
          Email: `contact${i}@example.com`,
          Title: 'Buyer',
        })),
        { allOrNone: true },
      );
      // And what marketing held: a prospect with a Lead's email, and an assigned one of its own.
      const existing = await m.call('/api/v5/objects/prospects?fields=id', {
        method: 'POST',
        body: JSON.stringify({ email: 'back7@example.com', jobTitle: 'Known' }),
      });
      existingProspectId = (existing.body as Json).id as number;
      const users = (await m.call('/api/v5/objects/users?fields=id,salesforceId')).body as { values: Json[] };
      const admin = users.values.find((u) => u.salesforceId === m.crm.adminUserId)!;
      const assigned = await m.call('/api/v5/objects/prospects?fields=id', {
        method: 'POST',
        body: JSON.stringify({ email: 'assigned@example.com', lastName: 'Assigned', assignedToId: admin.id }),
      });
      assignedProspectId = (assigned.body as Json).id as number;
      connector = await openTestConnector(m);
    });

    afterAll(() => m.close());

    it('stops part way and goes on where it stopped, then links every record once', async () => {
      const seen: BackfillProgress[] = [];
      // Interrupted after its first step of 1,000 Leads.
      await expect(
        connector.backfill({
          chunkSize: 1_000,
          onProgress(p) {
            seen.push(p);
            if (p.done >= 1_000) throw new Error('interrupted');
          },
        }),
      ).rejects.toThrow('interrupted');
      expect(seen.map((p) => [p.object, p.done, p.total])).toEqual([
        ['Lead', 0, LEADS],
        ['Lead', 1_000, LEADS],
      ]);
      // The second step's import ran beside the first step's links: its prospects are made,
      // and not linked. The next run imports those rows again, to no change.
      await vi.waitFor(
        async () =>
          expect(await m.services.prospects.byEmail(m.v3Unit.id, 'back1998@example.com')).toHaveLength(1),
        { timeout: 30_000, interval: 100 },
      );
      const resumed: BackfillProgress[] = [];
      const result = await connector.backfill({ chunkSize: 1_000, onProgress: (p) => resumed.push(p) });
      // It found them in one read, not by a lookup a row (two calls each: 2,000 and more).
      expect(result.marketingCalls).toBeLessThan(200);
      // It went on from 1,000, not from the start.
      expect(resumed[0]).toMatchObject({ object: 'Lead', done: 1_000, total: LEADS });
      expect(resumed.filter((p) => p.object === 'Lead').at(-1)).toMatchObject({ done: LEADS });
      expect(resumed.filter((p) => p.object === 'Contact').at(-1)).toMatchObject({
        done: CONTACTS,
        total: CONTACTS,
      });
      expect(result.errors).toEqual([]);
      // The queued work: the Lead matched by email, and the assigned prospect's new Lead.
      for (let i = 0; i < 10; i++) if (((await connector.runOnce()).waiting ?? 0) === 0) break;

      const withEmail = LEADS - LEADS / 100;
      const prospects = await m.services.prospects.byEmail(m.v3Unit.id, 'back0@example.com');
      expect(prospects).toHaveLength(1);
      const [lead0] = (
        await conn.query<Json>("SELECT Id, pi__score__c FROM Lead WHERE Email = 'back0@example.com'")
      ).records;
      expect(prospects[0]!.values).toMatchObject({
        firstName: 'First0',
        lastName: 'Back 0',
        phone: '555-0',
        salesforceId: lead0!.Id,
        salesforceLeadId: lead0!.Id,
      });
      // Every Lead with an email and every Contact has exactly one prospect carrying its id.
      const leads = (
        await conn.query<{ Id: string; Email: string | null }>(
          "SELECT Id, Email FROM Lead WHERE Company = 'Backfill Co'",
          {
            autoFetch: true,
            maxFetch: 10_000,
          },
        )
      ).records;
      let linked = 0;
      for (const lead of leads) {
        const found = await m.services.prospects.byCrmId(m.v3Unit.id, lead.Id);
        if (lead.Email === null) {
          expect(found).toHaveLength(0);
          continue;
        }
        expect(found, lead.Email).toHaveLength(1);
        linked += 1;
      }
      expect(linked).toBe(withEmail);
      const contact = await m.services.prospects.byEmail(m.v3Unit.id, 'contact5@example.com');
      expect(contact).toHaveLength(1);
      expect(contact[0]!.values.jobTitle).toBe('Buyer');
      // The prospect that was there is the one linked, not a second one.
      const known = await m.services.prospects.byEmail(m.v3Unit.id, 'back7@example.com');
      expect(known.map((p) => p.id)).toEqual([existingProspectId]);
      expect(known[0]!.values.salesforceId).toMatch(/^00Q/);
      // The assigned prospect became a Lead.
      const handedOff = await conn.query<Json>(
        "SELECT pi__pardot_id__c FROM Lead WHERE Email = 'assigned@example.com'",
      );
      expect(handedOff.records).toEqual([
        expect.objectContaining({ pi__pardot_id__c: String(assignedProspectId) }),
      ]);
    }, 180_000);

    it('does nothing more when run again, even from the start', async () => {
      const again = await connector.backfill();
      expect([again.linked, again.created]).toEqual([0, 0]);
      const restarted = await connector.backfill({ restart: true });
      expect([restarted.linked, restarted.created, restarted.queued]).toEqual([0, 0, 0]);
      expect(await m.services.prospects.byEmail(m.v3Unit.id, 'back3@example.com')).toHaveLength(1);
      const pass = await connector.runOnce();
      expect([pass.writesToCrm, pass.writesToMarketing, pass.created, pass.waiting]).toEqual([0, 0, 0, 0]);
    }, 60_000);

    it('links again what an import made before a stop cut off its links, without a second prospect', async () => {
      // As if a backfill stopped between a step's import and its links: the links are gone.
      const leads = (
        await conn.query<{ Id: string }>("SELECT Id FROM Lead WHERE Email LIKE 'back1%' ORDER BY Id LIMIT 5")
      ).records;
      for (const lead of leads) await deleteLink(m.crm.database.db, m.v3Unit.id, lead.Id);
      const again = await connector.backfill({ restart: true });
      expect([again.linked, again.created, again.errors]).toEqual([5, 0, []]);
      for (const lead of leads)
        expect(await m.services.prospects.byCrmId(m.v3Unit.id, lead.Id)).toHaveLength(1);
      expect((await connector.backfill({ restart: true })).linked).toBe(0);
    }, 60_000);
  });
}
