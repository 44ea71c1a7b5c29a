import type { FastifyInstance } from 'fastify';
import { join } from 'node:path';
import { buildCrmApp } from '../crm/app.js';
import { openCrm, type CrmServices } from '../crm/crm-services.js';
import { ensureOrg } from '../crm/org-setup.js';
import { openDatabase, type Database } from '../store/database.js';
import type { ResolvedConfig } from './config.js';
import { generateCredentials, readCredentials, writeCredentials, type Credentials } from './credentials.js';
import { loadSampleData } from './sample-data.js';

export interface RunningServers {
  credentials: Credentials;
  crmUrl: string;
  crm: CrmServices;
  stop(): Promise<void>;
}

function urlOf(app: FastifyInstance, host: string): string {
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const shownHost =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${shownHost}:${port}`;
}

function openStore(config: ResolvedConfig): Database {
  return config.databaseUrl
    ? openDatabase({ kind: 'postgres', url: config.databaseUrl })
    : openDatabase({ kind: 'sqlite', filename: join(config.dataDir, 'handoff.db') });
}

/**
 * Starts the embedded servers in this process. On first start it creates the org, its
 * credentials and (with `sampleData`) a demo dataset; later starts reuse all three.
 */
export async function startServers(
  config: ResolvedConfig,
  options: { sampleData: boolean; log: (line: string) => void },
): Promise<RunningServers> {
  const database = openStore(config);
  const crm = await openCrm({ database, config: config.crm });
  const credentials = readCredentials(config.dataDir) ?? generateCredentials();
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
  if (org.created && options.sampleData) await loadSampleData(crm, org.adminUserId);

  const crmApp = buildCrmApp(crm);
  await crmApp.listen({ host: config.host, port: config.ports.crm });
  const crmUrl = urlOf(crmApp, config.host);
  crm.setUrls(crmUrl);
  credentials.crm.loginUrl = crmUrl;
  credentials.crm.instanceUrl = crmUrl;
  writeCredentials(config.dataDir, credentials);

  return {
    credentials,
    crmUrl,
    crm,
    async stop() {
      await crmApp.close();
      await crm.close();
      await database.close();
    },
  };
}
