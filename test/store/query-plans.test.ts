import { CompiledQuery, type KyselyPlugin, type RootOperationNode } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as links from '../../src/connector/store/link-store.js';
import { connectorMigrations } from '../../src/connector/store/migrations.js';
import { selectSyncLog } from '../../src/connector/store/sync-log.js';
import { selectReplayBounds } from '../../src/crm/store/change-event-store.js';
import { crmMigrations } from '../../src/crm/store/migrations/index.js';
import { marketingMigrations } from '../../src/marketing/store/migrations/index.js';
import * as prospects from '../../src/marketing/store/prospect-store.js';
import type { Database, StoreDb } from '../../src/store/database.js';
import { migrateArea } from '../../src/store/migrations.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

/**
 * Lookups that run once per record, or per 100 records, on tables that grow with every synced
 * record must search an index. SQLite plans without statistics (no ANALYZE on an embedded
 * store), and `unit_id = ? and (a in (…) or b in (…))` is then planned as a scan of the whole
 * unit: a backfill's link saves took seconds each at 100,000 links and held the store's write
 * lock past other processes' busy timeout. These tests ask SQLite how it runs each query.
 */
describe('SQLite query plans of per-record lookups', () => {
  let database: TestDatabase;

  beforeEach(async () => {
    database = await createTestDatabase('sqlite');
    await migrateArea(database, 'crm', crmMigrations);
    await migrateArea(database, 'marketing', marketingMigrations);
    await migrateArea(database, 'connector', connectorMigrations);
  });

  afterEach(async () => {
    await database.destroy();
  });

  /** The statements `work` runs, each with SQLite's plan for it. */
  async function plansOf(work: (db: StoreDb, seen: Database) => Promise<unknown>) {
    const compiled: CompiledQuery[] = [];
    const plugin: KyselyPlugin = {
      transformQuery: ({ node, queryId }) => {
        compiled.push(database.db.getExecutor().compileQuery(node as RootOperationNode, queryId));
        return node;
      },
      transformResult: ({ result }) => Promise.resolve(result),
    };
    const capture = database.db.withPlugin(plugin) as StoreDb;
    await work(capture, { ...database, db: capture });
    const plans: Array<{ sql: string; plan: string }> = [];
    for (const query of compiled) {
      if (!/^\s*(select|update|delete|with)/i.test(query.sql)) continue;
      const r = await database.db.executeQuery<{ detail: string }>(
        CompiledQuery.raw(`explain query plan ${query.sql}`, [...query.parameters]),
      );
      plans.push({ sql: query.sql.replace(/\s+/g, ' '), plan: r.rows.map((row) => row.detail).join(' | ') });
    }
    return plans;
  }

  /** A plan reads a table whole, or a unit's whole share of it (an index searched on unit_id alone). */
  function scans(plan: string): boolean {
    return (
      /\bSCAN (connector_link|connector_sync_log|marketing_prospect|crm_change_event)\b/.test(plan) ||
      /USING (COVERING )?INDEX \w+ \(unit_id=\?\)/.test(plan)
    );
  }

  it('saving links searches the link indexes instead of scanning the unit’s links', async () => {
    const batch = Array.from({ length: 3 }, (_, i) => ({
      unitId: 'u1',
      crmObject: 'Lead' as const,
      crmId: `00Q00000000000${i}AAA`,
      prospectId: i + 1,
      lastSynced: { email: `p${i}@example.com` },
    }));
    const plans = await plansOf((_db, seen) => links.saveLinks(seen, batch, '2026-12-06T00:00:00.000Z'));
    const deletes = plans.filter((p) => p.sql.startsWith('delete from connector_link'));
    expect(deletes.length).toBeGreaterThan(0);
    for (const p of deletes) expect(scans(p.plan), `${p.sql}\n→ ${p.plan}`).toBe(false);
  });

  it('finding prospects by CRM id (v4 fid reads, import upserts) searches each id column’s index', async () => {
    const plans = await plansOf(async (db) => {
      await prospects.selectByCrmId(db, 'u1', '00Q000000000001AAA');
      await prospects.selectByCrmIds(db, 'u1', ['00Q000000000001AAA', '003000000000001AAA']);
    });
    expect(plans).toHaveLength(2);
    for (const p of plans) expect(scans(p.plan), `${p.sql}\n→ ${p.plan}`).toBe(false);
  });

  it('a record’s sync log and a pass’s links are read by index', async () => {
    const plans = await plansOf(async (db, seen) => {
      await selectSyncLog(seen, 'u1', { crmIds: ['00Q000000000001AAA'], prospectId: 7 });
      await links.selectLinksByCrmIds(db, 'u1', ['00Q000000000001AAA']);
      await links.selectLinksByProspectIds(db, 'u1', [7, 8]);
    });
    expect(plans).toHaveLength(3);
    for (const p of plans) expect(scans(p.plan), `${p.sql}\n→ ${p.plan}`).toBe(false);
  });

  it('the replay bounds are read off the ends of the change-event index', async () => {
    const [p] = await plansOf((db) => selectReplayBounds(db));
    // min() and max() in one select scan the table (or a whole index); each alone is one search.
    expect(p!.plan).not.toMatch(/SCAN crm_change_event/);
    expect(p!.plan.match(/SEARCH crm_change_event/g)).toHaveLength(2);
  });
});
