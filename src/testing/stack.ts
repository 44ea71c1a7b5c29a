import type { FastifyInstance } from 'fastify';
import { buildCrmApp } from '../crm/app.js';
import type { CrmConfigInput } from '../crm/crm-config.js';
import { openCrm, type CrmServices } from '../crm/crm-services.js';
import { ensureOrg } from '../crm/org-setup.js';
import { openConnector, type Connector } from '../connector/connector-services.js';
import { buildIngestApp } from '../ingest/app.js';
import { openIngest, type IngestServices } from '../ingest/ingest-services.js';
import { newWriteKey } from '../ingest/source-service.js';
import { buildMarketingApp } from '../marketing/app.js';
import type { BusinessUnit } from '../marketing/domain/business-unit.js';
import { openMarketing, type MarketingServices } from '../marketing/marketing-services.js';
import { openDatabase, type Database } from '../store/database.js';
import type { TestClock } from './test-clock.js';

/** What the CRM's configuration takes (handoff.config.json's `crm`), every field optional. */
export type CrmSettings = CrmConfigInput;

/** Where a kit's data lives: SQLite in memory (default), a SQLite file, or PostgreSQL. */
export type KitDatabase = { sqlite: string } | { postgres: string; schema?: string };

/** The logins a test's clients use: Salesforce's connected app and an admin user. */
export interface KitCredentials {
  loginUrl: string;
  instanceUrl: string;
  clientId: string;
  clientSecret: string;
  username: string;
  password: string;
}

export interface StackOptions {
  database?: KitDatabase;
  crm?: CrmSettings;
  marketing?: { allowMultiplePerEmail?: boolean; dailyApiLimit?: number };
  clock: TestClock;
  credentials: Omit<KitCredentials, 'loginUrl' | 'instanceUrl'>;
}

/** Which servers a stack runs: the CRM always (its OAuth server is everyone's login). */
export type StackParts = { marketing: boolean; ingest: boolean; connector: boolean };

/** A running stack: the servers and their services. */
export interface Stack {
  database: Database;
  crm: { services: CrmServices; app: FastifyInstance; url: string; adminUserId: string };
  marketing?: { services: MarketingServices; app: FastifyInstance; url: string; unit: BusinessUnit };
  ingest?: { services: IngestServices; app: FastifyInstance; url: string; writeKey: string };
  connector?: Connector;
  close(): Promise<void>;
}

function portOf(app: FastifyInstance): number {
  const address = app.server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

function open(database: KitDatabase | undefined): Database {
  if (!database) return openDatabase({ kind: 'sqlite', filename: ':memory:' });
  return 'sqlite' in database
    ? openDatabase({ kind: 'sqlite', filename: database.sqlite })
    : openDatabase({ kind: 'postgres', url: database.postgres, schema: database.schema });
}

/** Opens a stack on free ports of 127.0.0.1, everything on one store as `handoff demo` has it. */
export async function openStack(parts: StackParts, options: StackOptions): Promise<Stack> {
  const now = () => options.clock.now();
  const database = open(options.database);
  const closers: Array<() => Promise<unknown>> = [() => database.close()];
  const close = async () => {
    for (const step of closers.splice(0).reverse()) await step();
  };
  try {
    const crmServices = await openCrm({
      database,
      now,
      config: { leadAssignment: 'off', orgName: 'Handoff Test Org', ...options.crm },
    });
    closers.push(() => crmServices.close());
    const { credentials } = options;
    const org = await ensureOrg(crmServices, {
      orgName: crmServices.config.orgName,
      admin: {
        username: credentials.username,
        password: credentials.password,
        email: credentials.username,
        firstName: 'Test',
        lastName: 'Admin',
      },
      connectedApp: { clientId: credentials.clientId, clientSecret: credentials.clientSecret },
    });
    const crmApp = buildCrmApp(crmServices);
    await crmApp.listen({ host: '127.0.0.1', port: 0 });
    closers.push(() => crmApp.close());
    const crmUrl = `http://127.0.0.1:${portOf(crmApp)}`;
    crmServices.setUrls(crmUrl);
    const unsubscribe = options.clock.onAdvance(async () => {
      await crmServices.oauth.purgeExpired();
      await crmServices.records.purgeRecycleBin();
      await crmServices.changeEvents.purgeExpired();
      await crmServices.streaming.purgeExpired();
    });
    closers.push(async () => unsubscribe());
    const stack: Stack = {
      database,
      crm: { services: crmServices, app: crmApp, url: crmUrl, adminUserId: org.adminUserId },
      close,
    };
    if (!parts.marketing) return stack;

    const marketingServices = await openMarketing({
      database,
      now,
      tokens: { verify: (token) => crmServices.oauth.verify(token) },
    });
    closers.push(() => marketingServices.close());
    const unit = await marketingServices.units.ensure({
      name: 'Handoff Test Unit',
      allowMultiplePerEmail: options.marketing?.allowMultiplePerEmail,
      dailyApiLimit: options.marketing?.dailyApiLimit,
      grants: [{ crmUserId: org.adminUserId, email: credentials.username }],
    });
    const marketingApp = buildMarketingApp(marketingServices);
    await marketingApp.listen({ host: '127.0.0.1', port: 0 });
    closers.push(() => marketingApp.close());
    const marketingUrl = `http://127.0.0.1:${portOf(marketingApp)}`;
    stack.marketing = { services: marketingServices, app: marketingApp, url: marketingUrl, unit };

    const login = { flow: 'password' as const, loginUrl: crmUrl, ...credentials };
    const target = { baseUrl: marketingUrl, businessUnitId: unit.id, login };
    if (parts.ingest) {
      const ingestServices = await openIngest({ database, now, marketing: target });
      closers.push(() => ingestServices.close());
      const writeKey = newWriteKey();
      await ingestServices.sources.ensure('Test source', writeKey, {
        apiVersion: options.marketing?.allowMultiplePerEmail ? 4 : 3,
        businessUnitId: unit.id,
      });
      const ingestApp = buildIngestApp(ingestServices);
      await ingestApp.listen({ host: '127.0.0.1', port: 0 });
      closers.push(() => ingestApp.close());
      stack.ingest = {
        services: ingestServices,
        app: ingestApp,
        url: `http://127.0.0.1:${portOf(ingestApp)}`,
        writeKey,
      };
    }
    if (parts.connector) {
      const connector = await openConnector({
        database,
        now,
        config: { crm: login, marketing: target, changeEvents: false },
      });
      closers.push(() => connector.stop());
      // A first pass sets the cursors: whatever a test makes from here on is seen by the next.
      await connector.runOnce();
      stack.connector = connector;
    }
    return stack;
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Resolves once nothing accepted waits for delivery (events parked for later are not pending),
 * or fails after `timeoutMs` with the counts by status.
 */
export async function untilDelivered(ingest: IngestServices, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await ingest.status();
    if (status.pending === 0) return;
    if (Date.now() > deadline) throw new Error(`delivery did not settle: ${JSON.stringify(status)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
