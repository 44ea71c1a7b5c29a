import {
  openConnector,
  type Connector,
  type ConnectorConfig,
} from '../../src/connector/connector-services.js';
import { TEST_CREDENTIALS } from './crm-server.js';
import type { TestMarketing } from './marketing-server.js';

/** A connector between a test CRM and one of its marketing engine's units, logged in as the test admin. */
export function openTestConnector(
  m: TestMarketing,
  unitId = m.v3Unit.id,
  mappings?: ConnectorConfig['mappings'],
  rules?: ConnectorConfig['rules'],
): Promise<Connector> {
  const login = { flow: 'password' as const, loginUrl: m.crm.url, ...TEST_CREDENTIALS };
  return openConnector({
    database: m.crm.database,
    config: { crm: login, marketing: { baseUrl: m.url, businessUnitId: unitId, login }, mappings, rules },
  });
}
