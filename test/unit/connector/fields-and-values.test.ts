import { describe, expect, it } from 'vitest';
import { crmFieldType, crmValue } from '../../../src/connector/domain/crm-value.js';
import type { FieldMapping } from '../../../src/connector/domain/field-mapping.js';
import { SyncFields } from '../../../src/connector/domain/sync-fields.js';

describe('a synced value on the CRM wire', () => {
  const cases: Array<[string, string, string | null, unknown]> = [
    ['a checkbox', 'boolean', 'true', true],
    ['a checkbox, unticked', 'boolean', 'false', false],
    ['a number', 'double', '4.5', 4.5],
    ['an integer', 'int', '42', 42],
    ['currency', 'currency', '9.99', 9.99],
    ['a percentage', 'percent', '12', 12],
    ['a datetime', 'datetime', '2026-12-01T10:00:00.000Z', '2026-12-01T10:00:00.000Z'],
    ['text', 'string', '555', '555'],
    ['a picklist', 'picklist', 'Web', 'Web'],
    ['a blank', 'double', null, null],
  ];
  it.each(cases)('%s', (_, describeType, value, expected) => {
    expect(crmValue(value, crmFieldType(describeType))).toEqual(expected);
  });
});

describe('the fields each read asks for', () => {
  const mappings: Record<'Lead' | 'Contact', FieldMapping[]> = {
    Lead: [{ prospectField: 'phone', crmField: 'Phone', direction: 'both', conflict: 'crm' }],
    Contact: [{ prospectField: 'title', crmField: 'Title', direction: 'both', conflict: 'crm' }],
  };

  it('reads the mapped fields with what every decision needs, once each', () => {
    const fields = new SyncFields(mappings, { field: 'Share__c', value: 'true' });
    expect(fields.crm('Lead')).toEqual(['Id', 'SystemModstamp', 'Email', 'OwnerId', 'Share__c', 'Phone']);
    expect(fields.crm('Contact')).toEqual(['Id', 'SystemModstamp', 'Email', 'OwnerId', 'Share__c', 'Title']);
    expect(
      new SyncFields(
        {
          ...mappings,
          Lead: [
            ...mappings.Lead,
            { prospectField: 'email', crmField: 'Email', direction: 'both', conflict: 'crm' },
          ],
        },
        null,
      ).crm('Lead'),
    ).toEqual(['Id', 'SystemModstamp', 'Email', 'OwnerId', 'Phone']);
  });

  it('captures what tells deletions, merges and conversions apart', () => {
    const fields = new SyncFields(mappings, null);
    expect(fields.crmCapture('Lead')).toEqual(
      expect.arrayContaining([
        'IsDeleted',
        'MasterRecordId',
        'IsConverted',
        'ConvertedContactId',
        'ConvertedAccountId',
      ]),
    );
    expect(fields.crmCapture('Contact')).toEqual([...fields.crm('Contact'), 'IsDeleted', 'MasterRecordId']);
  });

  it('reads a prospect’s fields of both objects’ mappings', () => {
    expect(new SyncFields(mappings, null).prospect()).toEqual([
      'id',
      'email',
      'updatedAt',
      'isDeleted',
      'assignedToId',
      'salesforceId',
      'phone',
      'title',
    ]);
  });
});
