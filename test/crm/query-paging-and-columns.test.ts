import jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.js';
import { startTestCrm, type TestCrm } from '../support/crm-server.js';

interface QueryBody {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
  records: Array<Record<string, unknown>>;
}

const COMPANY = 'Paging Matrix Co';
const MATCHING = 450;

for (const dialect of DIALECTS) {
  describe(`SOQL paging as Salesforce pages, and column metadata (${dialect})`, () => {
    let crm: TestCrm;

    /** Every page of a query, following nextRecordsUrl, as a client's autoFetch does. */
    const pages = async (soql: string, batchSize = 200, resource = 'query') => {
      const seen: QueryBody[] = [];
      let path: string | undefined = `/${resource}?q=${encodeURIComponent(soql)}`;
      while (path) {
        const r = await crm.api(path, { headers: { 'Sforce-Query-Options': `batchSize=${batchSize}` } });
        expect(r.status).toBe(200);
        const page = (await r.json()) as QueryBody;
        seen.push(page);
        // A page that is not done must say where the next is: otherwise clients re-run the query.
        if (!page.done) expect(page.nextRecordsUrl).toBeTruthy();
        path = page.nextRecordsUrl?.replace('/services/data/v60.0', '');
        if (seen.length > 20) throw new Error('paging did not end');
      }
      return seen;
    };
    const where = `FROM Lead WHERE Company = '${COMPANY}'`;

    beforeAll(async () => {
      crm = await startTestCrm({ dialect });
      const records = Array.from({ length: MATCHING }, (_, i) => ({
        attributes: { type: 'Lead' },
        LastName: `Page${String(i).padStart(3, '0')}`,
        Company: COMPANY,
        NumberOfEmployees: i % 4,
      }));
      for (let i = 0; i < records.length; i += 200) {
        const r = await crm.api('/composite/sobjects', {
          method: 'POST',
          body: JSON.stringify({ records: records.slice(i, i + 200) }),
        });
        expect(r.status).toBe(200);
      }
    });

    afterAll(async () => {
      await crm.close();
    });

    it('answers paths that begin // as Salesforce does, with the same guard', async () => {
      // The Salesforce CLI keeps the instance URL with a trailing slash; jsforce then asks `//services/…`.
      const token = await crm.token();
      const conn = new jsforce.Connection({
        instanceUrl: `${crm.url}/`,
        accessToken: token,
        version: '60.0',
      });
      const result = await conn.query<{ Id: string }>(`SELECT Id ${where} LIMIT 3`);
      expect(result.records).toHaveLength(3);
      const limits = await fetch(`${crm.url}//services/data/v60.0/limits`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(limits.status).toBe(200);
      expect(await limits.json()).toHaveProperty('DailyApiRequests');
      for (const path of ['//services/data/v60.0/limits', '///services/data/v60.0/sobjects/Lead']) {
        const refused = await fetch(`${crm.url}${path}`);
        expect(refused.status).toBe(401);
        expect(await refused.json()).toEqual([expect.objectContaining({ errorCode: 'INVALID_SESSION_ID' })]);
      }
    });

    it('ends at the LIMIT with done:true, whatever else matches, and pages inside it', async () => {
      const cases: Array<[string, number, number[]]> = [
        // [soql, batch size, rows on each page]
        [`SELECT Id ${where} LIMIT 1`, 200, [1]],
        [`SELECT Id ${where} LIMIT 200`, 200, [200]],
        [`SELECT Id ${where} LIMIT 201`, 200, [200, 1]],
        [`SELECT Id ${where} ORDER BY LastName LIMIT 420`, 200, [200, 200, 20]],
        [`SELECT Id ${where} ORDER BY LastName LIMIT 5 OFFSET 10`, 200, [5]],
        [`SELECT Id ${where} ORDER BY LastName OFFSET 400`, 200, [50]],
        [`SELECT Id ${where}`, 200, [200, 200, 50]],
        [`SELECT Id ${where} LIMIT 1000`, 500, [450]],
      ];
      for (const [soql, batchSize, sizes] of cases) {
        const seen = await pages(soql, batchSize);
        expect(
          seen.map((p) => p.records.length),
          soql,
        ).toEqual(sizes);
        const total = sizes.reduce((a, b) => a + b, 0);
        expect(
          seen.map((p) => p.totalSize),
          soql,
        ).toEqual(sizes.map(() => total));
        expect(
          seen.map((p) => p.done),
          soql,
        ).toEqual(sizes.map((_, i) => i === sizes.length - 1));
        expect(seen.at(-1)!.nextRecordsUrl, soql).toBeUndefined();
      }
      const ids = (await pages(`SELECT Id ${where} ORDER BY LastName LIMIT 420`)).flatMap((p) =>
        p.records.map((r) => r.Id),
      );
      expect(new Set(ids).size).toBe(420);
    });

    it('answers COUNT(), aggregates and queryAll in one done page, and refuses a spent or unknown locator', async () => {
      const [count] = await pages(`SELECT COUNT() ${where} LIMIT 10`);
      expect(count).toEqual({ totalSize: 10, done: true, records: [] });
      const [grouped] = await pages(
        `SELECT NumberOfEmployees, COUNT(Id) n ${where} GROUP BY NumberOfEmployees`,
      );
      expect(grouped).toMatchObject({ totalSize: 4, done: true });
      expect(grouped!.records.reduce((sum, r) => sum + Number(r.n), 0)).toBe(MATCHING);
      const all = await pages(`SELECT Id ${where} LIMIT 300`, 200, 'queryAll');
      expect(all.map((p) => p.records.length)).toEqual([200, 100]);

      const first = (await (
        await crm.api(`/query?q=${encodeURIComponent(`SELECT Id ${where}`)}`, {
          headers: { 'Sforce-Query-Options': 'batchSize=200' },
        })
      ).json()) as QueryBody;
      const next = first.nextRecordsUrl!.replace('/services/data/v60.0', '');
      expect((await crm.api(next)).status).toBe(200);
      let last = next;
      for (let page = (await (await crm.api(next)).json()) as QueryBody; page.nextRecordsUrl;) {
        last = page.nextRecordsUrl.replace('/services/data/v60.0', '');
        page = (await (await crm.api(last)).json()) as QueryBody;
      }
      for (const spent of [last, '/query/01gNoSuchLocatorx-200']) {
        const r = await crm.api(spent);
        expect(r.status).toBe(400);
        expect(await r.json()).toEqual([
          expect.objectContaining({ errorCode: 'INVALID_QUERY_LOCATOR', message: 'invalid query locator' }),
        ]);
      }
    });

    it('ends jsforce’s autoFetch at the LIMIT', async () => {
      const conn = await crm.connect();
      const records: unknown[] = [];
      await new Promise<void>((resolve, reject) => {
        conn
          .query(`SELECT Id ${where} LIMIT 250`)
          .on('record', (r) => records.push(r))
          .on('end', () => resolve())
          .on('error', reject)
          .run({ autoFetch: true, maxFetch: 10_000 });
      });
      expect(records).toHaveLength(250);
    });

    it('explains a query with real counts, as jsforce’s explain() asks for it', async () => {
      const conn = await crm.connect();
      const explained = (await conn.query(`SELECT Id ${where}`).explain()) as unknown as {
        plans: Array<Record<string, unknown>>;
      };
      expect(explained.plans).toEqual([
        expect.objectContaining({
          cardinality: MATCHING,
          leadingOperationType: 'TableScan',
          sobjectType: 'Lead',
          sobjectCardinality: expect.any(Number),
        }),
      ]);
      expect(explained.plans[0]!.sobjectCardinality as number).toBeGreaterThanOrEqual(MATCHING);
      const [one] = (await conn.query(`SELECT Id ${where} LIMIT 1`)).records as Array<{ Id: string }>;
      const byId = (await (
        await crm.api(
          `/query/?explain=${encodeURIComponent(`SELECT Name FROM Lead WHERE Id = '${one!.Id}'`)}`,
        )
      ).json()) as { plans: Array<Record<string, unknown>> };
      expect(byId.plans[0]).toMatchObject({ cardinality: 1, leadingOperationType: 'Index', fields: ['Id'] });
      const bad = await crm.api(`/query?explain=${encodeURIComponent('SELECT Nope FROM Lead')}`);
      expect(bad.status).toBe(400);
      expect(await bad.json()).toEqual([expect.objectContaining({ errorCode: 'INVALID_FIELD' })]);
    });

    it('describes a query’s columns with columns=true, parents as joinColumns, without running it', async () => {
      const columns = async (soql: string) => {
        const r = await crm.api(`/query?q=${encodeURIComponent(soql)}&columns=true`);
        expect(r.status).toBe(200);
        return (await r.json()) as Record<string, unknown> & {
          columnMetadata: Array<Record<string, unknown>>;
        };
      };
      const plain = await columns(`SELECT Id, LastName, NumberOfEmployees, Owner.Name, Owner.Email ${where}`);
      expect(plain).toMatchObject({ entityName: 'Lead', groupBy: false, idSelected: true, keyPrefix: '00Q' });
      expect(plain).not.toHaveProperty('records');
      expect(plain.columnMetadata.map((c) => c.columnName)).toEqual([
        'Id',
        'LastName',
        'NumberOfEmployees',
        'Owner',
      ]);
      expect(plain.columnMetadata[1]).toEqual({
        aggregate: false,
        apexType: 'String',
        booleanType: false,
        columnName: 'LastName',
        custom: false,
        displayName: 'LastName',
        foreignKeyName: null,
        insertable: true,
        joinColumns: [],
        numberType: false,
        textType: true,
        updatable: true,
      });
      expect(plain.columnMetadata[2]).toMatchObject({ apexType: 'Integer', numberType: true });
      const owner = plain.columnMetadata[3] as { joinColumns: Array<Record<string, unknown>> };
      expect(owner).toMatchObject({ aggregate: false, apexType: null });
      expect(owner.joinColumns.map((c) => c.columnName)).toEqual(['Name', 'Email']);

      const aggregate = await columns(
        `SELECT NumberOfEmployees, COUNT(Id), MAX(LastName) top ${where} GROUP BY NumberOfEmployees`,
      );
      expect(aggregate).toMatchObject({ groupBy: true, idSelected: false });
      expect(aggregate.columnMetadata.map((c) => [c.columnName, c.displayName, c.aggregate])).toEqual([
        ['NumberOfEmployees', 'NumberOfEmployees', false],
        ['expr0', 'COUNT(Id)', true],
        ['top', 'top', true],
      ]);

      const bad = await crm.api(`/query?q=${encodeURIComponent('SELECT Nope FROM Lead')}&columns=true`);
      expect(bad.status).toBe(400);
      expect(await bad.json()).toEqual([expect.objectContaining({ errorCode: 'INVALID_FIELD' })]);
    });
  });
}
