import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.js';
import { startTestCrm, type TestCrm } from '../support/crm-server.js';

type Json = Record<string, unknown>;

for (const dialect of DIALECTS) {
  describe(`SOSL search and parameterizedSearch (${dialect})`, () => {
    let crm: TestCrm;
    const ids: Record<string, string> = {};

    const search = async (sosl: string) => {
      const r = await crm.api(`/search?q=${encodeURIComponent(sosl)}`);
      return { status: r.status, body: (await r.json()) as { searchRecords: Json[] } & Json[] };
    };
    const found = async (sosl: string) => {
      const { status, body } = await search(sosl);
      expect(status, sosl).toBe(200);
      return body.searchRecords.map((r) => r.Id as string);
    };

    beforeAll(async () => {
      crm = await startTestCrm({ dialect });
      ids.ann = await crm.create('Lead', {
        FirstName: 'Ann',
        LastName: 'Quill',
        Company: 'Zephyr Widgets',
        Email: 'ann.quill@zephyr.example',
        Phone: '(415) 555-0199',
      });
      ids.bo = await crm.create('Lead', { FirstName: 'Bo', LastName: 'Zephyr', Company: 'Other Co' });
      ids.account = await crm.create('Account', {
        Name: 'Zephyr Holdings',
        Description: 'Makes São Paulo widgets',
      });
      ids.contact = await crm.create('Contact', {
        LastName: 'Marsh',
        Email: 'marsh@zephyr.example',
        AccountId: ids.account,
      });
    });

    afterAll(async () => {
      await crm.close();
    });

    it('finds records of several objects by a word, and returns the fields asked for', async () => {
      const { status, body } = await search(
        'FIND {zephyr} RETURNING Lead(Id, Name, Company ORDER BY LastName), Contact(Id, Email), Account',
      );
      expect(status).toBe(200);
      expect(body.searchRecords).toEqual([
        {
          attributes: { type: 'Lead', url: `/services/data/v60.0/sobjects/Lead/${ids.ann}` },
          Id: ids.ann,
          Name: 'Ann Quill',
          Company: 'Zephyr Widgets',
        },
        {
          attributes: { type: 'Lead', url: `/services/data/v60.0/sobjects/Lead/${ids.bo}` },
          Id: ids.bo,
          Name: 'Bo Zephyr',
          Company: 'Other Co',
        },
        {
          attributes: { type: 'Contact', url: `/services/data/v60.0/sobjects/Contact/${ids.contact}` },
          Id: ids.contact,
          Email: 'marsh@zephyr.example',
        },
        {
          attributes: { type: 'Account', url: `/services/data/v60.0/sobjects/Account/${ids.account}` },
          Id: ids.account,
        },
      ]);
      // No RETURNING: every searchable object, its Id only.
      expect(await found('FIND {marsh}')).toEqual([ids.contact]);
    });

    it('searches the scope asked for: name, email, phone or all fields', async () => {
      expect(await found('FIND {zephyr} IN NAME FIELDS RETURNING Lead')).toEqual([ids.bo]);
      expect(await found('FIND {ann.quill@zephyr.example} IN EMAIL FIELDS RETURNING Lead, Contact')).toEqual([
        ids.ann,
      ]);
      expect(await found('FIND {zephyr.example} IN EMAIL FIELDS RETURNING Lead, Contact')).toEqual([
        ids.ann,
        ids.contact,
      ]);
      expect(await found('FIND {555-0199} IN PHONE FIELDS RETURNING Lead')).toEqual([ids.ann]);
      expect(await found('FIND {widgets} IN PHONE FIELDS RETURNING Lead')).toEqual([]);
      expect(await found('FIND {sao paulo} RETURNING Account')).toEqual([ids.account]);
    });

    it('takes prefixes, phrases, OR and AND NOT', async () => {
      expect(await found('FIND {zeph*} RETURNING Lead(Id ORDER BY LastName)')).toEqual([ids.ann, ids.bo]);
      expect(await found('FIND {"zephyr widgets"} RETURNING Lead')).toEqual([ids.ann]);
      expect(await found('FIND {"widgets zephyr"} RETURNING Lead')).toEqual([]);
      expect(await found('FIND {quill OR marsh} RETURNING Lead, Contact')).toEqual([ids.ann, ids.contact]);
      expect(await found('FIND {zephyr AND NOT quill} RETURNING Lead')).toEqual([ids.bo]);
      expect(await found('FIND {zephyr AND other} RETURNING Lead')).toEqual([ids.bo]);
    });

    it('applies WHERE, LIMIT per object and overall, and follows updates and deletes', async () => {
      expect(await found("FIND {zephyr} RETURNING Lead(Id WHERE Company = 'Other Co')")).toEqual([ids.bo]);
      expect(await found('FIND {zephyr} RETURNING Lead(Id ORDER BY LastName LIMIT 1), Contact')).toEqual([
        ids.ann,
        ids.contact,
      ]);
      expect(await found('FIND {zephyr} RETURNING Lead(Id ORDER BY LastName), Contact LIMIT 2')).toEqual([
        ids.ann,
        ids.bo,
      ]);
      const renamed = await crm.api(`/sobjects/Lead/${ids.bo}`, {
        method: 'PATCH',
        body: JSON.stringify({ LastName: 'Boreas' }),
      });
      expect(renamed.status).toBe(204);
      expect(await found('FIND {zephyr} IN NAME FIELDS RETURNING Lead')).toEqual([]);
      expect(await found('FIND {boreas} RETURNING Lead')).toEqual([ids.bo]);
      expect((await crm.api(`/sobjects/Lead/${ids.bo}`, { method: 'DELETE' })).status).toBe(204);
      expect(await found('FIND {boreas} RETURNING Lead')).toEqual([]);
    });

    it('answers parameterizedSearch by GET and POST', async () => {
      const get = await crm.api(
        `/parameterizedSearch?q=${encodeURIComponent('quill')}&sobject=Lead&Lead.fields=Id,Email&Lead.limit=5`,
      );
      expect(get.status).toBe(200);
      expect(((await get.json()) as { searchRecords: Json[] }).searchRecords).toEqual([
        expect.objectContaining({ Id: ids.ann, Email: 'ann.quill@zephyr.example' }),
      ]);
      const post = await crm.api('/parameterizedSearch', {
        method: 'POST',
        body: JSON.stringify({
          q: 'zephyr.example',
          in: 'EMAIL',
          fields: ['Id'],
          sobjects: [{ name: 'Contact', fields: ['Id', 'LastName'] }, { name: 'Lead' }],
          overallLimit: 10,
        }),
      });
      expect(post.status).toBe(200);
      expect(
        ((await post.json()) as { searchRecords: Json[] }).searchRecords.map((r) => [r.Id, r.LastName]),
      ).toEqual([
        [ids.contact, 'Marsh'],
        [ids.ann, undefined],
      ]);
    });

    it('refuses malformed searches in Salesforce’s error format', async () => {
      for (const sosl of [
        'zephyr',
        'FIND zephyr',
        'FIND {z}',
        'FIND {zephyr} RETURNING',
        'FIND {zephyr} NONSENSE',
      ]) {
        const { status, body } = await search(sosl);
        expect(status, sosl).toBe(400);
        expect(body[0]?.errorCode, sosl).toBe('MALFORMED_SEARCH');
      }
      const unknown = await search('FIND {zephyr} RETURNING Widget__c');
      expect(unknown.status).toBe(400);
      expect(unknown.body[0]?.errorCode).toBe('INVALID_TYPE');
      const notSearchable = await search('FIND {zephyr} RETURNING Organization');
      expect(notSearchable.body[0]?.errorCode).toBe('INVALID_TYPE');
    });
  });
}
