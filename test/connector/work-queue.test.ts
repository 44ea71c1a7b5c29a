import type jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connector/connector-services.js';
import { emptyPassResult } from '../../src/connector/sync-types.js';
import { connectorMigrations } from '../../src/connector/store/migrations.js';
import * as links from '../../src/connector/store/link-store.js';
import * as queue from '../../src/connector/store/work-queue.js';
import type { Database } from '../../src/store/database.js';
import { migrateArea } from '../../src/store/migrations.js';
import { openTestConnector } from '../support/connector.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../support/databases.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';

const emptyResult = emptyPassResult;

for (const dialect of DIALECTS) {
  describe(`the connector's work queue (${dialect})`, () => {
    let database: TestDatabase;
    let other: Database;
    const unit = 'unit-1';
    const T0 = '2026-11-23T10:00:00.000Z';
    const later = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();

    beforeAll(async () => {
      database = await createTestDatabase(dialect);
      await migrateArea(database, 'connector', connectorMigrations);
      // A second handle: on PostgreSQL its own pool of sessions, as another process has.
      other = database.reopen();
    });

    afterAll(async () => {
      await other.close();
      await database.destroy();
    });

    it('coalesces changes to one item a record, keeps the newest copy and the more urgent priority', async () => {
      await queue.enqueue(
        database,
        unit,
        [{ key: 'Lead:a', priority: queue.PRIORITY.change, payload: { v: 1 } }],
        T0,
      );
      await queue.enqueue(
        database,
        unit,
        [
          { key: 'Lead:a', priority: queue.PRIORITY.handoff, payload: { v: 2 } },
          { key: 'prospect:1', priority: queue.PRIORITY.change, payload: null },
        ],
        T0,
      );
      // A lower priority later does not demote it.
      await queue.enqueue(
        database,
        unit,
        [{ key: 'Lead:a', priority: queue.PRIORITY.change, payload: { v: 3 } }],
        T0,
      );
      const items = await queue.lease(database, unit, 'w1', 10, T0, later(60_000));
      expect(items.map((i) => [i.key, i.priority, i.payload])).toEqual([
        ['Lead:a', queue.PRIORITY.handoff, { v: 3 }],
        ['prospect:1', queue.PRIORITY.change, null],
      ]);
      await queue.complete(database, unit, 'w1', items);
      expect(await queue.countWaiting(database, unit)).toBe(0);
    });

    it('leases each item to one worker; a dead worker’s items come back when the lease runs out', async () => {
      const keys = Array.from({ length: 30 }, (_, i) => ({
        key: `Contact:${i}`,
        priority: 2,
        payload: null,
      }));
      await queue.enqueue(database, unit, keys, T0);
      const [a, b] = await Promise.all([
        queue.lease(database, unit, 'w1', 20, T0, later(60_000)),
        queue.lease(other, unit, 'w2', 20, T0, later(300_000)),
      ]);
      const taken = [...a, ...b].map((i) => i.key);
      expect(taken).toHaveLength(30);
      expect(new Set(taken).size).toBe(30);
      // w1 dies; its items are not due while its lease holds, and are once it has run out.
      expect(await queue.lease(other, unit, 'w2', 50, later(1_000), later(61_000))).toEqual([]);
      const back = await queue.lease(other, unit, 'w2', 50, later(60_001), later(120_000));
      expect(back.map((i) => i.key).sort()).toEqual(a.map((i) => i.key).sort());
      await queue.complete(other, unit, 'w2', [...back, ...b]);
      expect(await queue.countWaiting(database, unit)).toBe(0);
    });

    it('keeps an item that changed while it was worked, and retries a failed one after its backoff', async () => {
      await queue.enqueue(database, unit, [{ key: 'Lead:x', priority: 2, payload: { v: 1 } }], T0);
      await queue.enqueue(database, unit, [{ key: 'Lead:y', priority: 2, payload: { v: 1 } }], T0);
      const items = await queue.lease(database, unit, 'w1', 10, T0, later(60_000));
      // A newer change to x arrives while the worker holds the old copy.
      await queue.enqueue(database, unit, [{ key: 'Lead:x', priority: 2, payload: { v: 2 } }], later(10));
      const [x, y] = [items.find((i) => i.key === 'Lead:x')!, items.find((i) => i.key === 'Lead:y')!];
      await queue.complete(database, unit, 'w1', [x]);
      await queue.retryLater(database, unit, y, 'UNABLE_TO_LOCK_ROW', later(2_000));
      const next = await queue.lease(database, unit, 'w1', 10, later(20), later(60_000));
      expect(next.map((i) => [i.key, i.payload])).toEqual([['Lead:x', { v: 2 }]]);
      await queue.complete(database, unit, 'w1', next);
      const retried = await queue.lease(database, unit, 'w1', 10, later(2_000), later(60_000));
      expect(retried.map((i) => [i.key, i.attempts])).toEqual([['Lead:y', 1]]);
      expect((await queue.queueDepth(database, unit)).retrying).toBe(1);
      await queue.complete(database, unit, 'w1', retried);
    });

    it('never shows a pair as unlinked while its link is saved, to a reader in another process', async () => {
      // A second process that found no link for a linked Lead would make it a second prospect.
      const link: links.Link = {
        unitId: unit,
        crmObject: 'Lead',
        crmId: '00Q000000000001AAA',
        prospectId: 7,
        lastSynced: {},
      };
      await links.saveLink(database.db, link, T0);
      let saving = true;
      const writer = (async () => {
        for (let i = 0; i < 200; i++)
          await links.saveLink(database.db, { ...link, lastSynced: { score: String(i) } }, later(i));
        saving = false;
      })();
      let reads = 0;
      let missing = 0;
      while (saving) {
        const [byCrm, byProspect] = await Promise.all([
          links.selectLinkByCrmId(other.db, unit, link.crmId),
          links.selectLinkByProspect(other.db, unit, link.prospectId),
        ]);
        reads += 1;
        if (!byCrm || !byProspect) missing += 1;
      }
      await writer;
      expect(reads).toBeGreaterThan(10);
      expect(missing).toBe(0);
      // Relinked (a conversion moves the prospect to its Contact): the pair is replaced whole.
      await links.saveLink(
        database.db,
        { ...link, crmObject: 'Contact', crmId: '003000000000001AAA', lastSynced: {} },
        later(300),
      );
      expect(await links.selectLinkByCrmId(other.db, unit, link.crmId)).toBeUndefined();
      expect((await links.selectLinkByProspect(other.db, unit, link.prospectId))?.crmId).toBe(
        '003000000000001AAA',
      );
      expect((await links.selectLinkByCrmId(other.db, unit, '003000000000001AAA'))?.lastSynced).toEqual({});
    });

    it('backs off exponentially with jitter, capped at five minutes', () => {
      expect(queue.backoffMs(0, 1_000, () => 1)).toBe(1_000);
      expect(queue.backoffMs(3, 1_000, () => 1)).toBe(8_000);
      expect(queue.backoffMs(3, 1_000, () => 0)).toBe(4_000);
      expect(queue.backoffMs(30, 1_000, () => 1)).toBe(300_000);
    });
  });

  describe(`two connectors on one database (${dialect})`, () => {
    let m: TestMarketing;
    let conn: jsforce.Connection;
    let a: Connector;
    let b: Connector;
    let second: Database;

    beforeAll(async () => {
      m = await startTestMarketing({ dialect });
      conn = await m.crm.connect();
      second = m.crm.database.reopen();
      a = await openTestConnector(m, m.v3Unit.id);
      b = await openTestConnector(m, m.v3Unit.id, undefined, undefined, second);
      await a.runOnce();
    });

    afterAll(async () => {
      await second.close();
      await m.close();
    });

    it('queues a record changed twice as one item, worked once with the newest values', async () => {
      const [lead] = (await conn
        .sobject('Lead')
        .create([{ LastName: 'Twice', Company: 'Q Co', Email: 'twice@example.com', Phone: '1' }], {
          allOrNone: true,
        })) as Array<{ id: string }>;
      const first = emptyResult();
      await a.engine.capture(first);
      await conn.sobject('Lead').update({ Id: lead!.id, Phone: '2' });
      const second = emptyResult();
      await a.engine.capture(second);
      expect([first.queued, second.queued]).toEqual([1, 1]);
      expect(await queue.countWaiting(m.crm.database, m.v3Unit.id)).toBe(1);
      const worked = emptyResult();
      await a.engine.drain(worked);
      expect([worked.worked, worked.created]).toEqual([1, 1]);
      const [p] = await m.services.prospects.byEmail(m.v3Unit.id, 'twice@example.com');
      expect(p?.values.phone).toBe('2');
    });

    it('share the work: every item is done by one of them, none twice', async () => {
      // Two leases' worth (a worker leases 1,000 items at a time).
      const count = 2_000;
      for (let i = 0; i < count; i += 200) {
        await conn.sobject('Lead').create(
          Array.from({ length: 200 }, (_, j) => ({
            LastName: `Shared ${i + j}`,
            Company: 'Shared Co',
            Email: `shared${i + j}@example.com`,
          })),
          { allOrNone: true },
        );
      }
      const captured = emptyResult();
      await a.engine.capture(captured);
      expect(captured.queued).toBe(count);
      const [ra, rb] = [emptyResult(), emptyResult()];
      await Promise.all([a.engine.drain(ra), b.engine.drain(rb)]);
      // Each item was worked by exactly one connector, and both took a share.
      expect(ra.worked + rb.worked).toBe(count);
      expect(ra.created + rb.created).toBe(count);
      expect(ra.worked).toBeGreaterThan(0);
      expect(rb.worked).toBeGreaterThan(0);
      expect([...ra.errors, ...rb.errors]).toEqual([]);
      for (let i = 0; i < count; i += 97) {
        expect(await m.services.prospects.byEmail(m.v3Unit.id, `shared${i}@example.com`)).toHaveLength(1);
      }
      // Nothing left for either: the next passes find no work.
      const [qa, qb] = await Promise.all([a.runOnce(), b.runOnce()]);
      expect([qa.worked + qb.worked, qa.waiting, qb.waiting]).toEqual([0, 0, 0]);
    }, 120_000);
  });
}
