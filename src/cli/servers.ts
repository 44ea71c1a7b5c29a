import { join } from 'node:path';
import { buildCrmApp } from '../crm/app.js';
import { openCrm, type CrmServices } from '../crm/crm-services.js';
import { ensureOrg } from '../crm/org-setup.js';
import { openConnector, type Connector } from '../connector/connector-services.js';
import { buildIngestApp } from '../ingest/app.js';
import { openIngest, type IngestServices } from '../ingest/ingest-services.js';
import { newWriteKey } from '../ingest/source-service.js';
import { buildMarketingApp } from '../marketing/app.js';
import { openMarketing, type MarketingServices } from '../marketing/marketing-services.js';
import { HttpTokenVerifier, type TokenVerifier } from '../marketing/token-verifier.js';
import { secretKey } from '../store/sealed-secrets.js';
import { ConfigError, type ResolvedConfig } from './config.js';
import {
  generateCredentials,
  readCredentials,
  writeCredentials,
  type CrmCredentials,
  type Credentials,
} from './credentials.js';
import { randomBytes } from 'node:crypto';
import { buildConnectorWebhookApp, WEBHOOK_PATH } from '../connector/webhook-app.js';
import type { WebhookSubscription } from '../marketing/webhooks/webhook-service.js';
import { listenOn, urlOf } from './listen.js';
import { connectorConfigFor, crmSettings, demoConnectorConfig } from './server-config.js';
import { loadSampleData, loadSampleLandingPage, loadSampleProspects } from './sample-data.js';
import { openDataStore } from './data-store.js';
import { buildConsoleApp } from '../console/console-app.js';
import { makePrivateDir } from '../store/private-files.js';
import { openConsoleBackend } from '../console/console-backend.js';

/** Which servers a command runs: `demo` all of them in one process, or one alone. */
export type ServerSet = 'demo' | 'crm' | 'marketing' | 'ingest' | 'console';

export interface RunningServers {
  credentials: Credentials;
  /**
   * False when the database already held an org and the data dir had no credentials for it
   * (a second process of a deployment): nothing was invented or written, and the CRM login is
   * the first process's, or one `handoff credentials` issues.
   */
  credentialsKnown: boolean;
  crmUrl?: string;
  marketingUrl?: string;
  /** The demo's landing page (a form and the tracking script), with sample data. */
  landingPageUrl?: string;
  ingestUrl?: string;
  /** The admin console; its login is the CRM admin's. */
  consoleUrl?: string;
  crm?: CrmServices;
  marketing?: MarketingServices;
  ingest?: IngestServices;
  connector?: Connector;
  stop(): Promise<void>;
}

/** How often `handoff demo` runs a sync pass. */
const DEMO_SYNC_INTERVAL_MS = 1_000;

const DEMO_UNIT_NAME = 'Handoff Demo';
const DEMO_SOURCE_NAME = 'Demo source';

