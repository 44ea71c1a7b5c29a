import type jsforce from 'jsforce';
import { AccountEngagementClient } from '../clients/account-engagement/ae-client.js';
import { connectCrm } from '../clients/salesforce/crm-connection.js';
import { SalesforceTokenSource } from '../clients/salesforce-oauth.js';
import type { Connector, ConnectorConfig } from '../connector/connector-services.js';
import type { IngestServices } from '../ingest/ingest-services.js';
import { JobBoard } from './jobs.js';

/** Writes the console makes show in the CRM as the console's, not the connector's. */
export const CONSOLE_CLIENT_ID = 'handoff-console';

/**
 * What the console works with: the connector (status, mappings, errors, history), its own
 * wire clients to both sides for the records an admin looks at and edits, and the ingest.
 * The clients are the console's own, so an admin's edit is a user's change the sync carries
 * over, not an echo of the sync's writes.
 */
export interface ConsoleBackend {
  /** The business unit the connector syncs. */
  unitId: string;
  connector: Connector;
  crm: jsforce.Connection;
  marketing: AccountEngagementClient;
  ingest?: IngestServices;
  /** The demo's landing page (a form and the tracking script), when there is one. */
  landingPageUrl?: string;
  jobs: JobBoard;
}

export async function openConsoleBackend(options: {
  connector: Connector;
  config: ConnectorConfig;
  ingest?: IngestServices;
  landingPageUrl?: string;
}): Promise<ConsoleBackend> {
  const { config } = options;
  return {
    unitId: config.marketing.businessUnitId,
    connector: options.connector,
    crm: await connectCrm(config.crm, { client: CONSOLE_CLIENT_ID }),
    marketing: new AccountEngagementClient({
      baseUrl: config.marketing.baseUrl,
      businessUnitId: config.marketing.businessUnitId,
      tokens: new SalesforceTokenSource(config.marketing.login),
      actor: 'user',
    }),
    ingest: options.ingest,
    landingPageUrl: options.landingPageUrl,
    jobs: new JobBoard(),
  };
}
