import type { FastifyInstance } from 'fastify';
import jsforce from 'jsforce';
import { buildCrmApp } from '../../src/crm/app.js';
import type { CrmConfig } from '../../src/crm/crm-config.js';
import { openCrm, type CrmServices } from '../../src/crm/crm-services.js';
import { ensureOrg } from '../../src/crm/org-setup.js';
import { createTestDatabase, type DialectName, type TestDatabase } from './databases.js';

export const TEST_CREDENTIALS = {
  clientId: '3MVG9testClientIdForHandoffTests',
  clientSecret: 'test-client-secret',
  username: 'admin@test.handoff',
  password: 'correct horse battery staple',
};

export interface TestCrm {
  url: string;
  services: CrmServices;
  adminUserId: string;
  database: TestDatabase & { filename?: string };
  app: FastifyInstance;
  /** A jsforce connection logged in with the OAuth password grant. */
  connect(options?: { version?: string }): Promise<jsforce.Connection>;
  /** An access token for raw HTTP calls. */
  token(): Promise<string>;
  /** A JSON call to the data API: the status and the parsed body (null when empty). */
  call(path: string, method: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  /** Creates a record through `POST /sobjects/{type}` and answers its id; throws the answer unless 201. */
  create(type: string, values: Record<string, unknown>): Promise<string>;
  /** fetch() against the data API of v60.0, with the token unless `auth: false`. */
  api(path: string, init?: RequestInit & { auth?: boolean | string }): Promise<Response>;
  close(): Promise<void>;
}

/** Starts a CRM on 127.0.0.1:0 with an empty org (admin, connected app) on the given dialect. */
export async function startTestCrm(
  options: {
    dialect?: DialectName;
    config?: Partial<CrmConfig>;
    now?: () => Date;
    certificate?: string;
    busyTimeoutMs?: number;
  } = {},
): Promise<TestCrm> {
  const database = await createTestDatabase(options.dialect ?? 'sqlite', {
    busyTimeoutMs: options.busyTimeoutMs,
  });
  const services = await openCrm({
    database,
    config: { leadAssignment: 'off', ...options.config },
    now: options.now,
  });
  const org = await ensureOrg(services, {
    orgName: 'Test Org',
    admin: {
      username: TEST_CREDENTIALS.username,
      password: TEST_CREDENTIALS.password,
      email: 'admin@test.handoff',
      firstName: 'Ada',
      lastName: 'Admin',
    },
    connectedApp: {
      clientId: TEST_CREDENTIALS.clientId,
      clientSecret: TEST_CREDENTIALS.clientSecret,
      certificate: options.certificate ?? null,
    },
  });
  const app = buildCrmApp(services);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  services.setUrls(url);

  let cachedToken: string | null = null;
  const token = async () => {
    if (cachedToken) return cachedToken;
    const response = await fetch(`${url}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: TEST_CREDENTIALS.clientId,
        client_secret: TEST_CREDENTIALS.clientSecret,
        username: TEST_CREDENTIALS.username,
        password: TEST_CREDENTIALS.password,
      }),
    });
    const body = (await response.json()) as { access_token: string };
    cachedToken = body.access_token;
    return cachedToken;
  };

  const api: TestCrm['api'] = async (path, init = {}) => {
    const { auth = true, headers, ...rest } = init;
    const bearer = auth === false ? null : typeof auth === 'string' ? auth : await token();
    return fetch(`${url}/services/data/v60.0${path}`, {
      ...rest,
      headers: {
        ...(rest.body ? { 'content-type': 'application/json' } : {}),
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        ...(headers as Record<string, string> | undefined),
      },
    });
  };

  return {
    url,
    services,
    adminUserId: org.adminUserId,
    database,
    app,
    async connect(connectOptions = {}) {
      const conn = new jsforce.Connection({
        oauth2: {
          loginUrl: url,
          clientId: TEST_CREDENTIALS.clientId,
          clientSecret: TEST_CREDENTIALS.clientSecret,
        },
        version: connectOptions.version ?? '60.0',
      });
      await conn.login(TEST_CREDENTIALS.username, TEST_CREDENTIALS.password);
      return conn;
    },
    token,
    api,
    async create(type, values) {
      const r = await api(`/sobjects/${type}`, { method: 'POST', body: JSON.stringify(values) });
      const answer = (await r.json()) as { id: string };
      if (r.status !== 201)
        throw new Error(`creating a ${type} failed: ${r.status} ${JSON.stringify(answer)}`);
      return answer.id;
    },
    async call(path, method, body) {
      const r = await api(path, {
        method,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await r.text();
      return { status: r.status, body: (text ? JSON.parse(text) : null) as unknown };
    },
    async close() {
      await app.close();
      await services.close();
      await database.destroy();
    },
  };
}

/** The OAuth password grant through the test connected app, as any client would call it. */
export async function passwordGrant(
  crmUrl: string,
  username: string,
  password: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const answer = await fetch(`${crmUrl}/services/oauth2/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: TEST_CREDENTIALS.clientId,
      client_secret: TEST_CREDENTIALS.clientSecret,
      username,
      password,
    }),
  });
  return { status: answer.status, body: (await answer.json()) as Record<string, unknown> };
}