/** The CRM user behind the demo login, asked of the CRM's OAuth server as any client would. */
async function crmAdminId(crm: CrmCredentials): Promise<string> {
  const response = await fetch(`${crm.loginUrl}/services/oauth2/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: crm.clientId,
      client_secret: crm.clientSecret,
      username: crm.username,
      password: crm.password,
    }),
  }).catch((error: unknown) => {
    throw new ConfigError(`cannot reach the CRM at ${crm.loginUrl}: ${(error as Error).message}`);
  });
  if (!response.ok) throw new ConfigError(`the CRM at ${crm.loginUrl} refused the demo login`);
  const { id } = (await response.json()) as { id: string };
  return id.split('/').at(-1) ?? '';
}

/**
 * Starts the embedded servers in this process. On first start it creates the org, the demo
 * business unit, their credentials and (with `sampleData`) a demo dataset; later starts reuse
 * them. The marketing engine alone trusts the CRM named in the data dir's credentials.
 */
export async function startServers(
  config: ResolvedConfig,
  options: { set: ServerSet; sampleData: boolean; sync?: boolean; log: (line: string) => void },
): Promise<RunningServers> {
  makePrivateDir(config.dataDir);
  const database = openDataStore(config);
  const closers: Array<() => Promise<void>> = [];
  const stored = readCredentials(config.dataDir);
  const running: RunningServers = {
    credentials: stored ?? generateCredentials(),
    credentialsKnown: true,
    async stop() {
      for (const close of closers.reverse()) await close();
      await database.close();
    },
  };
  try {
    let tokens: TokenVerifier | undefined;
    let adminUserId = '';
    if (options.set === 'demo' || options.set === 'crm') {
      const crm = await openCrm({ database, config: crmSettings(config) });
      const { credentials } = running;
      const org = await ensureOrg(crm, {
        orgName: crm.config.orgName,
        admin: {
          username: credentials.crm.username,
          password: credentials.crm.password,
          email: credentials.crm.username,
          firstName: 'Admin',
          lastName: 'User',
        },
        connectedApp: { clientId: credentials.crm.clientId, clientSecret: credentials.crm.clientSecret },
      });
      if (!org.created && !stored) {
        // The org was made by another process (or machine): credentials generated here would
        // not log in (invalid_client_id). Say so, and how to get working ones, instead.
        if (options.set !== 'crm') throw new ConfigError(joiningWithoutCredentials(config.dataDir));
        running.credentialsKnown = false;
      }
      if (org.created && options.sampleData) await loadSampleData(crm, org.adminUserId);
      const crmApp = buildCrmApp(crm);
      closers.push(
        () => crm.close(),
        () => crmApp.close(),
      );
      await listenOn(crmApp, 'CRM', config.host, config.ports.crm, '--crm-port');
      running.crmUrl = urlOf(crmApp, config.host);
      running.crm = crm;
      crm.setUrls(running.crmUrl);
      // The address clients use: the public one behind a proxy (crm.publicUrl), else the socket's.
      credentials.crm.loginUrl = crm.urls.loginUrl();
      credentials.crm.instanceUrl = crm.urls.instanceUrl();
      tokens = { verify: (token) => crm.oauth.verify(token) };
      adminUserId = org.adminUserId;
    } else if (options.set === 'marketing') {
      if (!readCredentials(config.dataDir)) {
        throw new ConfigError(
          `no CRM credentials in ${config.dataDir}: start \`handoff crm\` with this data dir first`,
        );
      }
      tokens = new HttpTokenVerifier(running.credentials.crm.loginUrl);
      adminUserId = await crmAdminId(running.credentials.crm);
    }

    // The demo's connector hears the marketing engine's webhooks (form successes, assignments,
    // prospect changes) at once: its receiver listens before the engine starts sending.
    const syncing = options.set === 'demo' && options.sync !== false;
    const webhookSecret = randomBytes(24).toString('base64url');
    let demoConnector: Connector | undefined;
    const demoWebhooks: WebhookSubscription[] = [];
    if (syncing) {
      const receiver = buildConnectorWebhookApp(() => demoConnector);
      closers.push(() => receiver.close());
      await receiver.listen({ host: '127.0.0.1', port: 0 });
      demoWebhooks.push({
        url: `${urlOf(receiver, '127.0.0.1')}${WEBHOOK_PATH}`,
        events: ['form.success', 'prospect.assigned', 'prospect.created', 'prospect.updated'],
        secret: webhookSecret,
      });
    }

    if (tokens && (options.set === 'demo' || options.set === 'marketing')) {
      const marketing = await openMarketing({
        database,
        tokens,
        faultInjection: config.faultsEnabled,
        sealKey: () => secretKey(config.dataDir, true),
        faults: config.marketing?.faults,
        grading: config.marketing?.grading,
        webhooks: [...(config.marketing?.webhooks ?? []), ...demoWebhooks],
        smtp: config.marketing?.smtp,
        publicUrl: config.marketing?.publicUrl,
        scoring: config.marketing?.scoring
          ? Object.fromEntries(
              Object.entries(config.marketing.scoring).map(([type, points]) => [Number(type), points]),
            )
          : undefined,
      });
      let unit = await marketing.units.ensure({
        name: DEMO_UNIT_NAME,
        id: running.credentials.marketing?.businessUnitId,
        grants: [{ crmUserId: adminUserId, email: running.credentials.crm.username }],
      });
      if (config.marketing?.unit) unit = await marketing.units.updateSettings(unit.id, config.marketing.unit);
      const landingPageId = options.sampleData
        ? await loadSampleLandingPage(marketing, unit, await marketing.units.userId(unit.id, adminUserId))
        : null;
      if (options.sampleData) await loadSampleProspects(marketing, unit);
      const marketingApp = buildMarketingApp(marketing);
      closers.push(
        () => marketing.close(),
        () => marketingApp.close(),
      );
      await listenOn(
        marketingApp,
        'marketing engine',
        config.host,
        config.ports.marketing,
        '--marketing-port',
      );
      running.marketingUrl = urlOf(marketingApp, config.host);
      if (landingPageId !== null)
        running.landingPageUrl = `${running.marketingUrl}/lp/${unit.id}/${landingPageId}`;
      running.marketing = marketing;
      running.credentials.marketing = { baseUrl: running.marketingUrl, businessUnitId: unit.id };
    }

    if (options.set === 'demo' || options.set === 'ingest') {
      const { crm: crmLogin, marketing: target } = running.credentials;
      if (!target) {
        throw new ConfigError(
          `no marketing credentials in ${config.dataDir}: start \`handoff marketing\` (or \`handoff demo\`) with this data dir first`,
        );
      }
      const ingest = await openIngest({
        database,
        rateLimit: config.ingest?.rateLimit,
        marketing: {
          baseUrl: target.baseUrl,
          businessUnitId: target.businessUnitId,
          login: { flow: 'password', ...crmLogin },
        },
      });
      const known = running.credentials.ingest?.writeKey;
      if (!known && (await ingest.sources.list()).some((s) => s.name === DEMO_SOURCE_NAME))
        // Another process made the source: its key is in that process's credentials.json.
        throw new ConfigError(
          `the source "${DEMO_SOURCE_NAME}" already exists in this database, and ${config.dataDir} has no write key for it: ` +
            `copy credentials.json from the first process's data dir, or issue a new key with ` +
            `\`handoff ingest sources rotate "${DEMO_SOURCE_NAME}"\` (the old key stops working) and put it in credentials.json.`,
        );
      const writeKey = known ?? newWriteKey();
      await ingest.sources.ensure(DEMO_SOURCE_NAME, writeKey, {
        apiVersion: 3,
        businessUnitId: target.businessUnitId,
      });
      const ingestApp = buildIngestApp(ingest);
      closers.push(
        () => ingest.close(),
        () => ingestApp.close(),
      );
      await listenOn(ingestApp, 'ingest', config.host, config.ports.ingest, '--ingest-port');
      running.ingestUrl = urlOf(ingestApp, config.host);
      running.ingest = ingest;
      running.credentials.ingest = { url: running.ingestUrl, writeKey };
    }

    if (syncing) {
      // The demo syncs its CRM and marketing engine continuously, as `handoff sync` would.
      const connector = await openConnector({
        database,
        config: {
          ...demoConnectorConfig(
            running.credentials,
            config.connector,
            config.marketing?.unit?.dailyApiLimit,
          ),
          webhookSecret,
        },
      });
      demoConnector = connector;
      connector.start(DEMO_SYNC_INTERVAL_MS);
      closers.push(() => connector.stop());
      running.connector = connector;
    }
    // The console's connector: the demo's, or (`handoff console`) the configured one.
    const consoleConnectorConfig =
      options.set === 'console'
        ? connectorConfigFor(config)
        : syncing
          ? demoConnectorConfig(running.credentials, config.connector, config.marketing?.unit?.dailyApiLimit)
          : undefined;
    if (options.set === 'console' && consoleConnectorConfig) {
      // The console alone, beside a `handoff sync` (or demo) of the same data dir: it reads and
      // steers the sync through the store, and never syncs itself.
      const connector = await openConnector({ database, config: consoleConnectorConfig });
      closers.push(() => connector.stop());
      running.connector = connector;
      const target = running.credentials.ingest && running.credentials.marketing;
      if (target && !config.connector?.connections) {
        const ingest = await openIngest({
          database,
          deliver: false,
          marketing: {
            baseUrl: target.baseUrl,
            businessUnitId: target.businessUnitId,
            login: { flow: 'password', ...running.credentials.crm },
          },
        });
        closers.push(() => ingest.close());
        running.ingest = ingest;
      }
    }

    if (running.connector && consoleConnectorConfig) {
      const backend = await openConsoleBackend({
        connector: running.connector,
        config: consoleConnectorConfig,
        ingest: running.ingest,
        landingPageUrl: running.landingPageUrl,
      });
      const sessionKey = running.credentials.console?.sessionKey ?? randomBytes(32).toString('base64');
      const consoleApp = await buildConsoleApp({
        backend,
        login: { username: running.credentials.crm.username, password: running.credentials.crm.password },
        sessionKey: Buffer.from(sessionKey, 'base64'),
        sessionsFile: join(config.dataDir, 'console-sessions.json'),
      });
      closers.push(() => consoleApp.close());
      await listenOn(consoleApp, 'console', config.host, config.ports.console, '--console-port');
      running.consoleUrl = urlOf(consoleApp, config.host);
      running.credentials.console = { sessionKey, url: running.consoleUrl };
    }
    if (running.credentialsKnown) writeCredentials(config.dataDir, running.credentials);
    return running;
  } catch (error) {
    await running.stop().catch(() => undefined);
    throw error;
  }
}

/** What a process joining an existing org without credentials is told. */
export function joiningWithoutCredentials(dataDir: string): string {
  return (
    `this database already holds an org, and ${dataDir} has no credentials for it. Handoff does not invent ` +
    `credentials that would not log in: copy credentials.json from the first process's data dir, or issue ` +
    `new ones with \`handoff credentials --data-dir ${dataDir}\` (with the same --database-url), then start again.`
  );
}
