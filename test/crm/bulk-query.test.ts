import { parse } from 'csv-parse/sync';
import type jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updateJob } from '../../src/crm/store/bulk-store.js';
import { DIALECTS } from '../support/databases.js';
import { waitForJob, type JobInfo } from '../support/bulk-jobs.js';
import { startTestCrm, type TestCrm } from '../support/crm-server.js';

for (const dialect of DIALECTS) {
  describe(`Bulk API 2.0 query (${dialect})`, () => {
    let crm: TestCrm;
    let conn: jsforce.Connection;

    beforeAll(async () => {
      crm = await startTestCrm({ dialect });
      conn = await crm.connect();
      conn.bulk2.pollInterval = 25;
      const rows = Array.from({ length: 700 }, (_, i) => ({
        attributes: { type: 'Lead' },
        LastName: `Q${String(i).padStart(4, '0')}`,
        Company: i % 2 === 0 ? 'Even "Quoted", Inc' : 'Odd Co',
        NumberOfEmployees: i,
      }));
      for (let i = 0; i < rows.length; i += 200) {
        await crm.api('/composite/sobjects', {
          method: 'POST',
          body: JSON.stringify({ records: rows.slice(i, i + 200) }),
        });
      }
    });

    afterAll(async () => {
      await crm.close();
    });

    const json = (path: string, method: string, body?: unknown) => crm.call(path, method, body);
    const waitFor = (id: string) => waitForJob(crm, 'query', id);

    it('answers jsforce’s bulk2.query with every matching record', async () => {
      const stream = await conn.bulk2.query(
        `SELECT Id, LastName, Company, Owner.Name FROM Lead WHERE NumberOfEmployees >= 100 ORDER BY LastName`,
      );
      const records = await new Promise<Array<Record<string, unknown>>>((resolve, reject) => {
        const out: Array<Record<string, unknown>> = [];
        stream.on('record', (r: Record<string, unknown>) => out.push(r));
        stream.on('end', () => resolve(out));
        stream.on('error', reject);
      });
      expect(records).toHaveLength(600);
      expect(records[0]).toMatchObject({
        LastName: 'Q0100',
        Company: 'Even "Quoted", Inc',
        'Owner.Name': 'Ada Admin',
      });
      expect(new Set(records.map((r) => r.Id)).size).toBe(600);
    });

    it('pages results by locator with Sforce-NumberOfRecords, ending with the literal locator null', async () => {
      const created = await json('/jobs/query', 'POST', {
        operation: 'query',
        query: `SELECT Id, LastName FROM Lead WHERE Company = 'Odd Co'`,
      });
      expect(created.status).toBe(200);
      const job = await waitFor((created.body as JobInfo).id);
      expect(job).toMatchObject({ state: 'JobComplete', numberRecordsProcessed: 350 });
      const ids: string[] = [];
      let locator = '';
      const counts: string[] = [];
      for (;;) {
        const r = await crm.api(
          `/jobs/query/${job.id}/results?maxRecords=150${locator ? `&locator=${locator}` : ''}`,
        );
        expect(r.status).toBe(200);
        counts.push(r.headers.get('sforce-numberofrecords') ?? '');
        const lines = (await r.text()).trim().split('\n');
        expect(lines[0]).toBe('"Id","LastName"');
        ids.push(...lines.slice(1).map((line) => line.split(',')[0] ?? ''));
        locator = r.headers.get('sforce-locator') ?? 'null';
        if (locator === 'null') break;
      }
      expect(counts).toEqual(['150', '150', '50']);
      expect(new Set(ids).size).toBe(350);
    });

    it('holds the query’s LIMIT across result pages', async () => {
      const created = await json('/jobs/query', 'POST', {
        operation: 'query',
        query: `SELECT Id FROM Lead WHERE Company = 'Odd Co' LIMIT 5`,
      });
      const job = await waitFor((created.body as JobInfo).id);
      expect(job).toMatchObject({ state: 'JobComplete', numberRecordsProcessed: 5 });
      const counts: string[] = [];
      let locator = '';
      for (;;) {
        const r = await crm.api(
          `/jobs/query/${job.id}/results?maxRecords=2${locator ? `&locator=${locator}` : ''}`,
        );
        expect(r.status).toBe(200);
        counts.push(r.headers.get('sforce-numberofrecords') ?? '');
        locator = r.headers.get('sforce-locator') ?? 'null';
        if (locator === 'null') break;
      }
      expect(counts).toEqual(['2', '2', '1']);
    });

    it('serves pages larger than it reads at a time: each record once, in order, the LIMIT held', async () => {
      // 4,500 Leads: a page of 3,000 is read from the store in several chunks.
      const ingest = (await json('/jobs/ingest', 'POST', { object: 'Lead', operation: 'insert' }))
        .body as JobInfo;
      const lines = ['LastName,Company'];
      for (let i = 0; i < 4_500; i++) lines.push(`Chunk${String(i).padStart(5, '0')},"Chunked, Inc"`);
      await crm.api(`/jobs/ingest/${ingest.id}/batches`, {
        method: 'PUT',
        body: `${lines.join('\n')}\n`,
        headers: { 'content-type': 'text/csv' },
      });
      await json(`/jobs/ingest/${ingest.id}`, 'PATCH', { state: 'UploadComplete' });
      expect(await waitForJob(crm, 'ingest', ingest.id)).toMatchObject({ numberRecordsProcessed: 4_500 });

      const read = async (soql: string) => {
        const created = await json('/jobs/query', 'POST', { operation: 'query', query: soql });
        const job = await waitFor((created.body as JobInfo).id);
        const pages: string[][][] = [];
        let locator = '';
        do {
          const r = await crm.api(
            `/jobs/query/${job.id}/results?maxRecords=3000${locator ? `&locator=${locator}` : ''}`,
          );
          const [, ...rows] = parse(await r.text()) as string[][];
          expect(r.headers.get('sforce-numberofrecords')).toBe(String(rows.length));
          pages.push(rows);
          locator = r.headers.get('sforce-locator') ?? 'null';
        } while (locator !== 'null');
        return pages;
      };
      const names = (i: number) => `Chunk${String(i).padStart(5, '0')}`;
      const all = await read(
        `SELECT LastName, Company FROM Lead WHERE Company = 'Chunked, Inc' ORDER BY LastName`,
      );
      expect(all.map((page) => page.length)).toEqual([3_000, 1_500]);
      expect(all.flat()).toEqual(Array.from({ length: 4_500 }, (_, i) => [names(i), 'Chunked, Inc']));
      const limited = await read(
        `SELECT LastName FROM Lead WHERE Company = 'Chunked, Inc' ORDER BY LastName DESC LIMIT 4100`,
      );
      expect(limited.map((page) => page.length)).toEqual([3_000, 1_100]);
      expect(limited.flat().map(([name]) => name)).toEqual(
        Array.from({ length: 4_100 }, (_, i) => names(4_499 - i)),
      );
    });

    it('answers 412 JOB_NOT_COMPLETE for the results of an unfinished job, and refuses bad queries at creation', async () => {
      const bad = await json('/jobs/query', 'POST', { query: 'SELECT Nope__c FROM Lead' });
      expect(bad.status).toBe(400);
      expect((bad.body as Array<{ errorCode: string }>)[0]?.errorCode).toBe('INVALID_FIELD');
      const aggregate = await json('/jobs/query', 'POST', { query: 'SELECT COUNT() FROM Lead' });
      expect(aggregate.status).toBe(400);

      const created = (await json('/jobs/query', 'POST', { query: 'SELECT Id FROM Lead' })).body as JobInfo;
      await waitFor(created.id);
      // Hold the job in progress (as a long query would be) to read its results too early.
      await updateJob(crm.database.db, created.id, {
        state: 'InProgress',
        systemModstamp: new Date().toISOString(),
      });
      const early = await crm.api(`/jobs/query/${created.id}/results`);
      expect(early.status).toBe(412);
      expect(((await early.json()) as Array<{ errorCode: string }>)[0]?.errorCode).toBe('JOB_NOT_COMPLETE');
      expect((await json(`/jobs/query/${created.id}`, 'DELETE')).status).toBe(400);
      await updateJob(crm.database.db, created.id, {
        state: 'JobComplete',
        systemModstamp: new Date().toISOString(),
      });
      const lateAbort = await json(`/jobs/query/${created.id}`, 'PATCH', { state: 'Aborted' });
      expect((lateAbort.body as Array<{ errorCode: string }>)[0]?.errorCode).toBe('INVALIDJOBSTATE');
      expect((await json(`/jobs/query/${created.id}`, 'DELETE')).status).toBe(204);
    });

    it('rejects a forged locator', async () => {
      const created = (await json('/jobs/query', 'POST', { query: 'SELECT Id FROM Lead' })).body as JobInfo;
      await waitFor(created.id);
      const r = await crm.api(`/jobs/query/${created.id}/results?locator=not-a-locator`);
      expect(r.status).toBe(400);
      expect(((await r.json()) as Array<{ errorCode: string }>)[0]?.errorCode).toBe('INVALID_QUERY_LOCATOR');
    });
  });
}
