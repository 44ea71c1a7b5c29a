import type jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connector/connector-services.js';
import { MarketingWebhookReceiver } from '../../src/connector/marketing-webhooks.js';
import { signatureHeader } from '../../src/http/webhook-signature.js';
import { openTestConnector } from '../support/connector.js';
import { passCrmCalls } from '../support/crm-calls.js';
import { DIALECTS } from '../support/databases.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';

type Json = Record<string, unknown>;
const OPEN = 11;

for (const dialect of DIALECTS) {
  describe(`activities within the CRM's API allowance (${dialect})`, () => {
    let m: TestMarketing;
    let conn: jsforce.Connection;
    let connector: Connector;

    /** The CRM calls one pass of the connector makes. */
    const passCalls = () => passCrmCalls(conn, connector);

    beforeAll(async () => {
      m = await startTestMarketing({ dialect });
      conn = await m.crm.connect();
      connector = await openTestConnector(m);
      await connector.runOnce();
    });
    afterAll(() => m.close());

    it('turns 450 email opens into Tasks and last-activity updates with a few Composite calls', async () => {
      const count = 450;
      const leadIds: string[] = [];
      for (let i = 0; i < count; i += 150) {
        const saved = (await conn.sobject('Lead').create(
          Array.from({ length: 150 }, (_, j) => ({
            LastName: `Opener ${i + j}`,
            Company: 'Open Co',
            Email: `opener${i + j}@example.com`,
          })),
          { allOrNone: true },
        )) as Array<{ id: string }>;
        leadIds.push(...saved.map((s) => s.id));
      }
      await connector.runOnce();
      const prospects = await Promise.all(
        Array.from({ length: count }, async (_, i) => {
          const [p] = await m.services.prospects.byEmail(m.v3Unit.id, `opener${i}@example.com`);
          return p!.id;
        }),
      );
      // What a pass costs with nothing to do (its polls), to tell the opens' cost apart.
      const idle = await passCalls();
      expect(idle.result.worked).toBe(0);

      for (const prospectId of prospects)
        await m.services.activities.record(m.v3Unit, { type: OPEN, prospectId });
      const busy = await passCalls();
      // 450 Tasks and 450 last-activity updates: 900 records, 200 a Collections call — five of those to a
      // Composite call — after one Composite call of reads (three queries of 200 ids, with the
      // owners the Tasks go to). One call a Collections call would be nine or more.
      expect(busy.calls - idle.calls).toBeLessThanOrEqual(3);
      expect(busy.result.errors).toEqual([]);

      const tasks = await conn.query<Json>(
        `SELECT WhoId, OwnerId FROM Task WHERE Subject LIKE 'Email opened%' AND Handoff_Activity_Id__c LIKE '${m.v3Unit.id}:%'`,
        { autoFetch: true },
      );
      expect(new Set(tasks.records.map((t) => t.WhoId))).toEqual(new Set(leadIds));
      const leads = await conn.query<Json>(
        `SELECT Id, OwnerId, pi__last_activity__c FROM Lead WHERE Email LIKE 'opener%'`,
        { autoFetch: true },
      );
      const owners = new Map(leads.records.map((l) => [l.Id, l.OwnerId]));
      for (const task of tasks.records) expect(task.OwnerId).toBe(owners.get(String(task.WhoId)));
      // The open moved each prospect's last activity, and the Lead has it.
      for (const lead of leads.records) expect(lead.pi__last_activity__c).toBeTruthy();
      // Nothing left over: the next pass writes nothing.
      expect((await connector.runOnce()).writesToCrm).toBe(0);
    });

    it('queues what activities move for the window’s end, and a person’s change at once', async () => {
      const secret = 'window-test-secret';
      const now = new Date('2026-12-06T10:00:03.200Z');
      const told: string[] = [];
      const receiver = new MarketingWebhookReceiver({
        database: m.crm.database,
        unitId: m.v3Unit.id,
        secret,
        now: () => now,
        windowMs: 5_000,
        onQueued: (kind) => told.push(kind),
      });
      const send = (event: string, prospectId: number, fields: string[]) => {
        const body = JSON.stringify({
          event,
          businessUnitId: m.v3Unit.id,
          data: { prospectId, fields, actor: 'system' },
        });
        return receiver.receive(
          body,
          signatureHeader(secret, String(Math.floor(now.getTime() / 1000)), body),
        );
      };
      expect((await send('prospect.updated', 990_001, ['score', 'lastActivityAt'])).status).toBe(202);
      expect((await send('prospect.updated', 990_002, ['jobTitle', 'score'])).status).toBe(202);
      expect((await send('form.success', 990_003, ['lastActivityAt'])).status).toBe(202);
      expect(told).toEqual(['engagement', 'change', 'handoff']);
      const due = async (prospectId: number) =>
        (
          (await m.crm.database.db
            .selectFrom('connector_queue' as never)
            .select(['due_at' as never])
            .where('item_key' as never, '=', `prospect:${prospectId}` as never)
            .executeTakeFirstOrThrow()) as { due_at: string }
        ).due_at;
      // The window 10:00:00–10:00:05 ends at 10:00:05: every engagement change of it is due then.
      expect(new Date(await due(990_001)).toISOString()).toBe('2026-12-06T10:00:05.000Z');
      expect(new Date(await due(990_002)).toISOString()).toBe(now.toISOString());
      expect(new Date(await due(990_003)).toISOString()).toBe(now.toISOString());
      // A person's change to a prospect waiting for its window brings it forward.
      expect((await send('prospect.updated', 990_001, ['phone'])).status).toBe(202);
      expect(new Date(await due(990_001)).toISOString()).toBe(now.toISOString());
      await m.crm.database.db
        .deleteFrom('connector_queue' as never)
        .where('item_key' as never, 'like', 'prospect:99000%' as never)
        .execute();
    });
  });
}
