import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';

type Json = Record<string, unknown>;

for (const dialect of DIALECTS) {
  describe(`v5 exports and the import → export round trip (${dialect})`, () => {
    let m: TestMarketing;
    let clock = Date.parse('2026-11-01T00:00:00Z');

    beforeAll(async () => {
      m = await startTestMarketing({
        dialect,
        now: () => new Date(clock),
        crmConfig: { accessTokenTtlSeconds: 30 * 86_400 },
      });
    });

    afterAll(async () => {
      await m.close();
    });

    const runExport = async (body: Json) => {
      const created = await m.call('/api/v5/exports', { method: 'POST', body: JSON.stringify(body) });
      expect(created.status).toBe(201);
      await m.services.exports.idle();
      const job = (await m.call(`/api/v5/exports/${String((created.body as Json).id)}`)).body as {
        status: string;
        rowCount: number;
        resultRefs: string[];
      };
      expect(job.status).toBe('Complete');
      const rows: string[][] = [];
      for (const ref of job.resultRefs) {
        const result = await m.call(new URL(ref, m.url).pathname);
        expect(result.headers.get('content-type')).toMatch(/text\/csv/);
        const [, ...data] = parse(result.text) as string[][];
        rows.push(...data);
      }
      expect(rows).toHaveLength(job.rowCount);
      return rows;
    };

    /** One v5 import creating a prospect a line, worked off. */
    const importLines = async (lines: string[]) => {
      const form = new FormData();
      form.set('input', JSON.stringify({ operation: 'Create', state: 'Ready' }));
      form.set('importFile', new Blob([lines.join('\n')], { type: 'text/csv' }), 'prospects.csv');
      await m.call('/api/v5/imports', { method: 'POST', body: form });
      await m.services.imports.idle();
    };

    it('exports what an import wrote, field for field', async () => {
      await m.call('/api/v5/objects/custom-fields', {
        method: 'POST',
        body: JSON.stringify({ name: 'Plan', fieldId: 'Plan', type: 'Text' }),
      });
      const lines = ['email,firstName,company,score,Plan'];
      for (let i = 0; i < 250; i++)
        lines.push(`round${i}@example.com,Round ${i},"Trip, Inc",${i % 50},${i % 2 ? 'pro' : 'free'}`);
      await importLines(lines);

      const rows = await runExport({
        fields: ['email', 'firstName', 'company', 'score', 'Plan__c'],
        procedure: { name: 'filter_by_created_at', arguments: { created_after: '2026-10-31T00:00:00Z' } },
      });
      expect(rows).toHaveLength(250);
      expect(rows.map((r) => r.join(','))).toEqual(
        lines.slice(1).map((line) => line.replace('"Trip, Inc"', 'Trip, Inc')),
      );
    });

    it('exports only the range asked, by updatedAt', async () => {
      clock = Date.parse('2026-11-10T00:00:00Z');
      const late = await m.call('/api/v5/objects/prospects?fields=id', {
        method: 'POST',
        body: JSON.stringify({ email: 'late@example.com' }),
      });
      const rows = await runExport({
        fields: ['id', 'email'],
        procedure: { name: 'filter_by_updated_at', arguments: { updated_after: '2026-11-05T00:00:00Z' } },
      });
      expect(rows).toEqual([[String((late.body as Json).id), 'late@example.com']]);
    });

    it('writes commas, quotes and line breaks so a CSV reader gets each value back', async () => {
      clock = Date.parse('2026-11-20T00:00:00Z');
      const awkward = ['Acme, "Quoted" Inc', 'two\nlines', 'crlf\r\ninside', '"', ''];
      for (const [i, company] of awkward.entries())
        await m.call('/api/v5/objects/prospects?fields=id', {
          method: 'POST',
          body: JSON.stringify({ email: `awkward${i}@example.com`, company }),
        });
      const rows = await runExport({
        fields: ['email', 'company', 'isDeleted'],
        procedure: { name: 'filter_by_updated_at', arguments: { updated_after: '2026-11-15T00:00:00Z' } },
      });
      expect(rows).toEqual(awkward.map((company, i) => [`awkward${i}@example.com`, company, 'false']));
    });

    it('exports every prospect once over many pages, however many share a creation time', async () => {
      // One import: 11,000 prospects created at the same instant, read 5,000 at a time.
      clock = Date.parse('2026-11-25T00:00:00Z');
      const lines = ['email'];
      for (let i = 0; i < 11_000; i++) lines.push(`many${i}@example.com`);
      await importLines(lines);
      const rows = await runExport({
        fields: ['id', 'email'],
        procedure: { name: 'filter_by_created_at', arguments: { created_after: '2026-11-24T00:00:00Z' } },
      });
      expect(rows).toHaveLength(11_000);
      expect(new Set(rows.map(([, email]) => email))).toEqual(new Set(lines.slice(1)));
    });

    it('refuses a malformed export and keeps exports to their unit', async () => {
      const badProcedure = await m.call('/api/v5/exports', {
        method: 'POST',
        body: JSON.stringify({ fields: ['id'], procedure: { name: 'everything' } }),
      });
      expect(badProcedure).toMatchObject({ status: 400, body: { code: 62 } });
      const badField = await m.call('/api/v5/exports', {
        method: 'POST',
        body: JSON.stringify({ fields: ['shoeSize'], procedure: { name: 'filter_by_created_at' } }),
      });
      expect(badField).toMatchObject({ status: 400, body: { code: 62 } });
      const mixed = await m.call('/api/v5/exports', {
        method: 'POST',
        body: JSON.stringify({
          fields: ['id'],
          procedure: { name: 'filter_by_created_at', arguments: { updated_after: '2026-01-01T00:00:00Z' } },
        }),
      });
      expect(mixed).toMatchObject({ status: 400, body: { code: 62 } });
      const created = await m.call('/api/v5/exports', {
        method: 'POST',
        body: JSON.stringify({ fields: ['id'], procedure: { name: 'filter_by_created_at' } }),
      });
      expect(
        (await m.call(`/api/v5/exports/${String((created.body as Json).id)}`, { unit: m.v4Unit.id })).status,
      ).toBe(404);
    });
  });
}
