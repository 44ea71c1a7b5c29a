import {
  openConnector,
  type Connector,
  type ConnectorConfig,
} from '../../src/connector/connector-services.js';
import type { Database } from '../../src/store/database.js';
import { saveCursor } from '../../src/connector/store/link-store.js';
import { TEST_CREDENTIALS } from './crm-server.js';
import type { TestMarketing } from './marketing-server.js';

/** A connector between a test CRM and one of its marketing engine's units, logged in as the test admin. */
export function openTestConnector(
  m: TestMarketing,
  unitId = m.v3Unit.id,
  mappings?: ConnectorConfig['mappings'],
  rules?: ConnectorConfig['rules'],
  /** Another handle on the test database: a second connector process. */
  database: Database = m.crm.database,
  /** More connector settings (budgets, leases). */
  more: Partial<ConnectorConfig> = {},
): Promise<Connector> {
  const login = { flow: 'password' as const, loginUrl: m.crm.url, ...TEST_CREDENTIALS };
  return openConnector({
    database,
    // Retries after 20 ms, 40 ms … up to 500 ms: a test does not wait out real backoffs.
    retryBaseMs: 20,
    retryMaxMs: 500,
    config: {
      crm: login,
      marketing: { baseUrl: m.url, businessUnitId: unitId, login },
      mappings,
      rules,
      // The test engine's unit allows 100,000 calls a day: the connector may spend them all
      // (a test of the budget sets its own).
      marketingApi: { dailyLimit: 100_000, share: 1 },
      ...more,
      // Tasks at once: a test's pass should not wait out the batching window.
      activities: { batchMs: 0, ...more.activities },
    },
  });
}

/** Passes until the queue is empty and nothing new is captured: what a running connector does on its own. */
export async function settleSync(connector: Connector): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const pass = await connector.runOnce();
    if (pass.errors.length > 0) throw new Error(`the sync failed: ${JSON.stringify(pass.errors)}`);
    if ((pass.waiting ?? 0) === 0 && pass.worked === 0 && pass.queued === 0) return;
  }
  throw new Error('the sync did not settle in 20 passes');
}

/**
 * Moves a connector's capture cursors past now: what it would have captured up to now it never
 * sees — as when changes are made with change events off while it is paused past its windows,
 * or restored from a backup with their old stamps.
 */
export async function missCaptureWindow(m: TestMarketing, unitId = m.v3Unit.id): Promise<void> {
  const later = new Date(Date.now() + 60_000).toISOString();
  for (const side of ['Lead', 'Contact', 'marketing'])
    await saveCursor(m.crm.database.db, `${unitId}:${side}`, later);
}
