import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.js';
import { startTestCrm, type TestCrm } from '../support/crm-server.js';

type Json = Record<string, unknown>;

for (const dialect of DIALECTS) {
  describe(`composite tree and batch (${dialect})`, () => {
    let crm: TestCrm;

    const post = async (path: string, body: unknown) => {
      const r = await crm.api(path, { method: 'POST', body: JSON.stringify(body) });
      return { status: r.status, body: (await r.json()) as Json & Json[] };
    };
    const count = async (soql: string) =>
      ((await (await crm.api(`/query?q=${encodeURIComponent(soql)}`)).json()) as { totalSize: number })
        .totalSize;

    beforeAll(async () => {
      crm = await startTestCrm({ dialect });
    });

    afterAll(async () => {
      await crm.close();
    });

    it('saves a tree of parents and nested children, linking each child to its parent', async () => {
      const { status, body } = await post('/composite/tree/Account', {
        records: [
          {
            attributes: { type: 'Account', referenceId: 'acc1' },
            Name: 'Tree Acme',
            Contacts: {
              records: [
                {
                  attributes: { type: 'Contact', referenceId: 'con1' },
                  LastName: 'Leaf',
                  Email: 'leaf@tree.example',
                },
                { attributes: { type: 'Contact', referenceId: 'con2' }, LastName: 'Twig' },
              ],
            },
            Opportunities: {
              records: [
                {
                  attributes: { type: 'Opportunity', referenceId: 'opp1' },
                  Name: 'Tree deal',
                  StageName: 'Prospecting',
                  CloseDate: '2027-01-31',
                },
              ],
            },
          },
          { attributes: { type: 'Account', referenceId: 'acc2' }, Name: 'Tree Globex' },
        ],
      });
      expect(status).toBe(201);
      expect(body.hasErrors).toBe(false);
      const results = body.results as Array<{ referenceId: string; id: string }>;
      expect(results.map((r) => r.referenceId).sort()).toEqual(['acc1', 'acc2', 'con1', 'con2', 'opp1']);
      const id = Object.fromEntries(results.map((r) => [r.referenceId, r.id]));
      expect(id.acc1).toMatch(/^001/);
      expect(id.con1).toMatch(/^003/);
      const tree = (await (
        await crm.api(
          `/query?q=${encodeURIComponent(`SELECT Name, (SELECT LastName FROM Contacts ORDER BY LastName), (SELECT Name FROM Opportunities) FROM Account WHERE Id = '${id.acc1}'`)}`,
        )
      ).json()) as { records: Json[] };
      expect(tree.records[0]).toMatchObject({
        Name: 'Tree Acme',
        Contacts: {
          totalSize: 2,
          records: [
            expect.objectContaining({ LastName: 'Leaf' }),
            expect.objectContaining({ LastName: 'Twig' }),
          ],
        },
        Opportunities: { totalSize: 1 },
      });
    });

    it('saves nothing when any record fails, and names the failing records', async () => {
      const before = await count("SELECT COUNT() FROM Account WHERE Name LIKE 'Broken Tree%'");
      const { status, body } = await post('/composite/tree/Account', {
        records: [
          {
            attributes: { type: 'Account', referenceId: 'good' },
            Name: 'Broken Tree Parent',
            Contacts: {
              records: [
                { attributes: { type: 'Contact', referenceId: 'bad' }, FirstName: 'No last name' },
                { attributes: { type: 'Contact', referenceId: 'fine' }, LastName: 'Fine' },
              ],
            },
          },
        ],
      });
      expect(status).toBe(400);
      expect(body).toEqual({
        hasErrors: true,
        results: [
          {
            referenceId: 'bad',
            errors: [expect.objectContaining({ statusCode: 'REQUIRED_FIELD_MISSING', fields: ['LastName'] })],
          },
        ],
      });
      expect(await count("SELECT COUNT() FROM Account WHERE Name LIKE 'Broken Tree%'")).toBe(before);
      expect(await count("SELECT COUNT() FROM Contact WHERE LastName = 'Fine'")).toBe(0);
    });

    it('refuses a malformed tree before writing: types, reference ids, relationships, size', async () => {
      const account = (referenceId: string, extra: Json = {}) => ({
        attributes: { type: 'Account', referenceId },
        Name: 'x',
        ...extra,
      });
      const cases: Array<[unknown, string]> = [
        [
          { records: [{ attributes: { type: 'Contact', referenceId: 'r1' }, LastName: 'x' }] },
          'INVALID_INPUT',
        ],
        [{ records: [account('r1'), account('r1')] }, 'INVALID_INPUT'],
        [{ records: [{ Name: 'no attributes' }] }, 'INVALID_INPUT'],
        [{ records: [account('r1', { Widgets: { records: [] } })] }, 'INVALID_FIELD'],
        [{ records: Array.from({ length: 201 }, (_, i) => account(`r${i}`)) }, 'EXCEEDED_ID_LIMIT'],
        [{ nope: true }, 'JSON_PARSER_ERROR'],
      ];
      for (const [body, errorCode] of cases) {
        const r = await post('/composite/tree/Account', body);
        expect(r.status, errorCode).toBe(400);
        const answer = r.body as unknown;
        const first = Array.isArray(answer) ? answer[0] : ((answer as Json).results as Json[])[0];
        expect(JSON.stringify(first), errorCode).toContain(errorCode);
      }
      expect(await count("SELECT COUNT() FROM Account WHERE Name = 'x'")).toBe(0);
    });

    it('runs a batch of independent subrequests, halting after a failure when asked', async () => {
      const created = await post('/composite/sobjects', {
        records: [
          { attributes: { type: 'Lead' }, LastName: 'Batch', Company: 'Batch Co' },
          { attributes: { type: 'Lead' }, LastName: 'Gone', Company: 'Batch Co' },
        ],
      });
      const [leadId, goneId] = (created.body as unknown as Array<{ id: string }>).map((r) => r.id);
      expect((await crm.api(`/sobjects/Lead/${goneId}`, { method: 'DELETE' })).status).toBe(204);
      const { status, body } = await post('/composite/batch', {
        batchRequests: [
          { method: 'PATCH', url: `v60.0/sobjects/Lead/${leadId}`, richInput: { Title: 'CTO' } },
          { method: 'GET', url: `v60.0/sobjects/Lead/${leadId}?fields=Title` },
          { method: 'GET', url: `v60.0/sobjects/Lead/${goneId}` },
          {
            method: 'GET',
            url: `/services/data/v60.0/query?q=${encodeURIComponent(`SELECT Title FROM Lead WHERE Id = '${leadId}'`)}`,
          },
        ],
      });
      expect(status).toBe(200);
      expect(body.hasErrors).toBe(true);
      const results = body.results as Array<{ statusCode: number; result: unknown }>;
      expect(results.map((r) => r.statusCode)).toEqual([204, 200, 404, 200]);
      expect(results[0]!.result).toBeNull();
      expect(results[1]!.result).toMatchObject({ Title: 'CTO' });
      expect(results[2]!.result).toEqual([expect.objectContaining({ errorCode: 'ENTITY_IS_DELETED' })]);

      const halted = await post('/composite/batch', {
        haltOnError: true,
        batchRequests: [
          { method: 'PATCH', url: `v60.0/sobjects/Lead/${leadId}`, richInput: { Status: 'Not a status' } },
          { method: 'PATCH', url: `v60.0/sobjects/Lead/${leadId}`, richInput: { Title: 'CEO' } },
        ],
      });
      expect(
        (halted.body.results as Array<{ statusCode: number; result: Json[] }>).map((r) => [
          r.statusCode,
          r.result[0]?.errorCode,
        ]),
      ).toEqual([
        [400, 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST'],
        [412, 'BATCH_PROCESSING_HALTED'],
      ]);
      expect(await count(`SELECT COUNT() FROM Lead WHERE Id = '${leadId}' AND Title = 'CTO'`)).toBe(1);

      const tooMany = await post('/composite/batch', {
        batchRequests: Array.from({ length: 26 }, () => ({ method: 'GET', url: 'v60.0/limits' })),
      });
      expect(tooMany.status).toBe(400);
      expect(tooMany.body[0]).toMatchObject({ errorCode: 'EXCEEDED_ID_LIMIT' });
    });
  });
}
