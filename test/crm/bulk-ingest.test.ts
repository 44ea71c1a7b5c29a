import type jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.js';
import { waitForJob, type JobInfo } from '../support/bulk-jobs.js';
import { startTestCrm, type TestCrm } from '../support/crm-server.js';
import { leadKeyField } from '../support/factories.js';

for (const dialect of DIALECTS) {
  describe(`Bulk API 2.0 ingest (${dialect})`, () => {
    let crm: TestCrm;
    let conn: jsforce.Connection;

    beforeAll(async () => {
      crm = await startTestCrm({
        dialect,
        config: {
          customFields: [leadKeyField('Import_Key__c', { length: 40 })],
        },
      });
      conn = await crm.connect();
      conn.bulk2.pollInterval = 25;
      conn.bulk2.pollTimeout = 20_000;
    });

    afterAll(async () => {
      await crm.close();
    });

    const json = (path: string, method: string, body?: unknown) => crm.call(path, method, body);
    const upload = (id: string, csv: string) =>
      crm.api(`/jobs/ingest/${id}/batches`, {
        method: 'PUT',
        body: csv,
        headers: { 'content-type': 'text/csv' },
      });
    const waitFor = (id: string) => waitForJob(crm, 'ingest', id);
    const count = async (where: string) =>
      (await conn.query(`SELECT COUNT() FROM Lead WHERE ${where}`)).totalSize;

    it('loads records with jsforce’s bulk2.loadAndWaitForResults, reporting each row’s outcome', async () => {
      const results = await conn.bulk2.loadAndWaitForResults({
        object: 'Lead',
        operation: 'insert',
        input: [
          { LastName: 'Bulk One', Company: 'Bulk Co', Email: 'one@bulk.example' },
          { LastName: 'Bulk Two', Company: 'Bulk Co', Email: 'not-an-email' },
          { LastName: 'Bulk Three', Company: 'Bulk Co', NumberOfEmployees: 12 },
        ],
      });
      expect(results.successfulResults.map((r) => (r as Record<string, unknown>).LastName)).toEqual([
        'Bulk One',
        'Bulk Three',
      ]);
      expect(String(results.successfulResults[0]?.sf__Created)).toBe('true');
      expect(String(results.successfulResults[0]?.sf__Id)).toMatch(/^00Q/);
      expect(results.failedResults).toHaveLength(1);
      expect(results.failedResults[0]?.sf__Error).toContain('INVALID_EMAIL_ADDRESS');
      expect((results.failedResults[0] as Record<string, unknown> | undefined)?.LastName).toBe('Bulk Two');
      expect(await count(`Company = 'Bulk Co'`)).toBe(2);
    });

    it('walks the job through its states over raw HTTP, with several uploads, CRLF and pipes', async () => {
      const created = await json('/jobs/ingest', 'POST', {
        object: 'Lead',
        operation: 'insert',
        lineEnding: 'CRLF',
        columnDelimiter: 'PIPE',
      });
      expect(created.status).toBe(200);
      const job = created.body as JobInfo;
      expect(job).toMatchObject({
        state: 'Open',
        contentUrl: `services/data/v60.0/jobs/ingest/${job.id}/batches`,
      });
      expect(job.id).toMatch(/^750/);
      expect(
        (await upload(job.id, 'LastName|Company|City\r\nPipe A|Pipes Inc|"Oslo|Norway"\r\n')).status,
      ).toBe(201);
      expect((await upload(job.id, 'LastName|Company|City\r\nPipe B|Pipes Inc|Bergen\r\n')).status).toBe(201);
      const closed = await json(`/jobs/ingest/${job.id}`, 'PATCH', { state: 'UploadComplete' });
      expect((closed.body as JobInfo).state).toMatch(/UploadComplete|InProgress|JobComplete/);
      const done = await waitFor(job.id);
      expect(done).toMatchObject({ state: 'JobComplete', numberRecordsProcessed: 2, numberRecordsFailed: 0 });
      const cities = await conn.query(`SELECT City FROM Lead WHERE Company = 'Pipes Inc' ORDER BY LastName`);
      expect(cities.records.map((r) => r.City)).toEqual(['Oslo|Norway', 'Bergen']);
      const success = await crm.api(`/jobs/ingest/${job.id}/successfulResults`);
      expect(success.headers.get('content-type')).toContain('text/csv');
      expect((await success.text()).split('\r\n')[0]).toBe(
        '"sf__Id"|"sf__Created"|"LastName"|"Company"|"City"',
      );
    });

    it('completes a job whose upload is empty with 0 records, as Salesforce does', async () => {
      const job = (await json('/jobs/ingest', 'POST', { object: 'Lead', operation: 'insert' }))
        .body as JobInfo;
      expect((await upload(job.id, '')).status).toBe(201);
      expect((await json(`/jobs/ingest/${job.id}`, 'PATCH', { state: 'UploadComplete' })).status).toBe(200);
      expect(await waitFor(job.id)).toMatchObject({
        state: 'JobComplete',
        numberRecordsProcessed: 0,
        numberRecordsFailed: 0,
      });
    });

    it('refuses what the state machine does not allow', async () => {
      const job = (await json('/jobs/ingest', 'POST', { object: 'Lead', operation: 'insert' }))
        .body as JobInfo;
      const empty = await json(`/jobs/ingest/${job.id}`, 'PATCH', { state: 'UploadComplete' });
      expect(empty.status).toBe(400);
      expect((empty.body as Array<{ errorCode: string }>)[0]?.errorCode).toBe('INVALIDJOBSTATE');
      const openDelete = await json(`/jobs/ingest/${job.id}`, 'DELETE');
      expect((openDelete.body as Array<{ errorCode: string }>)[0]?.errorCode).toBe('INVALIDJOBSTATE');
      expect((await json(`/jobs/ingest/${job.id}`, 'PATCH', { state: 'Aborted' })).status).toBe(200);
      const late = await upload(job.id, 'LastName,Company\nLate,Co\n');
      expect(late.status).toBe(400);
      expect(((await late.json()) as Array<{ errorCode: string }>)[0]?.errorCode).toBe('INVALIDJOBSTATE');
      expect((await json(`/jobs/ingest/${job.id}`, 'PATCH', { state: 'UploadComplete' })).status).toBe(400);
      expect((await json(`/jobs/ingest/${job.id}`, 'DELETE')).status).toBe(204);
      expect((await json(`/jobs/ingest/${job.id}`, 'GET')).status).toBe(404);
    });

    it('refuses a malformed job at creation', async () => {
      const noExternal = await json('/jobs/ingest', 'POST', { object: 'Lead', operation: 'upsert' });
      expect(noExternal.status).toBe(400);
      const badObject = await json('/jobs/ingest', 'POST', { object: 'Spaceship__c', operation: 'insert' });
      expect((badObject.body as Array<{ errorCode: string }>)[0]?.errorCode).toBe('INVALID_TYPE');
    });

    it('fails the job, naming the column, when the CSV has a field the object lacks', async () => {
      const job = (await json('/jobs/ingest', 'POST', { object: 'Lead', operation: 'insert' }))
        .body as JobInfo;
      await upload(job.id, 'LastName,Company,Shoe_Size__c\nX,Y,42\n');
      await json(`/jobs/ingest/${job.id}`, 'PATCH', { state: 'UploadComplete' });
      const done = await waitFor(job.id);
      expect(done.state).toBe('Failed');
      expect(done.errorMessage).toContain('Shoe_Size__c');
      expect(await count(`LastName = 'X' AND Company = 'Y'`)).toBe(0);
    });

    it('upserts by external id, updates with #N/A to clear a field, and deletes, softly and for good', async () => {
      const upsert = await conn.bulk2.loadAndWaitForResults({
        object: 'Lead',
        operation: 'upsert',
        externalIdFieldName: 'Import_Key__c',
        input: 'Import_Key__c,LastName,Company,Title\nk1,Keyed One,Keyed Co,CEO\nk2,Keyed Two,Keyed Co,CTO\n',
      });
      expect(upsert.successfulResults.map((r) => String(r.sf__Created))).toEqual(['true', 'true']);
      const again = await conn.bulk2.loadAndWaitForResults({
        object: 'Lead',
        operation: 'upsert',
        externalIdFieldName: 'Import_Key__c',
        input: 'Import_Key__c,Title\nK1,Chair\n',
      });
      expect(String(again.successfulResults[0]?.sf__Created)).toBe('false');
      expect(again.successfulResults[0]?.sf__Id).toBe(upsert.successfulResults[0]?.sf__Id);

      const ids = upsert.successfulResults.map((r) => String(r.sf__Id));
      await conn.bulk2.loadAndWaitForResults({
        object: 'Lead',
        operation: 'update',
        input: `Id,Title,Phone\n${ids[0]},#N/A,555\n`,
      });
      const updated = (await conn.sobject('Lead').retrieve(ids[0] as string)) as Record<string, unknown>;
      expect(updated).toMatchObject({ Title: null, Phone: '555', LastName: 'Keyed One' });

      await conn.bulk2.loadAndWaitForResults({
        object: 'Lead',
        operation: 'delete',
        input: `Id\n${ids[0]}\n`,
      });
      await conn.bulk2.loadAndWaitForResults({
        object: 'Lead',
        operation: 'hardDelete',
        input: `Id\n${ids[1]}\n`,
      });
      const binned = await conn
        .query(`SELECT Id FROM Lead WHERE Company = 'Keyed Co'`)
        .then((r) => r.totalSize);
      const all = await conn.query(`SELECT Id FROM Lead WHERE Company = 'Keyed Co'`).scanAll(true);
      expect(binned).toBe(0);
      expect(all.records.map((r) => r.Id)).toEqual([ids[0]]);
    });

    it('answers other requests while a large job runs, its status polls showing its progress', async () => {
      const rows = 20_000;
      const created = (await json('/jobs/ingest', 'POST', { object: 'Lead', operation: 'insert' }))
        .body as JobInfo;
      const lines = ['LastName,Company,Email'];
      for (let i = 0; i < rows; i++) lines.push(`Large ${i},Large Co,large${i}@bulk.example`);
      expect((await upload(created.id, `${lines.join('\n')}\n`)).status).toBe(201);
      await json(`/jobs/ingest/${created.id}`, 'PATCH', { state: 'UploadComplete' });
      const seen: Array<[string, number]> = [];
      for (;;) {
        const job = (await json(`/jobs/ingest/${created.id}`, 'GET')).body as JobInfo;
        seen.push([job.state, job.numberRecordsProcessed]);
        if (job.state === 'JobComplete' || job.state === 'Failed') break;
      }
      // Polled between its chunks: in progress, part done, as Salesforce answers a job's status.
      expect(seen.some(([state, done]) => state === 'InProgress' && done > 0 && done < rows)).toBe(true);
      expect(seen.at(-1)).toEqual(['JobComplete', rows]);
    });

    it('lists jobs', async () => {
      const { body } = await json('/jobs/ingest', 'GET');
      expect((body as { done: boolean; records: JobInfo[] }).records.length).toBeGreaterThan(3);
    });
  });
}
