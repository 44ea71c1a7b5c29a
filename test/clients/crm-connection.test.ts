import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectCrm } from '../../src/clients/salesforce/crm-connection.js';
import type { SalesforceLogin } from '../../src/clients/salesforce-oauth.js';
import { startTestCrm, TEST_CREDENTIALS, type TestCrm } from '../support/crm-server.js';

describe("the connector's CRM connection", () => {
  let crm: TestCrm;

  beforeAll(async () => {
    crm = await startTestCrm();
  });

  afterAll(() => crm.close());

  const revoke = (token: string) =>
    fetch(`${crm.url}/services/oauth2/revoke`, { method: 'POST', body: new URLSearchParams({ token }) });

  const logins: Record<string, () => SalesforceLogin> = {
    password: () => ({ flow: 'password', loginUrl: crm.url, ...TEST_CREDENTIALS }),
    client_credentials: () => ({
      flow: 'client_credentials',
      loginUrl: crm.url,
      clientId: TEST_CREDENTIALS.clientId,
      clientSecret: TEST_CREDENTIALS.clientSecret,
    }),
  };

  for (const [flow, login] of Object.entries(logins)) {
    it(`gets a new token when its token is revoked, and the call goes through (${flow})`, async () => {
      const conn = await connectCrm(login());
      const first = conn.accessToken!;
      expect((await conn.query('SELECT Id FROM User')).totalSize).toBeGreaterThan(0);
      expect((await revoke(first)).status).toBe(200);
      // The next call meets a 401, logs in again, and is sent again with the new token.
      expect((await conn.query('SELECT Id FROM User')).totalSize).toBeGreaterThan(0);
      expect(conn.accessToken).not.toBe(first);
    });
  }
});
