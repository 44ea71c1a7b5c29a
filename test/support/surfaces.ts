import { randomBytes } from 'node:crypto';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { openConsoleBackend } from '../../src/console/console-backend.js';
import { buildConsoleApp } from '../../src/console/console-app.js';
import { openConnector, type Connector } from '../../src/connector/connector-services.js';
import type { DialectName } from './databases.js';
import { TEST_CREDENTIALS } from './crm-server.js';
import { startTestIngest, type TestIngest } from './ingest-server.js';

/**
 * Every server of Handoff at once, on one database, each with what a caller needs to get in:
 * the CRM (REST, SOAP, OAuth, Bulk), the marketing engine (v5, v3/v4, forms, tracking, email),
 * the ingest, and the console with a real connector behind it. For the security suites, which
 * walk each app's registered routes.
 */
export interface Surfaces {
  ingest: TestIngest;
  crmApp: FastifyInstance;
  marketingApp: FastifyInstance;
  ingestApp: FastifyInstance;
  console: { app: FastifyInstance; url: string; login: { username: string; password: string } };
  connector: Connector;
  /** An access token of the org's admin (who administers the test units). */
  adminToken: string;
  close(): Promise<void>;
}

export async function startSurfaces(
  options: { dialect?: DialectName; faultInjection?: boolean } = {},
): Promise<Surfaces> {
  const ingest = await startTestIngest(options);
  const { m } = ingest;
  const login = { flow: 'password' as const, loginUrl: m.crm.url, ...TEST_CREDENTIALS };
  const config = {
    crm: login,
    marketing: { baseUrl: m.url, businessUnitId: m.v3Unit.id, login },
    changeEvents: false,
  };
  const connector = await openConnector({ database: m.crm.database, config });
  const backend = await openConsoleBackend({ connector, config, ingest: ingest.services });
  const consoleLogin = { username: 'admin@console.test', password: 'console password' };
  const consoleApp = await buildConsoleApp({ backend, login: consoleLogin, sessionKey: randomBytes(32) });
  await consoleApp.listen({ host: '127.0.0.1', port: 0 });
  const address = consoleApp.server.address();
  const consoleUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    ingest,
    crmApp: m.crm.app,
    marketingApp: m.app,
    ingestApp: ingest.app,
    console: { app: consoleApp, url: consoleUrl, login: consoleLogin },
    connector,
    adminToken: await m.crm.token(),
    async close() {
      await consoleApp.close();
      await connector.stop();
      await ingest.close();
    },
  };
}

/** A logged-in console session: its cookie and CSRF token, as the page holds them. */
export async function consoleSession(app: FastifyInstance, login: { username: string; password: string }) {
  const first = await app.inject({ method: 'GET', url: '/console/api/session' });
  const cookie = cookieOf(first.headers['set-cookie']);
  const csrf = (first.json() as { csrfToken: string }).csrfToken;
  const logged = await app.inject({
    method: 'POST',
    url: '/console/api/login',
    headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
    payload: JSON.stringify(login),
  });
  if (logged.statusCode !== 200) throw new Error(`console login failed: ${logged.body}`);
  return {
    cookie: cookieOf(logged.headers['set-cookie']) || cookie,
    csrf: (logged.json() as { csrfToken: string }).csrfToken,
  };
}

function cookieOf(header: string | string[] | undefined): string {
  const first = Array.isArray(header) ? header[0] : header;
  return first ? (first.split(';')[0] ?? '') : '';
}

export type { InjectOptions };
