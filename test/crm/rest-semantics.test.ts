import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCrm, type TestCrm } from '../support/crm-server.js';
import { buildContact, buildLead } from '../support/factories.js';

describe('REST semantics beyond the happy path', () => {
  let crm: TestCrm;

  beforeAll(async () => {
    crm = await startTestCrm({
      config: {
        customFields: [
          {
            object: 'Lead',
            name: 'Legacy_Key__c',
            type: 'string',
            length: 40,
            externalId: true,
            unique: false,
            required: false,
            restrictedPicklist: false,
          },
        ],
        duplicateRules: [{ object: 'Contact', field: 'Email', action: 'allow' }],
      },
    });
  });

  afterAll(async () => {
    await crm.close();
  });

  it('answers an upsert matching several records with 300 and their URLs, changing none', async () => {
    const a = await crm.create('Lead', buildLead({ Legacy_Key__c: 'dup-key' }));
    const b = await crm.create('Lead', buildLead({ Legacy_Key__c: 'DUP-KEY' }));
    const r = await crm.api('/sobjects/Lead/Legacy_Key__c/dup-key', {
      method: 'PATCH',
      body: JSON.stringify({ Title: 'X' }),
    });
    expect(r.status).toBe(300);
    expect(((await r.json()) as string[]).sort()).toEqual(
      [`/services/data/v60.0/sobjects/Lead/${a}`, `/services/data/v60.0/sobjects/Lead/${b}`].sort(),
    );
    const read = await crm.api(`/sobjects/Lead/${a}?fields=Title`);
    expect(((await read.json()) as { Title: unknown }).Title).toBeNull();
  });

  it('with updateOnly=true, answers 404 instead of creating', async () => {
    const r = await crm.api('/sobjects/Lead/Legacy_Key__c/never-seen?updateOnly=true', {
      method: 'PATCH',
      body: JSON.stringify(buildLead()),
    });
    expect(r.status).toBe(404);
    const count = await crm.api(
      `/query?q=${encodeURIComponent("SELECT COUNT() FROM Lead WHERE Legacy_Key__c = 'never-seen'")}`,
    );
    expect(((await count.json()) as { totalSize: number }).totalSize).toBe(0);
  });

  it('accepts 15-character ids in URLs and answers with the 18-character form', async () => {
    const id = await crm.create('Lead', buildLead());
    const r = await crm.api(`/sobjects/Lead/${id.slice(0, 15)}?fields=Id`);
    expect(r.status).toBe(200);
    expect(((await r.json()) as { Id: string }).Id).toBe(id);
  });

  it('answers 404 NOT_FOUND when deleting a record that does not exist', async () => {
    const r = await crm.api('/sobjects/Lead/00Q5g0000009999EAA', { method: 'DELETE' });
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual([
      { errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' },
    ]);
  });

  it('lets a duplicate through when the duplicate rule only allows', async () => {
    await crm.create('Contact', buildContact({ Email: 'same@example.com' }));
    await crm.create('Contact', buildContact({ Email: 'same@example.com' }));
  });

  it('refuses replication windows that start too long ago or end before they start', async () => {
    const day = 86_400_000;
    const iso = (ms: number) => new Date(ms).toISOString();
    const now = Date.now();
    const tooOld = await crm.api(`/sobjects/Lead/updated?start=${iso(now - 31 * day)}&end=${iso(now)}`);
    expect(tooOld.status).toBe(400);
    expect(((await tooOld.json()) as Array<{ errorCode: string }>)[0]?.errorCode).toBe(
      'INVALID_REPLICATION_DATE',
    );
    const deletedTooOld = await crm.api(
      `/sobjects/Lead/deleted?start=${iso(now - 16 * day)}&end=${iso(now)}`,
    );
    expect(deletedTooOld.status).toBe(400);
    const backwards = await crm.api(`/sobjects/Lead/updated?start=${iso(now)}&end=${iso(now - day)}`);
    expect(((await backwards.json()) as Array<{ errorCode: string }>)[0]?.errorCode).toBe(
      'INVALID_REPLICATION_DATE',
    );
  });

  it('ignores seconds in a window: a record changed in the current minute is not yet covered', async () => {
    // The window ends before the record is written, so it can never be covered, minute boundary or not.
    const now = new Date();
    const id = await crm.create('Lead', buildLead());
    const start = new Date(now.getTime() - 5 * 60_000).toISOString();
    const r = await crm.api(`/sobjects/Lead/updated?start=${start}&end=${now.toISOString()}`);
    const body = (await r.json()) as { ids: string[]; latestDateCovered: string };
    expect(body.ids).not.toContain(id);
    expect(body.latestDateCovered.slice(17)).toBe('00.000+0000');
  });
});
