import jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCrm, type TestCrm } from '../support/crm-server.js';

interface Column {
  label: string;
  fieldNameOrPath: string;
  selectListItem: string;
  sortIndex: number | null;
  sortable: boolean;
}

describe('list views', () => {
  let crm: TestCrm;
  let conn: jsforce.Connection;

  beforeAll(async () => {
    crm = await startTestCrm();
    conn = await crm.connect();
    for (const name of ['Bravo', 'Alpha', 'Charlie']) await crm.create('Account', { Name: `${name} Listed` });
  });

  afterAll(async () => {
    await crm.close();
  });

  it('lists an object’s views, describes one and runs it, as jsforce’s listviews() and listview(id) read them', async () => {
    const Account = conn.sobject('Account');
    const listed = (await Account.listviews()) as unknown as {
      listviews: Array<{
        id: string;
        label: string;
        describeUrl: string;
        resultsUrl: string;
        soqlCompatible: boolean;
      }>;
    };
    expect(listed.listviews.map((v) => v.label)).toEqual(['All Accounts', 'Recently Viewed Accounts']);
    const all = listed.listviews[0]!;
    expect(all.id).toMatch(/^00B/);
    expect(all).toMatchObject({
      soqlCompatible: true,
      resultsUrl: expect.stringContaining(`/listviews/${all.id}/results`),
    });

    const described = (await Account.listview(all.id).describe()) as unknown as {
      id: string;
      sobjectType: string;
      query: string;
      columns: Column[];
      orderBy: unknown[];
    };
    expect(described).toMatchObject({ id: all.id, sobjectType: 'Account' });
    expect(described.query).toMatch(/^SELECT .* FROM Account ORDER BY Name ASC/);
    expect(described.columns.map((c) => c.fieldNameOrPath)).toContain('Name');
    expect(described.orderBy).toHaveLength(1);

    const results = (await Account.listview(all.id).results()) as unknown as {
      done: boolean;
      size: number;
      label: string;
      columns: Column[];
      records: Array<{ columns: Array<{ fieldNameOrPath: string; value: string | null }> }>;
    };
    expect(results).toMatchObject({ done: true, size: 3, label: 'All Accounts' });
    const names = results.records.map((r) => r.columns.find((c) => c.fieldNameOrPath === 'Name')?.value);
    expect(names).toEqual(['Alpha Listed', 'Bravo Listed', 'Charlie Listed']);

    const explained = (await Account.listview(all.id).explain()) as unknown as {
      plans: Array<{ cardinality: number; sobjectType: string; leadingOperationType: string }>;
    };
    expect(explained.plans[0]).toMatchObject({
      cardinality: 3,
      sobjectType: 'Account',
      leadingOperationType: 'TableScan',
    });
  });

  it('shows what FOR VIEW stamped in Recently Viewed, and 404s an unknown view', async () => {
    const [alpha] = (await conn.query<{ Id: string }>("SELECT Id FROM Account WHERE Name = 'Alpha Listed'"))
      .records;
    await conn.query(`SELECT Id FROM Account WHERE Id = '${alpha!.Id}' FOR VIEW`);
    const listed = (await conn.sobject('Account').listviews()) as unknown as {
      listviews: Array<{ id: string }>;
    };
    const recent = (await conn.sobject('Account').listview(listed.listviews[1]!.id).results()) as unknown as {
      size: number;
    };
    expect(recent.size).toBe(1);
    const unknown = await crm.api('/sobjects/Account/listviews/00B000000000000AAA/describe');
    expect(unknown.status).toBe(404);
  });
});
