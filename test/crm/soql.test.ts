import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.js';
import { startTestCrm, type TestCrm } from '../support/crm-server.js';

interface QueryBody {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
  records: Array<Record<string, unknown>>;
}

const NOW = new Date('2026-11-22T12:00:00.000Z');

for (const dialect of DIALECTS) {
  describe(`SOQL (${dialect})`, () => {
    let crm: TestCrm;
    const company = 'Soql Test Co';
    const ids: Record<string, string> = {};

    const query = async (soql: string, headers: Record<string, string> = {}) => {
      const r = await crm.api(`/query?q=${encodeURIComponent(soql)}`, { headers });
      return {
        status: r.status,
        body: (await r.json()) as QueryBody & Array<{ errorCode: string; message: string }>,
      };
    };
    const names = async (where: string, order = 'LastName') =>
      (
        await query(`SELECT LastName FROM Lead WHERE Company = '${company}' AND (${where}) ORDER BY ${order}`)
      ).body.records.map((r) => r.LastName);

    beforeAll(async () => {
      crm = await startTestCrm({ dialect, now: () => NOW });
      ids.acme = await crm.create('Account', { Name: 'Acme', Industry: 'Technology' });
      const leads = [
        {
          LastName: 'Alpha',
          Email: 'alpha@example.com',
          NumberOfEmployees: 10,
          LeadSource: 'Web',
          AnnualRevenue: 1000,
        },
        {
          LastName: 'bravo',
          Email: 'BRAVO@Example.com',
          NumberOfEmployees: 50,
          LeadSource: 'Web',
          AnnualRevenue: 2000,
        },
        {
          LastName: 'Charlie',
          Email: null,
          NumberOfEmployees: 50,
          LeadSource: 'Phone Inquiry',
          AnnualRevenue: 3000,
        },
        {
          LastName: "O'Brien",
          Email: 'ob@example.com',
          NumberOfEmployees: null,
          LeadSource: null,
          AnnualRevenue: null,
        },
        {
          LastName: '100%_sure',
          Email: 'pct@example.com',
          NumberOfEmployees: 5,
          LeadSource: 'Other',
          AnnualRevenue: 10,
        },
      ];
      for (const lead of leads) ids[lead.LastName] = await crm.create('Lead', { ...lead, Company: company });
      ids.contact = await crm.create('Contact', {
        LastName: 'Kim',
        AccountId: ids.acme,
        Email: 'kim@acme.com',
      });
      ids.orphan = await crm.create('Contact', { LastName: 'Orphan' });
    });

    afterAll(async () => {
      await crm.close();
    });

    it('filters with comparisons, case-insensitive equality on text, and exact equality on ids', async () => {
      expect(await names(`Email = 'bravo@example.com'`)).toEqual(['bravo']);
      expect(await names('NumberOfEmployees > 10')).toEqual(['bravo', 'Charlie']);
      expect(await names('NumberOfEmployees <= 10')).toEqual(['100%_sure', 'Alpha']);
      expect(await names(`Id = '${ids.Alpha}'`)).toEqual(['Alpha']);
      expect(await names(`Id = '${(ids.Alpha as string).slice(0, 15)}'`)).toEqual(['Alpha']);
    });

    it('treats != and NOT IN as matching nulls too, as SOQL does', async () => {
      expect(await names(`LeadSource != 'Web'`)).toEqual(['100%_sure', 'Charlie', "O'Brien"]);
      expect(await names(`LeadSource NOT IN ('Web', 'Other')`)).toEqual(['Charlie', "O'Brien"]);
    });

    it('filters on null, IN lists, AND/OR/NOT with parentheses in SOQL precedence', async () => {
      expect(await names('Email = null')).toEqual(['Charlie']);
      expect(await names('Email != null AND NumberOfEmployees = null')).toEqual(["O'Brien"]);
      expect(await names(`LeadSource IN ('web', 'Other')`)).toEqual(['100%_sure', 'Alpha', 'bravo']);
      expect(
        await names(`NumberOfEmployees = 50 OR LastName = 'Alpha' AND LeadSource = 'Phone Inquiry'`),
      ).toEqual(['bravo', 'Charlie']);
      expect(await names(`(NumberOfEmployees = 50 OR LastName = 'Alpha') AND LeadSource = 'Web'`)).toEqual([
        'Alpha',
        'bravo',
      ]);
      expect(await names(`NOT (LeadSource = 'Web')`)).toEqual(['100%_sure', 'Charlie']);
    });

    it('matches LIKE case-insensitively, with % and _ wildcards and escaped literals', async () => {
      expect(await names(`LastName LIKE 'b%'`)).toEqual(['bravo']);
      expect(await names(`LastName LIKE '_lpha'`)).toEqual(['Alpha']);
      expect(await names(`LastName LIKE '100\\%\\_%'`)).toEqual(['100%_sure']);
    });

    it('reads string literals with escaped quotes, and never lets a value reach the SQL', async () => {
      expect(await names(`LastName = 'O\\'Brien'`)).toEqual(["O'Brien"]);
      expect(await names(`LastName = 'x\\' OR 1=1 --'`)).toEqual([]);
      const { body } = await query(`SELECT COUNT() FROM Lead`);
      expect(body.totalSize).toBe(5);
    });

    it('orders with ASC/DESC and NULLS FIRST/LAST, and applies LIMIT and OFFSET', async () => {
      expect(await names('LastName != null', 'NumberOfEmployees DESC NULLS FIRST, LastName')).toEqual([
        "O'Brien",
        'bravo',
        'Charlie',
        'Alpha',
        '100%_sure',
      ]);
      expect(await names('LastName != null', 'NumberOfEmployees ASC NULLS LAST, LastName')).toEqual([
        '100%_sure',
        'Alpha',
        'bravo',
        'Charlie',
        "O'Brien",
      ]);
      const { body } = await query(
        `SELECT LastName FROM Lead WHERE Company = '${company}' ORDER BY LastName LIMIT 2 OFFSET 1`,
      );
      expect(body.records.map((r) => r.LastName)).toEqual(['Alpha', 'bravo']);
      expect(body.totalSize).toBe(2);
    });

    it('follows parent relationships in fields, filters and ordering, with null for a missing parent', async () => {
      const { body } = await query(
        `SELECT LastName, Account.Name, Account.Owner.Name, Owner.Name FROM Contact WHERE LastName IN ('Kim', 'Orphan') ORDER BY LastName`,
      );
      expect(body.records).toEqual([
        {
          attributes: { type: 'Contact', url: `/services/data/v60.0/sobjects/Contact/${ids.contact}` },
          LastName: 'Kim',
          Account: {
            attributes: { type: 'Account', url: `/services/data/v60.0/sobjects/Account/${ids.acme}` },
            Name: 'Acme',
            Owner: {
              attributes: { type: 'User', url: `/services/data/v60.0/sobjects/User/${crm.adminUserId}` },
              Name: 'Ada Admin',
            },
          },
          Owner: {
            attributes: { type: 'User', url: `/services/data/v60.0/sobjects/User/${crm.adminUserId}` },
            Name: 'Ada Admin',
          },
        },
        {
          attributes: { type: 'Contact', url: `/services/data/v60.0/sobjects/Contact/${ids.orphan}` },
          LastName: 'Orphan',
          Account: null,
          Owner: {
            attributes: { type: 'User', url: `/services/data/v60.0/sobjects/User/${crm.adminUserId}` },
            Name: 'Ada Admin',
          },
        },
      ]);
      const filtered = await query(`SELECT LastName FROM Contact WHERE Account.Industry = 'technology'`);
      expect(filtered.body.records.map((r) => r.LastName)).toEqual(['Kim']);
    });

    it('compares datetimes with literals and date literals like TODAY and LAST_N_DAYS', async () => {
      // Every record was created at NOW (the test clock).
      expect((await query(`SELECT COUNT() FROM Lead WHERE CreatedDate = TODAY`)).body.totalSize).toBe(5);
      expect((await query(`SELECT COUNT() FROM Lead WHERE CreatedDate = LAST_N_DAYS:3`)).body.totalSize).toBe(
        5,
      );
      expect((await query(`SELECT COUNT() FROM Lead WHERE CreatedDate = YESTERDAY`)).body.totalSize).toBe(0);
      expect(
        (await query(`SELECT COUNT() FROM Lead WHERE CreatedDate > 2026-11-22T11:59:59Z`)).body.totalSize,
      ).toBe(5);
      expect(
        (await query(`SELECT COUNT() FROM Lead WHERE SystemModstamp > 2026-11-22T12:00:00.000+0000`)).body
          .totalSize,
      ).toBe(0);
      expect((await query(`SELECT COUNT() FROM Lead WHERE CreatedDate < TODAY`)).body.totalSize).toBe(0);
    });

    it('rejects a literal of the wrong type for the field', async () => {
      const { status, body } = await query(`SELECT Id FROM Lead WHERE CreatedDate > '2026-01-01'`);
      expect(status).toBe(400);
      expect(body[0]?.errorCode).toBe('MALFORMED_QUERY');
    });

    it('counts with COUNT() and groups with aggregates', async () => {
      const count = await query(`SELECT COUNT() FROM Lead WHERE NumberOfEmployees = 50`);
      expect(count.body).toEqual({ totalSize: 2, done: true, records: [] });
      const grouped = await query(
        `SELECT LeadSource, COUNT(Id) n, SUM(AnnualRevenue) total, MAX(NumberOfEmployees) FROM Lead WHERE Company = '${company}' GROUP BY LeadSource ORDER BY LeadSource NULLS FIRST`,
      );
      expect(grouped.body.records).toEqual([
        { attributes: { type: 'AggregateResult' }, LeadSource: null, n: 1, total: null, expr0: null },
        { attributes: { type: 'AggregateResult' }, LeadSource: 'Other', n: 1, total: 10, expr0: 5 },
        {
          attributes: { type: 'AggregateResult' },
          LeadSource: 'Phone Inquiry',
          n: 1,
          total: 3000,
          expr0: 50,
        },
        { attributes: { type: 'AggregateResult' }, LeadSource: 'Web', n: 2, total: 3000, expr0: 50 },
      ]);
    });

    it('pages at the batch size with a locator, splitting ties on the sort key without loss or repeats', async () => {
      const batch = Array.from({ length: 500 }, (_, i) => ({
        attributes: { type: 'Lead' },
        LastName: `Tie${i}`,
        Company: 'Paging Co',
        // Only five distinct values: every page boundary falls inside a run of equal sort keys.
        NumberOfEmployees: i % 5,
      }));
      for (let i = 0; i < batch.length; i += 200) {
        const r = await crm.api('/composite/sobjects', {
          method: 'POST',
          body: JSON.stringify({ records: batch.slice(i, i + 200) }),
        });
        expect(r.status).toBe(200);
      }
      const first = await query(
        `SELECT Id, NumberOfEmployees FROM Lead WHERE Company = 'Paging Co' ORDER BY NumberOfEmployees DESC`,
        {
          'Sforce-Query-Options': 'batchSize=200',
        },
      );
      expect(first.body).toMatchObject({ totalSize: 500, done: false });
      expect(first.body.records).toHaveLength(200);
      expect(first.body.nextRecordsUrl).toMatch(/^\/services\/data\/v60\.0\/query\/01g[0-9A-Za-z]+-200$/);
      const all = [...first.body.records];
      let next = first.body.nextRecordsUrl;
      while (next) {
        const r = await crm.api(next.replace('/services/data/v60.0', ''));
        const page = (await r.json()) as QueryBody;
        expect(page.totalSize).toBe(500);
        all.push(...page.records);
        next = page.nextRecordsUrl;
      }
      expect(all).toHaveLength(500);
      expect(new Set(all.map((r) => r.Id)).size).toBe(500);
      const employees = all.map((r) => r.NumberOfEmployees as number);
      expect(employees).toEqual([...employees].sort((a, b) => b - a));
    });

    it('pages correctly when the sort key has nulls, in every direction and null placement', async () => {
      const batch = Array.from({ length: 450 }, (_, i) => ({
        attributes: { type: 'Lead' },
        LastName: `Null${i}`,
        Company: 'Nulls Co',
        NumberOfEmployees: i % 3 === 0 ? null : i % 7,
      }));
      for (let i = 0; i < batch.length; i += 200) {
        await crm.api('/composite/sobjects', {
          method: 'POST',
          body: JSON.stringify({ records: batch.slice(i, i + 200) }),
        });
      }
      const readAll = async (orderBy: string) => {
        const all: Array<Record<string, unknown>> = [];
        let path: string | undefined =
          `/query?q=${encodeURIComponent(`SELECT Id, NumberOfEmployees FROM Lead WHERE Company = 'Nulls Co' ORDER BY ${orderBy}`)}`;
        while (path) {
          const r = await crm.api(path, { headers: { 'Sforce-Query-Options': 'batchSize=200' } });
          const page = (await r.json()) as QueryBody;
          all.push(...page.records);
          path = page.nextRecordsUrl?.replace('/services/data/v60.0', '');
        }
        return all;
      };
      const values = batch.map((b) => b.NumberOfEmployees);
      const nulls = values.filter((v) => v === null);
      const numbers = values.filter((v): v is number => v !== null);
      const asc = [...numbers].sort((a, b) => a - b);
      const desc = [...asc].reverse();
      const cases: Array<[string, Array<number | null>]> = [
        ['NumberOfEmployees', [...nulls, ...asc]],
        ['NumberOfEmployees ASC NULLS LAST', [...asc, ...nulls]],
        ['NumberOfEmployees DESC', [...desc, ...nulls]],
        ['NumberOfEmployees DESC NULLS FIRST', [...nulls, ...desc]],
      ];
      for (const [orderBy, expected] of cases) {
        const all = await readAll(orderBy);
        expect(new Set(all.map((r) => r.Id)).size, orderBy).toBe(450);
        expect(
          all.map((r) => r.NumberOfEmployees),
          orderBy,
        ).toEqual(expected);
      }
    });

    it('answers INVALID_QUERY_LOCATOR for an unknown locator', async () => {
      const r = await crm.api('/query/01gDOESNOTEXIST-2000');
      expect(r.status).toBe(400);
      expect(((await r.json()) as Array<{ errorCode: string }>)[0]?.errorCode).toBe('INVALID_QUERY_LOCATOR');
    });

    it('leaves deleted records out of query and includes them in queryAll', async () => {
      const created = await crm.api('/sobjects/Lead', {
        method: 'POST',
        body: JSON.stringify({ LastName: 'Binned', Company: 'Bin Co' }),
      });
      const { id } = (await created.json()) as { id: string };
      await crm.api(`/sobjects/Lead/${id}`, { method: 'DELETE' });
      const live = await query(`SELECT Id FROM Lead WHERE Company = 'Bin Co'`);
      const all = await crm.api(
        `/queryAll?q=${encodeURIComponent(`SELECT Id, IsDeleted FROM Lead WHERE Company = 'Bin Co'`)}`,
      );
      expect(live.body.totalSize).toBe(0);
      expect(((await all.json()) as QueryBody).records).toEqual([
        {
          attributes: { type: 'Lead', url: `/services/data/v60.0/sobjects/Lead/${id}` },
          Id: id,
          IsDeleted: true,
        },
      ]);
    });

    it('rejects unsupported constructs by name rather than answering wrongly', async () => {
      for (const [soql, named] of [
        ['SELECT TYPEOF What WHEN Account THEN Name END FROM Task', 'TYPEOF'],
        ['SELECT What.Owner.Name FROM Task', 'polymorphic'],
        ['SELECT toLabel(Status) FROM Lead', 'function'],
        ['SELECT LeadSource, COUNT(Id) FROM Lead GROUP BY LeadSource HAVING COUNT(Id) > 1', 'HAVING'],
      ] as const) {
        const { status, body } = await query(soql);
        expect(status).toBe(400);
        expect(body[0]?.errorCode).toBe('MALFORMED_QUERY');
        expect(body[0]?.message).toContain(named);
      }
    });

    it('reads a compound address as one object of its parts, null when all are empty', async () => {
      const contact = await crm.create('Contact', {
        LastName: 'Compound',
        MailingStreet: '1 Main St',
        MailingCity: 'Springfield',
        MailingPostalCode: '12345',
        MailingCountry: 'USA',
      });
      const empty = await crm.create('Contact', { LastName: 'NoAddress' });
      const { status, body } = await query(
        `SELECT Id, MailingAddress, MailingCity FROM Contact WHERE Id IN ('${contact}', '${empty}') ORDER BY LastName`,
      );
      expect(status).toBe(200);
      const [full, none] = body.records;
      expect(full).toMatchObject({
        MailingAddress: {
          city: 'Springfield',
          country: 'USA',
          geocodeAccuracy: null,
          latitude: null,
          longitude: null,
          postalCode: '12345',
          state: null,
          street: '1 Main St',
        },
        MailingCity: 'Springfield',
      });
      expect(Object.keys(full!)).toEqual(['attributes', 'Id', 'MailingAddress', 'MailingCity']);
      expect(none!.MailingAddress).toBeNull();
      // A Lead's is plain Address; compound fields are not for aggregates or Bulk query jobs.
      const leadId = await crm.create('Lead', { LastName: 'Addressed', Company: 'X', City: 'Paris' });
      const lead = await query(`SELECT Address FROM Lead WHERE Id = '${leadId}'`);
      expect(lead.body.records[0]!.Address).toEqual(expect.objectContaining({ city: 'Paris', street: null }));
      expect((await query('SELECT COUNT(Id), BillingAddress FROM Account GROUP BY Name')).status).toBe(400);
      const job = await crm.api('/jobs/query', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ operation: 'query', query: 'SELECT BillingAddress FROM Account' }),
      });
      expect(job.status).toBe(400);
      expect(((await job.json()) as Array<{ errorCode: string; message: string }>)[0]).toMatchObject({
        errorCode: 'FUNCTIONALITY_NOT_ENABLED',
        message: 'Selecting compound data not supported in Bulk Query',
      });
    });

    it('reads a polymorphic parent (Who, What) as the Name object: Id, Name and Type', async () => {
      const lead = await crm.create('Lead', { FirstName: 'Poly', LastName: 'Morph', Company: 'P' });
      const caseId = await crm.create('Case', { Subject: 'Broken' });
      const onAccount = await crm.create('Task', { Subject: 'poly A', WhoId: lead, WhatId: ids.acme });
      const onCase = await crm.create('Task', { Subject: 'poly B', WhatId: caseId });
      const { status, body } = await query(
        "SELECT Subject, Who.Name, Who.Type, What.Id, What.Name, What.Type FROM Task WHERE Subject LIKE 'poly%' ORDER BY Subject",
      );
      expect(status).toBe(200);
      const [a, b] = body.records;
      expect(a).toMatchObject({
        Subject: 'poly A',
        Who: { attributes: { type: 'Lead' }, Name: 'Poly Morph', Type: 'Lead' },
        What: { attributes: { type: 'Account' }, Id: ids.acme, Name: 'Acme', Type: 'Account' },
      });
      expect(b!.Who).toBeNull();
      const caseNumber = ((await crm.call(`/sobjects/Case/${caseId}`, 'GET')).body as { CaseNumber: string })
        .CaseNumber;
      expect(b!.What).toMatchObject({ attributes: { type: 'Case' }, Name: caseNumber, Type: 'Case' });
      // In filters and ordering too.
      const filtered = await query(
        "SELECT Id FROM Task WHERE What.Type = 'Account' AND Subject LIKE 'poly%'",
      );
      expect(filtered.body.records.map((r) => r.Id)).toEqual([onAccount]);
      expect(onCase).toBeTruthy();
      // One hop only: beyond the Name object is refused by name.
      const deeper = await query('SELECT What.Owner.Name FROM Task');
      expect(deeper.status).toBe(400);
      expect(deeper.body[0]?.errorCode).toBe('MALFORMED_QUERY');
      expect((await query('SELECT What.Industry FROM Task')).body[0]?.errorCode).toBe('INVALID_FIELD');
    });

    it('answers INVALID_FIELD for an unknown field or relationship', async () => {
      const { status, body } = await query('SELECT Shoe__c FROM Lead');
      expect(status).toBe(400);
      expect(body[0]?.errorCode).toBe('INVALID_FIELD');
      expect((await query('SELECT Boss.Name FROM Lead')).body[0]?.errorCode).toBe('INVALID_FIELD');
    });
  });
}
