import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectCrm, crmRequestsSent } from '../../src/clients/salesforce/crm-connection.js';
import { SalesforceClient } from '../../src/clients/salesforce/salesforce-client.js';
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

describe('reading a whole object through a Bulk API 2.0 query job', () => {
  let crm: TestCrm;

  beforeAll(async () => {
    crm = await startTestCrm();
  });

  afterAll(() => crm.close());

  it('yields every record across result pages, parent fields by dotted name, each request counted', async () => {
    const conn = await connectCrm({ flow: 'password', loginUrl: crm.url, ...TEST_CREDENTIALS });
    const account = (await conn.sobject('Account').create({ Name: 'Paged "Quoted", Inc.' })) as {
      id: string;
    };
    await conn.sobject('Contact').create(
      Array.from({ length: 7 }, (_, i) => ({
        LastName: `Paged ${i}`,
        AccountId: account.id,
        Title: i === 3 ? 'a\nb' : null,
      })),
      { allOrNone: true },
    );
    const before = crmRequestsSent(conn);
    const records: Array<Record<string, string>> = [];
    for await (const page of await new SalesforceClient(conn).startBulkQuery(
      "SELECT Id, LastName, Title, Account.Name FROM Contact WHERE LastName LIKE 'Paged%' ORDER BY LastName",
      { pollMs: 20, pageRows: 3 },
    ))
      for (const row of page.rows) records.push(Object.fromEntries(page.columns.map((c, i) => [c, row[i]!])));
    expect(records.map((r) => r.LastName)).toEqual(Array.from({ length: 7 }, (_, i) => `Paged ${i}`));
    expect(records[0]!['Account.Name']).toBe('Paged "Quoted", Inc.');
    expect(records[3]!.Title).toBe('a\nb');
    expect(records[0]!.Title).toBe('');
    // The job, at least one status, and three pages of results (3 + 3 + 1): jsforce's Bulk
    // calls are counted with its REST calls.
    expect(crmRequestsSent(conn) - before).toBeGreaterThanOrEqual(5);
  });
});
