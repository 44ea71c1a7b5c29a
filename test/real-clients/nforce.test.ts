import nforce from 'nforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCrm, TEST_CREDENTIALS, type TestCrm } from '../support/crm-server.js';

type Json = Record<string, unknown>;
interface NforceRecord {
  get(field: string): unknown;
}
interface NforceConnection {
  authenticate(options: { username: string; password: string }): Promise<unknown>;
  query(options: {
    query: string;
    fetchAll?: boolean;
  }): Promise<{ totalSize: number; done: boolean; records: NforceRecord[] }>;
  queryAll(options: {
    query: string;
    fetchAll?: boolean;
  }): Promise<{ totalSize: number; records: NforceRecord[] }>;
  search(options: { search: string; raw?: boolean }): Promise<{ searchRecords: Json[] }>;
}

/** nforce (unchanged) against the embedded CRM: queries with fetchAll, queryAll and search. */
describe('nforce against handoff crm', () => {
  let crm: TestCrm;
  let org: NforceConnection;

  beforeAll(async () => {
    crm = await startTestCrm();
    org = (
      nforce as unknown as { createConnection(options: Record<string, unknown>): NforceConnection }
    ).createConnection({
      clientId: TEST_CREDENTIALS.clientId,
      clientSecret: TEST_CREDENTIALS.clientSecret,
      redirectUri: 'http://localhost/callback',
      loginUri: `${crm.url}/services/oauth2/token`,
      apiVersion: 'v60.0',
      mode: 'single',
    });
    await org.authenticate({ username: TEST_CREDENTIALS.username, password: TEST_CREDENTIALS.password });
    // 2,200 Leads: more than one page of 2,000.
    for (let i = 0; i < 2_200; i += 200) {
      const records = Array.from({ length: 200 }, (_, j) => ({
        attributes: { type: 'Lead' },
        LastName: `Nforce${i + j}`,
        Company: 'Nforce Co',
        Email: `n${i + j}@nforce.example`,
      }));
      expect((await crm.call('/composite/sobjects', 'POST', { records })).status).toBe(200);
    }
  }, 120_000);

  afterAll(async () => {
    await crm?.close();
  });

  it('fetches every page with fetchAll, and stops at a LIMIT', async () => {
    const all = await org.query({ query: "SELECT Id FROM Lead WHERE Company = 'Nforce Co'", fetchAll: true });
    expect(all.records).toHaveLength(2_200);
    expect(all.totalSize).toBe(2_200);
    const limited = await org.query({
      query: "SELECT Id, LastName FROM Lead WHERE Company = 'Nforce Co' ORDER BY LastName LIMIT 1",
      fetchAll: true,
    });
    expect(limited).toMatchObject({ totalSize: 1, done: true });
    expect(limited.records.map((r) => r.get('lastname'))).toEqual(['Nforce0']);
  });

  it('queries deleted records with queryAll', async () => {
    const { id } = (await crm.call('/sobjects/Lead', 'POST', { LastName: 'Recycled', Company: 'Nforce Bin' }))
      .body as {
      id: string;
    };
    await crm.call(`/sobjects/Lead/${id}`, 'DELETE');
    expect(
      (await org.query({ query: "SELECT Id FROM Lead WHERE Company = 'Nforce Bin'" })).records,
    ).toHaveLength(0);
    const binned = await org.queryAll({
      query: "SELECT Id, IsDeleted FROM Lead WHERE Company = 'Nforce Bin'",
      fetchAll: true,
    });
    expect(binned.records.map((r) => [r.get('id'), r.get('isdeleted')])).toEqual([[id, true]]);
  });

  it('searches with SOSL', async () => {
    const found = await org.search({
      search: 'FIND {n2199@nforce.example} IN EMAIL FIELDS RETURNING Lead(Id, LastName)',
    });
    expect(found.searchRecords).toEqual([expect.objectContaining({ LastName: 'Nforce2199' })]);
  });
});
