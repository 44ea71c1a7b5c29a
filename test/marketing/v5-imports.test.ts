import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';

type Json = Record<string, unknown>;

for (const dialect of DIALECTS) {
  describe(`v5 imports (${dialect})`, () => {
    let m: TestMarketing;

    beforeAll(async () => {
      m = await startTestMarketing({ dialect });
    });

    afterAll(async () => {
      await m.close();
    });

    const form = (input: Json | null, csv?: string) => {
      const body = new FormData();
      if (input) body.set('input', new Blob([JSON.stringify(input)], { type: 'application/json' }));
      if (csv !== undefined) body.set('importFile', new Blob([csv], { type: 'text/csv' }), 'prospects.csv');
      return body;
    };
    const waitComplete = async (id: number) => {
      await m.services.imports.idle();
      const r = await m.call(`/api/v5/imports/${id}`);
      expect((r.body as Json).status).toBe('Complete');
      return r.body as Json;
    };
    const byEmail = async (email: string) => {
      const r = await m.call(
        `/api/v5/objects/prospects?fields=id,email,firstName,company&email=${encodeURIComponent(email)}`,
      );
      return (r.body as { values: Json[] }).values;
    };

    it('creates and updates prospects from several CSV batches, reporting bad rows', async () => {
      await m.call('/api/v5/objects/prospects?fields=id', {
        method: 'POST',
        body: JSON.stringify({ email: 'existing@example.com', firstName: 'Before', company: 'Kept Co' }),
      });
      const created = await m.call('/api/v5/imports', {
        method: 'POST',
        body: form(
          { operation: 'Upsert', object: 'Prospect' },
          'email,first_name,company\r\nnew1@example.com,New,One Co\r\nEXISTING@example.com,After,\r\n',
        ),
      });
      expect(created.status).toBe(201);
      const job = created.body as Json;
      expect(job).toMatchObject({ status: 'Open', operation: 'Upsert' });
      expect(created.headers.get('location')).toBe(`/api/v5/imports/${String(job.id)}`);

      const batch = await m.call(`/api/v5/imports/${String(job.id)}/batches`, {
        method: 'POST',
        body: form(
          null,
          'email,firstName,score\nnew2@example.com,Two,12\nnot-an-email,Bad,1\nnew3@example.com,Three,lots\n',
        ),
      });
      expect(batch.status).toBe(204);
      const ready = await m.call(`/api/v5/imports/${String(job.id)}`, {
        method: 'PATCH',
        body: JSON.stringify({ status: 'Ready' }),
      });
      expect(['Waiting', 'Processing', 'Complete']).toContain((ready.body as Json).status);

      const done = await waitComplete(job.id as number);
      expect(done).toMatchObject({ createdCount: 2, updatedCount: 1, errorCount: 2 });
      expect(await byEmail('existing@example.com')).toEqual([
        expect.objectContaining({ firstName: 'After', company: 'Kept Co' }),
      ]);
      const [two] = await byEmail('new2@example.com');
      expect(two).toMatchObject({ firstName: 'Two' });
      // Each created prospect's history is its own row's values, with the import as the actor.
      const history = await m.call(`/_handoff/prospects/${String(two!.id)}/history`);
      const changes = (history.body as { values: Json[] }).values;
      expect(changes.find((c) => c.field === 'firstName')).toMatchObject({
        oldValue: null,
        newValue: 'Two',
        actor: { type: 'import', id: String(job.id) },
      });
      expect(changes.find((c) => c.field === 'email')).toMatchObject({ newValue: 'new2@example.com' });

      const errors = await m.call(`/api/v5/imports/${String(job.id)}/errors`);
      expect(errors.headers.get('content-type')).toMatch(/text\/csv/);
      expect(errors.text).toContain('not-an-email,Bad,1,Invalid prospect email address');
      expect(errors.text).toContain('new3@example.com,Three,lots,"Invalid value for field score: ""lots"""');

      const late = await m.call(`/api/v5/imports/${String(job.id)}/batches`, {
        method: 'POST',
        body: form(null, 'email\nlate@example.com\n'),
      });
      expect(late).toMatchObject({ status: 400, body: { code: 62 } });
    });

    it('updates by id and refuses rows that match nothing, starting at once with state Ready', async () => {
      const target = await m.call('/api/v5/objects/prospects?fields=id', {
        method: 'POST',
        body: JSON.stringify({ email: 'by-id@example.com' }),
      });
      const id = (target.body as Json).id as number;
      const created = await m.call('/api/v5/imports', {
        method: 'POST',
        body: form(
          { operation: 'Update', object: 'Prospect', state: 'Ready' },
          `id,company\n${id},Updated By Id\n999999999,Nobody\n`,
        ),
      });
      const done = await waitComplete((created.body as Json).id as number);
      expect(done).toMatchObject({ createdCount: 0, updatedCount: 1, errorCount: 1 });
      expect(await byEmail('by-id@example.com')).toEqual([
        expect.objectContaining({ company: 'Updated By Id' }),
      ]);
    });

    it('applies rows in order: a repeated email upserts the prospect the earlier row created', async () => {
      const upsert = await m.call('/api/v5/imports', {
        method: 'POST',
        body: form(
          { operation: 'Upsert', state: 'Ready' },
          'email,firstName\ndup@example.com,First\nDUP@example.com,Second\n',
        ),
      });
      expect(await waitComplete((upsert.body as Json).id as number)).toMatchObject({
        createdCount: 1,
        updatedCount: 1,
        errorCount: 0,
      });
      expect(await byEmail('dup@example.com')).toEqual([expect.objectContaining({ firstName: 'Second' })]);

      const create = await m.call('/api/v5/imports', {
        method: 'POST',
        body: form({ operation: 'Create', state: 'Ready' }, 'email\ntwice@example.com\ntwice@example.com\n'),
      });
      expect(await waitComplete((create.body as Json).id as number)).toMatchObject({
        createdCount: 1,
        errorCount: 1,
      });
      const errors = await m.call(`/api/v5/imports/${String((create.body as Json).id)}/errors`);
      expect(errors.text).toContain(
        'twice@example.com,A prospect with the specified email address already exists',
      );
    });

    it('refuses malformed import requests, and keeps imports to their unit', async () => {
      const noInput = await m.call('/api/v5/imports', {
        method: 'POST',
        body: form(null, 'email\na@example.com\n'),
      });
      expect(noInput).toMatchObject({ status: 400, body: { code: 62 } });
      const json = await m.call('/api/v5/imports', {
        method: 'POST',
        body: JSON.stringify({ operation: 'Create' }),
      });
      expect(json).toMatchObject({ status: 400, body: { code: 62 } });
      const empty = await m.call('/api/v5/imports', { method: 'POST', body: form({ operation: 'Create' }) });
      const id = (empty.body as Json).id as number;
      const readyEmpty = await m.call(`/api/v5/imports/${id}`, {
        method: 'PATCH',
        body: JSON.stringify({ status: 'Ready' }),
      });
      expect(readyEmpty).toMatchObject({ status: 400, body: { code: 62 } });
      expect((await m.call(`/api/v5/imports/${id}`, { unit: m.v4Unit.id })).status).toBe(404);
    });
  });
}
