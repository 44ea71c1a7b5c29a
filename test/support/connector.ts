import {
  openConnector,
  type Connector,
  type ConnectorConfig,
} from '../../src/connector/connector-services.js';
import type { Database } from '../../src/store/database.js';
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
