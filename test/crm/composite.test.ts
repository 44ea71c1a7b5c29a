import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.js';
import { startTestCrm, type TestCrm } from '../support/crm-server.js';
import { buildAccount, buildContact, buildLead } from '../support/factories.js';

interface SubResponse {
  body: unknown;
  httpStatusCode: number;
  referenceId: string;
}

for (const dialect of DIALECTS) {
  describe(`Composite and sObject Collections (${dialect})`, () => {
    let crm: TestCrm;

    beforeAll(async () => {
      crm = await startTestCrm({ dialect });
    });

    afterAll(async () => {
      await crm.close();
    });

    const post = async (path: string, body: unknown, method = 'POST') => {
      const r = await crm.api(path, { method, body: JSON.stringify(body) });
      return { status: r.status, body: (await r.json()) as unknown };
    };
    const countContacts = async (lastName: string) => {
      const r = await crm.api(
        `/query?q=${encodeURIComponent(`SELECT COUNT() FROM Contact WHERE LastName = '${lastName}'`)}`,
      );
      return ((await r.json()) as { totalSize: number }).totalSize;
    };

    it('runs subrequests in order, resolving @{ref.id} references into URLs and bodies', async () => {
      const { status, body } = await post('/composite', {
        compositeRequest: [
          {
            method: 'POST',
            url: '/services/data/v60.0/sobjects/Account',
            referenceId: 'acct',
            body: buildAccount({ Name: 'Composite Co' }),
          },
          {
            method: 'POST',
            url: '/services/data/v60.0/sobjects/Contact',
            referenceId: 'ct',
            body: buildContact({ LastName: 'Ref', AccountId: '@{acct.id}' }),
          },
          {
            method: 'GET',
            url: '/services/data/v60.0/sobjects/Contact/@{ct.id}?fields=AccountId,LastName',
            referenceId: 'read',
          },
        ],
      });
      expect(status).toBe(200);
      const responses = (body as { compositeResponse: SubResponse[] }).compositeResponse;
      expect(responses.map((r) => [r.referenceId, r.httpStatusCode])).toEqual([
        ['acct', 201],
        ['ct', 201],
        ['read', 200],
      ]);
      const accountId = (responses[0]?.body as { id: string }).id;
      expect(responses[2]?.body).toMatchObject({ AccountId: accountId, LastName: 'Ref' });
    });

    it('with allOrNone, rolls every subrequest back when one fails and marks the others PROCESSING_HALTED', async () => {
      const { body } = await post('/composite', {
        allOrNone: true,
        compositeRequest: [
          {
            method: 'POST',
            url: '/services/data/v60.0/sobjects/Contact',
            referenceId: 'ok',
            body: buildContact({ LastName: 'Halted' }),
          },
          {
            method: 'POST',
            url: '/services/data/v60.0/sobjects/Contact',
            referenceId: 'bad',
            body: { FirstName: 'No last name' },
          },
        ],
      });
      const responses = (body as { compositeResponse: SubResponse[] }).compositeResponse;
      expect(responses.map((r) => r.httpStatusCode)).toEqual([400, 400]);
      expect(responses[0]?.body).toEqual([
        {
          errorCode: 'PROCESSING_HALTED',
          message: 'The transaction was rolled back since another operation in the same transaction failed.',
        },
      ]);
      expect((responses[1]?.body as Array<{ errorCode: string }>)[0]?.errorCode).toBe(
        'REQUIRED_FIELD_MISSING',
      );
      expect(await countContacts('Halted')).toBe(0);
    });

    it('without allOrNone, keeps what succeeded and reports a reference to a failed subrequest', async () => {
      const { body } = await post('/composite', {
        compositeRequest: [
          {
            method: 'POST',
            url: '/services/data/v60.0/sobjects/Contact',
            referenceId: 'kept',
            body: buildContact({ LastName: 'Kept' }),
          },
          { method: 'POST', url: '/services/data/v60.0/sobjects/Account', referenceId: 'bad', body: {} },
          { method: 'GET', url: '/services/data/v60.0/sobjects/Account/@{bad.id}', referenceId: 'after' },
        ],
      });
      const responses = (body as { compositeResponse: SubResponse[] }).compositeResponse;
      expect(responses.map((r) => r.httpStatusCode)).toEqual([201, 400, 400]);
      expect(JSON.stringify(responses[2]?.body)).toContain('Invalid reference specified');
      expect(await countContacts('Kept')).toBe(1);
    });

    it('counts a composite call once against the daily limit, however many subrequests it has', async () => {
      const before = crm.services.usage.snapshot().used;
      await post('/composite', {
        compositeRequest: [1, 2, 3].map((i) => ({
          method: 'GET',
          url: '/services/data/v60.0/limits',
          referenceId: `l${i}`,
        })),
      });
      expect(crm.services.usage.snapshot().used).toBe(before + 1);
    });

    it('creates with allOrNone: one bad record fails the batch and every other record says it was rolled back', async () => {
      const { status, body } = await post('/composite/sobjects', {
        allOrNone: true,
        records: [
          { attributes: { type: 'Contact' }, ...buildContact({ LastName: 'AllOrNone' }) },
          { attributes: { type: 'Contact' }, FirstName: 'Missing' },
        ],
      });
      expect(status).toBe(200);
      const results = body as Array<{ success: boolean; errors: Array<{ statusCode: string }> }>;
      expect(results.map((r) => [r.success, r.errors[0]?.statusCode])).toEqual([
        [false, 'ALL_OR_NONE_OPERATION_ROLLED_BACK'],
        [false, 'REQUIRED_FIELD_MISSING'],
      ]);
      expect(await countContacts('AllOrNone')).toBe(0);
    });

    it('mixes object types in one create, and updates, upserts and deletes by collection', async () => {
      const created = (
        await post('/composite/sobjects', {
          records: [
            { attributes: { type: 'Lead' }, ...buildLead() },
            { attributes: { type: 'Account' }, ...buildAccount() },
          ],
        })
      ).body as Array<{ id: string; success: boolean }>;
      expect(created.map((r) => r.success)).toEqual([true, true]);
      expect(created[0]?.id.startsWith('00Q')).toBe(true);
      expect(created[1]?.id.startsWith('001')).toBe(true);

      const updated = (
        await post(
          '/composite/sobjects',
          {
            records: [
              { attributes: { type: 'Lead' }, id: created[0]?.id, Title: 'CTO' },
              { attributes: { type: 'Lead' }, id: 'bogus', Title: 'x' },
            ],
          },
          'PATCH',
        )
      ).body as Array<{ success: boolean; errors: Array<{ statusCode: string }> }>;
      expect(updated.map((r) => r.success)).toEqual([true, false]);
      expect(updated[1]?.errors[0]?.statusCode).toBe('MALFORMED_ID');

      const retrieved = (await post(`/composite/sobjects/Lead`, { ids: [created[0]?.id], fields: ['Title'] }))
        .body as Array<Record<string, unknown>>;
      expect(retrieved[0]?.Title).toBe('CTO');

      const deleted = await crm.api(`/composite/sobjects?ids=${created.map((r) => r.id).join(',')}`, {
        method: 'DELETE',
      });
      const results = (await deleted.json()) as Array<{ id: string; success: boolean }>;
      expect(results).toEqual([
        { id: created[0]?.id, success: true, errors: [] },
        { id: created[1]?.id, success: true, errors: [] },
      ]);
    });

    it('upserts with allOrNone: one bad record rolls all back, and each result still says it would have created', async () => {
      const records = ['One', 'Two', 'Three'].map((name, i) => ({
        attributes: { type: 'Account' },
        Name: `Rolled ${name}`,
        ...(i === 1 ? { OwnerId: 'INVALID_OWNER' } : {}),
      }));
      const { status, body } = await post(
        '/composite/sobjects/Account/Id',
        { allOrNone: true, records },
        'PATCH',
      );
      expect(status).toBe(200);
      const results = body as Array<{
        success: boolean;
        created: boolean;
        errors: Array<{ statusCode: string }>;
      }>;
      expect(results.map((r) => [r.success, r.created])).toEqual([
        [false, true],
        [false, true],
        [false, true],
      ]);
      expect(results[1]!.errors[0]!.statusCode).toBe('MALFORMED_ID');
      expect(results[0]!.errors[0]!.statusCode).toBe('ALL_OR_NONE_OPERATION_ROLLED_BACK');
      const left = await crm.api(
        `/query?q=${encodeURIComponent("SELECT COUNT() FROM Account WHERE Name LIKE 'Rolled %'")}`,
      );
      expect(((await left.json()) as { totalSize: number }).totalSize).toBe(0);
    });

    it('refuses more than 200 records in one call', async () => {
      const records = Array.from({ length: 201 }, () => ({ attributes: { type: 'Lead' }, ...buildLead() }));
      const { status, body } = await post('/composite/sobjects', { records });
      expect(status).toBe(400);
      expect((body as Array<{ errorCode: string }>)[0]?.errorCode).toBe('EXCEEDED_ID_LIMIT');
    });
  });
}
