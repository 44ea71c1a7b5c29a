import jsforce from 'jsforce';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.js';
import { startTestCrm, type TestCrm } from '../support/crm-server.js';
import { HOT_LEADS_NEED_PHONE, leadKeyField } from '../support/factories.js';

const xml = new XMLParser({
  parseTagValue: false,
  isArray: (name) => name === 'batchInfo' || name === 'result',
});
const NS = 'http://www.force.com/2009/06/asyncapi/dataload';

for (const dialect of DIALECTS) {
  describe(`Bulk API 1.0 (${dialect})`, () => {
    let crm: TestCrm;
    let conn: jsforce.Connection;
    let session: string;

    beforeAll(async () => {
      crm = await startTestCrm({
        dialect,
        config: {
          customFields: [leadKeyField('Legacy_Key__c')],
          validationRules: [HOT_LEADS_NEED_PHONE],
        },
      });
      conn = await crm.connect();
      conn.bulk.pollInterval = 50;
      conn.bulk.pollTimeout = 60_000;
      session = await crm.token();
    });

    afterAll(async () => {
      await crm.close();
    });

    /** A raw Bulk API 1.0 call, with the session header jsforce and Data Loader send. */
    const async = async (
      path: string,
      init: { method?: string; body?: string; type?: string; session?: string | null } = {},
    ) => {
      const headers: Record<string, string> = {};
      if (init.session !== null) headers['x-sfdc-session'] = init.session ?? session;
      if (init.type) headers['content-type'] = init.type;
      const r = await fetch(`${crm.url}/services/async/60.0${path}`, {
        method: init.method ?? 'GET',
        headers,
        body: init.body,
      });
      return { status: r.status, type: r.headers.get('content-type') ?? '', text: await r.text() };
    };
    const jobXml = (fields: Record<string, string>) =>
      `<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="${NS}">${Object.entries(fields)
        .map(([k, v]) => `<${k}>${v}</${k}>`)
        .join('')}</jobInfo>`;
    const settled = async () => crm.services.bulk1.idle();

    it('inserts, updates, upserts and deletes with jsforce’s bulk API, a result per record in order', async () => {
      const inserted = await conn.bulk.load('Lead', 'insert', [
        { LastName: 'Ada', Company: 'Engines', Legacy_Key__c: 'k-1' },
        { LastName: 'Grace', Company: 'Navy', Legacy_Key__c: 'k-2' },
        { Company: 'No name' },
      ]);
      expect(inserted.map((r) => [r.success, r.created])).toEqual([
        [true, true],
        [true, true],
        [false, false],
      ]);
      expect(inserted[2]!.errors[0]).toMatch(/^REQUIRED_FIELD_MISSING:.*LastName/);
      const [ada, grace] = inserted.map((r) => r.id!);

      const updated = await conn.bulk.load('Lead', 'update', [{ Id: ada, Title: 'Countess' }]);
      expect(updated[0]).toMatchObject({ id: ada, success: true, created: false });

      const upserted = await conn.bulk.load('Lead', 'upsert', { extIdField: 'Legacy_Key__c' }, [
        // jsforce writes the CSV header from the first record: both carry the same fields.
        { Legacy_Key__c: 'k-2', LastName: 'Grace', Company: 'Navy', Title: 'Admiral' },
        { Legacy_Key__c: 'k-3', LastName: 'Hedy', Company: 'Films', Title: null },
      ]);
      expect(upserted.map((r) => [r.id === grace, r.success, r.created])).toEqual([
        [true, true, false],
        [false, true, true],
      ]);
      const titles = await conn.query<{ LastName: string; Title: string | null }>(
        'SELECT LastName, Title FROM Lead WHERE Legacy_Key__c != null ORDER BY LastName',
      );
      expect(titles.records.map((r) => [r.LastName, r.Title])).toEqual([
        ['Ada', 'Countess'],
        ['Grace', 'Admiral'],
        ['Hedy', null],
      ]);

      const deleted = await conn.bulk.load('Lead', 'delete', [{ Id: ada }]);
      expect(deleted[0]).toMatchObject({ id: ada, success: true });
      const gone = await conn.query(`SELECT Id FROM Lead WHERE Id = '${ada}'`);
      expect(gone.totalSize).toBe(0);
      const binned = await conn.query(`SELECT Id, IsDeleted FROM Lead WHERE Id = '${ada}'`, {
        scanAll: true,
      });
      expect(binned.records[0]).toMatchObject({ IsDeleted: true });
    });

    it('refuses an empty batch as ClientInputError, which jsforce raises by that name', async () => {
      let error: Error | null = null;
      try {
        await conn.bulk.load('Lead', 'update', []);
      } catch (e) {
        error = e as Error;
      }
      expect(error?.name).toBe('ClientInputError');
    });

    it('queries with jsforce’s bulk API, the result file streamed as CSV', async () => {
      await conn.bulk.load(
        'Lead',
        'insert',
        Array.from({ length: 30 }, (_, i) => ({ LastName: `Q${i}`, Company: 'Query Co' })),
      );
      const records: Array<Record<string, string>> = [];
      const stream = await conn.bulk.query("SELECT Id, LastName FROM Lead WHERE Company = 'Query Co'");
      await new Promise<void>((resolve, reject) => {
        stream.on('record', (r: Record<string, string>) => records.push(r));
        stream.on('end', resolve);
        stream.on('error', reject);
      });
      expect(records).toHaveLength(30);
      expect(new Set(records.map((r) => r.LastName)).size).toBe(30);
      expect(records[0]!.Id).toMatch(/^00Q/);
    });

    it('takes XML jobs and batches and answers XML: states, counters, results, the request file', async () => {
      const created = await async('/job', {
        method: 'POST',
        type: 'application/xml; charset=UTF-8',
        body: jobXml({ operation: 'insert', object: 'Lead', contentType: 'XML' }),
      });
      expect(created.status).toBe(201);
      expect(created.type).toContain('application/xml');
      const job = xml.parse(created.text).jobInfo;
      expect(job).toMatchObject({ operation: 'insert', object: 'Lead', state: 'Open', contentType: 'XML' });
      expect(job.id).toMatch(/^750/);

      const body = `<?xml version="1.0" encoding="UTF-8"?><sObjects xmlns="${NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
        <sObject><LastName>Xml &amp; Co</LastName><Company>X</Company></sObject>
        <sObject><LastName>Hot</LastName><Company>X</Company><Rating>Hot</Rating><Phone xsi:nil="true"/></sObject>
      </sObjects>`;
      const added = await async(`/job/${job.id}/batch`, { method: 'POST', type: 'application/xml', body });
      expect(added.status).toBe(201);
      const batch = xml.parse(added.text).batchInfo[0];
      expect(batch).toMatchObject({ jobId: job.id, state: 'Queued' });
      await settled();

      const info = xml.parse((await async(`/job/${job.id}/batch/${batch.id}`)).text).batchInfo[0];
      expect(info).toMatchObject({
        state: 'Completed',
        numberRecordsProcessed: '2',
        numberRecordsFailed: '1',
      });
      const results = xml.parse((await async(`/job/${job.id}/batch/${batch.id}/result`)).text).results.result;
      expect(results[0]).toMatchObject({ success: 'true', created: 'true' });
      expect(results[1]).toMatchObject({
        success: 'false',
        created: 'false',
        errors: {
          statusCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
          message: 'A hot lead needs a phone number',
        },
      });
      const stored = await crm.call(`/sobjects/Lead/${results[0].id}`, 'GET');
      expect(stored.body).toMatchObject({ LastName: 'Xml & Co' });

      const request = await async(`/job/${job.id}/batch/${batch.id}/request`);
      expect(request.text).toBe(body);
      const list = xml.parse((await async(`/job/${job.id}/batch`)).text).batchInfoList.batchInfo;
      expect(list.map((b: { id: string }) => b.id)).toEqual([batch.id]);

      const closed = await async(`/job/${job.id}`, {
        method: 'POST',
        type: 'application/xml',
        body: jobXml({ state: 'Closed' }),
      });
      expect(xml.parse(closed.text).jobInfo).toMatchObject({
        state: 'Closed',
        numberBatchesCompleted: '1',
        numberBatchesTotal: '1',
        numberRecordsProcessed: '2',
        numberRecordsFailed: '1',
      });
      // A closed job takes no more batches.
      const late = await async(`/job/${job.id}/batch`, { method: 'POST', type: 'application/xml', body });
      expect(late.status).toBe(400);
      expect(xml.parse(late.text).error).toMatchObject({ exceptionCode: 'InvalidJobState' });
    });

    it('takes JSON jobs and batches and answers JSON, nulls included', async () => {
      const id = await crm.create('Lead', { LastName: 'Json', Company: 'J', Title: 'Before' });
      const created = await async('/job', {
        method: 'POST',
        type: 'application/json',
        body: JSON.stringify({ operation: 'update', object: 'Lead', contentType: 'JSON' }),
      });
      expect(created.status).toBe(201);
      const job = JSON.parse(created.text) as { id: string; apiVersion: number; state: string };
      expect(job).toMatchObject({ state: 'Open', apiVersion: 60 });
      const added = await async(`/job/${job.id}/batch`, {
        method: 'POST',
        type: 'application/json',
        body: JSON.stringify([{ Id: id, Title: null, Phone: '555' }]),
      });
      const batch = JSON.parse(added.text) as { id: string; state: string };
      await settled();
      const results = JSON.parse((await async(`/job/${job.id}/batch/${batch.id}/result`)).text);
      expect(results).toEqual([{ success: true, created: false, id, errors: [] }]);
      expect((await crm.call(`/sobjects/Lead/${id}`, 'GET')).body).toMatchObject({
        Title: null,
        Phone: '555',
      });
      const info = JSON.parse((await async(`/job/${job.id}`)).text);
      expect(info).toMatchObject({ numberBatchesCompleted: 1, numberRecordsProcessed: 1 });
    });

    it('fails a batch that names an unknown field, saying why in stateMessage', async () => {
      const created = await async('/job', {
        method: 'POST',
        type: 'application/xml',
        body: jobXml({ operation: 'insert', object: 'Lead', contentType: 'CSV' }),
      });
      const job = xml.parse(created.text).jobInfo;
      const added = await async(`/job/${job.id}/batch`, {
        method: 'POST',
        type: 'text/csv',
        body: 'LastName,Company,Nonsense__c\nA,B,C\n',
      });
      const batch = xml.parse(added.text).batchInfo[0];
      await settled();
      const info = xml.parse((await async(`/job/${job.id}/batch/${batch.id}`)).text).batchInfo[0];
      expect(info).toMatchObject({
        state: 'Failed',
        stateMessage: 'InvalidBatch : Field name not found : Nonsense__c',
      });
      const results = await async(`/job/${job.id}/batch/${batch.id}/result`);
      expect(xml.parse(results.text).error).toMatchObject({ exceptionCode: 'InvalidBatch' });
      expect((await conn.query("SELECT Id FROM Lead WHERE LastName = 'A' AND Company = 'B'")).totalSize).toBe(
        0,
      );
    });

    it('runs a query job in JSON, with a result list and the result file; PK chunking headers are accepted', async () => {
      const created = await fetch(`${crm.url}/services/async/60.0/job`, {
        method: 'POST',
        headers: {
          'x-sfdc-session': session,
          'content-type': 'application/json',
          'Sforce-Enable-PKChunking': 'chunkSize=50000',
        },
        body: JSON.stringify({ operation: 'query', object: 'Lead', contentType: 'JSON' }),
      });
      expect(created.status).toBe(201);
      const job = (await created.json()) as { id: string };
      const added = await async(`/job/${job.id}/batch`, {
        method: 'POST',
        type: 'application/json',
        body: "SELECT Id, LastName, Owner.Name FROM Lead WHERE Company = 'Query Co' ORDER BY LastName LIMIT 3",
      });
      const batch = JSON.parse(added.text) as { id: string };
      await settled();
      const ids = JSON.parse((await async(`/job/${job.id}/batch/${batch.id}/result`)).text) as string[];
      expect(ids).toHaveLength(1);
      expect(ids[0]).toMatch(/^752/);
      const file = await async(`/job/${job.id}/batch/${batch.id}/result/${ids[0]}`);
      expect(file.type).toContain('application/json');
      const records = JSON.parse(file.text) as Array<Record<string, unknown>>;
      expect(records.map((r) => r.LastName)).toEqual(['Q0', 'Q1', 'Q10']);
      expect(records[0]).toMatchObject({ attributes: { type: 'Lead' }, Owner: { Name: expect.any(String) } });
    });

    it('answers each error in the AsyncApiException shape, in XML or JSON', async () => {
      const noSession = await async('/job', {
        method: 'POST',
        type: 'application/xml',
        body: jobXml({ operation: 'insert', object: 'Lead' }),
        session: 'not-a-session',
      });
      expect(noSession.status).toBe(400);
      expect(noSession.text).toContain('<exceptionCode>InvalidSessionId</exceptionCode>');
      const missing = await async('/job/750000000000000AAA');
      expect(xml.parse(missing.text).error).toMatchObject({ exceptionCode: 'InvalidJob' });
      const entity = await async('/job', {
        method: 'POST',
        type: 'application/json',
        body: JSON.stringify({ operation: 'insert', object: 'Nope__c', contentType: 'CSV' }),
      });
      expect(entity.status).toBe(400);
      expect(JSON.parse(entity.text)).toEqual({
        exceptionCode: 'InvalidEntity',
        exceptionMessage: "Entity 'Nope__c' is not supported by the Bulk API.",
      });
      const operation = await async('/job', {
        method: 'POST',
        type: 'application/xml',
        body: jobXml({ operation: 'merge', object: 'Lead' }),
      });
      expect(xml.parse(operation.text).error).toMatchObject({ exceptionCode: 'InvalidJob' });
      const badXml = await async('/job', {
        method: 'POST',
        type: 'application/xml',
        body: '<jobInfo><operation>',
      });
      expect(badXml.status).toBe(400);
      const upsertWithoutKey = await async('/job', {
        method: 'POST',
        type: 'application/xml',
        body: jobXml({ operation: 'upsert', object: 'Lead' }),
      });
      expect(xml.parse(upsertWithoutKey.text).error).toMatchObject({ exceptionCode: 'InvalidJob' });
      const created = await async('/job', {
        method: 'POST',
        type: 'application/xml',
        body: jobXml({ operation: 'insert', object: 'Lead', contentType: 'CSV' }),
      });
      const job = xml.parse(created.text).jobInfo;
      const batch = await async(`/job/${job.id}/batch/751000000000000AAA`);
      expect(xml.parse(batch.text).error).toMatchObject({ exceptionCode: 'InvalidBatch' });
      const wrongType = await async(`/job/${job.id}/batch`, {
        method: 'POST',
        type: 'application/json',
        body: '[]',
      });
      expect(JSON.parse(wrongType.text)).toMatchObject({ exceptionCode: 'InvalidBatch' });
      const nowhere = await async('/nowhere');
      expect(nowhere.status).toBe(404);
      expect(xml.parse(nowhere.text).error).toMatchObject({ exceptionCode: 'InvalidUrl' });
      // An aborted job takes nothing more either.
      await async(`/job/${job.id}`, {
        method: 'POST',
        type: 'application/xml',
        body: jobXml({ state: 'Aborted' }),
      });
      const afterAbort = await async(`/job/${job.id}`);
      expect(xml.parse(afterAbort.text).jobInfo).toMatchObject({ state: 'Aborted' });
      const reopen = await async(`/job/${job.id}`, {
        method: 'POST',
        type: 'application/xml',
        body: jobXml({ state: 'Closed' }),
      });
      expect(xml.parse(reopen.text).error).toMatchObject({ exceptionCode: 'InvalidJobState' });
    });
  });
}
