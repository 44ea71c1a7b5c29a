import type jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crmConfigSchema, type CrmConfig } from '../../src/crm/crm-config.js';
import { SchemaRegistry } from '../../src/crm/domain/schema/schema-registry.js';
import { DIALECTS } from '../support/databases.js';
import { startTestCrm, type TestCrm } from '../support/crm-server.js';

/** The two custom objects jsforce's own test package deploys, as `crm` config declares them. */
const CUSTOM_SCHEMA: Partial<CrmConfig> = crmConfigSchema.parse({
  customObjects: [
    {
      name: 'BigTable__c',
      label: 'BigTable',
      nameField: { label: '#', type: 'AutoNumber', displayFormat: 'BT-{0000}' },
    },
    { name: 'UpsertTable__c', label: 'UpsertTable' },
  ],
  customFields: [
    { object: 'UpsertTable__c', name: 'ExtId__c', type: 'string', length: 50, externalId: true },
    { object: 'UpsertTable__c', name: 'Account__c', type: 'reference', referenceTo: ['Account'] },
  ],
});

for (const dialect of DIALECTS) {
  describe(`custom objects declared in config (${dialect})`, () => {
    let crm: TestCrm;
    let conn: jsforce.Connection;

    beforeAll(async () => {
      crm = await startTestCrm({ dialect, config: CUSTOM_SCHEMA });
      conn = await crm.connect();
      conn.bulk.pollInterval = 50;
      conn.bulk2.pollInterval = 50;
    });

    afterAll(async () => {
      await crm.close();
    });

    it('describes each as a custom object with its own key prefix, owner and Name field', async () => {
      const global = await conn.describeGlobal();
      const listed = global.sobjects.filter((s) => s.name.endsWith('__c')).map((s) => [s.name, s.custom]);
      expect(listed).toEqual(
        expect.arrayContaining([
          ['BigTable__c', true],
          ['UpsertTable__c', true],
        ]),
      );
      const big = await conn.sobject('BigTable__c').describe();
      expect(big.keyPrefix).toMatch(/^a[0-9A-Za-z]{2}$/);
      expect(big.label).toBe('BigTable');
      const name = big.fields.find((f) => f.name === 'Name');
      expect(name).toMatchObject({ label: '#', type: 'string', createable: false, updateable: false });
      expect(big.fields.map((f) => f.name)).toEqual(expect.arrayContaining(['Id', 'OwnerId', 'CreatedDate']));

      const upsert = await conn.sobject('UpsertTable__c').describe();
      expect(upsert.keyPrefix).not.toBe(big.keyPrefix);
      expect(upsert.fields.find((f) => f.name === 'ExtId__c')).toMatchObject({
        externalId: true,
        idLookup: true,
        custom: true,
      });
      expect(upsert.fields.find((f) => f.name === 'Name')).toMatchObject({
        createable: true,
        updateable: true,
      });
    });

    it('numbers auto-number names in creation order, and refuses a name given for one', async () => {
      const first = await conn.sobject('BigTable__c').create({});
      const second = await conn.sobject('BigTable__c').create({});
      expect(first.success && second.success).toBe(true);
      const rows = await conn.query<{ Id: string; Name: string; Owner: { Name: string } }>(
        'SELECT Id, Name, Owner.Name FROM BigTable__c ORDER BY Name',
      );
      expect(rows.records.map((r) => r.Name)).toEqual(['BT-0001', 'BT-0002']);
      expect(rows.records[0]!.Id.slice(0, 3)).toBe((await conn.sobject('BigTable__c').describe()).keyPrefix);
      expect(rows.records[0]!.Owner.Name).toBe('Ada Admin');

      const refused = await crm.call('/sobjects/BigTable__c', 'POST', { Name: 'mine' });
      expect(refused.status).toBe(400);
      expect(refused.body).toEqual([
        expect.objectContaining({ errorCode: 'INVALID_FIELD_FOR_INSERT_UPDATE', fields: ['Name'] }),
      ]);
      expect(await conn.sobject('BigTable__c').count()).toBe(2);
    });

    it('upserts by its external id, fills a blank Text name with the Id, and follows its lookups', async () => {
      const account = await crm.create('Account', { Name: 'Acme' });
      const made = await conn
        .sobject('UpsertTable__c')
        .upsert({ ExtId__c: 'ID-0001', Name: 'first', Account__c: account }, 'ExtId__c');
      expect(made).toMatchObject({ success: true, created: true });
      const again = await conn
        .sobject('UpsertTable__c')
        .upsert({ ExtId__c: 'ID-0001', Name: 'renamed' }, 'ExtId__c');
      expect(again).toMatchObject({ success: true, created: false });

      const blank = await conn.sobject('UpsertTable__c').create({ ExtId__c: 'ID-0002' });
      const rows = await conn.query<{
        Id: string;
        Name: string;
        ExtId__c: string;
        Account__r: { Name: string } | null;
      }>('SELECT Id, Name, ExtId__c, Account__r.Name FROM UpsertTable__c ORDER BY ExtId__c');
      expect(rows.records.map((r) => [r.ExtId__c, r.Name, r.Account__r?.Name ?? null])).toEqual([
        ['ID-0001', 'renamed', 'Acme'],
        ['ID-0002', blank.id, null],
      ]);
    });

    it('loads and reads them through Bulk API 1.0 and 2.0', async () => {
      const ownerId = (await conn.identity()).user_id;
      const loaded = await conn.bulk.load(
        'BigTable__c',
        'insert',
        Array.from({ length: 300 }, () => ({ OwnerId: ownerId })),
      );
      expect(loaded.filter((r) => r.success)).toHaveLength(300);
      const rows = (await conn.bulk2.query('SELECT Id, Name FROM BigTable__c')) as unknown as AsyncIterable<{
        Name: string;
      }>;
      const names: string[] = [];
      for await (const row of rows) names.push(row.Name);
      expect(names).toHaveLength(302);
      expect(new Set(names).size).toBe(302);
      expect(names).toContain('BT-0302');
    });
  });
}

describe('custom object declarations', () => {
  it('refuses an AutoNumber name without a number pattern, with where', () => {
    const parsed = crmConfigSchema.safeParse({
      customObjects: [{ name: 'Ticket__c', nameField: { type: 'AutoNumber', displayFormat: 'T-' } }],
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]).toMatchObject({
      path: ['customObjects', 0, 'nameField', 'displayFormat'],
      message: 'displayFormat T- has no {0…} number token',
    });
  });

  it('keeps a key prefix whatever else is declared, and refuses two objects on one', () => {
    const alone = new SchemaRegistry({
      objects: [{ name: 'Ticket__c', nameField: { label: 'Name', type: 'Text' } }],
    });
    const among = new SchemaRegistry({
      objects: [
        { name: 'Widget__c', nameField: { label: 'Name', type: 'Text' } },
        { name: 'Ticket__c', nameField: { label: 'Name', type: 'Text' } },
      ],
    });
    expect(among.object('ticket__c')?.keyPrefix).toBe(alone.object('Ticket__c')?.keyPrefix);
    const prefix = alone.object('Ticket__c')!.keyPrefix;
    expect(
      () =>
        new SchemaRegistry({
          objects: [
            { name: 'Ticket__c', nameField: { label: 'Name', type: 'Text' } },
            { name: 'Other__c', keyPrefix: prefix, nameField: { label: 'Name', type: 'Text' } },
          ],
        }),
    ).toThrow(`Other__c: key prefix ${prefix} is Ticket__c's`);
  });
});
