import { describe, expect, it } from 'vitest';
import type { CrmFieldType } from '../../../src/connector/domain/crm-value.js';
import type { FieldMapping } from '../../../src/connector/domain/field-mapping.js';
import { newLeadValues, newProspectValues, planPair } from '../../../src/connector/domain/pair-plan.js';

const mappings: FieldMapping[] = [
  { prospectField: 'email', crmField: 'Email', direction: 'both', conflict: 'crm' },
  { prospectField: 'phone', crmField: 'Phone', direction: 'both', conflict: 'crm' },
  { prospectField: 'score', crmField: 'pi__score__c', direction: 'marketing-to-crm', conflict: 'marketing' },
  { prospectField: 'optedOut', crmField: 'HasOptedOutOfEmail', direction: 'both', conflict: 'latest' },
  { prospectField: 'industry', crmField: 'Industry', direction: 'crm-to-marketing', conflict: 'crm' },
];
const types = new Map<string, CrmFieldType>([
  ['pi__score__c', 'number'],
  ['HasOptedOutOfEmail', 'boolean'],
]);
const synced = { email: 'ada@example.com', phone: '555', score: '10', optedOut: 'false', industry: 'Tech' };
const record = {
  Id: '00Q000000000001AAA',
  SystemModstamp: '2026-12-01T10:00:00.000Z',
  Email: 'ada@example.com',
  Phone: '555',
  pi__score__c: 10,
  HasOptedOutOfEmail: false,
  Industry: 'Tech',
};
const prospect = {
  id: 7,
  updatedAt: '2026-12-01T09:00:00.000Z',
  email: 'ada@example.com',
  phone: '555',
  score: 10,
  optedOut: false,
  industry: 'Tech',
};
const link = { crmObject: 'Lead' as const, lastSynced: synced };

describe('planning one linked pair', () => {
  it('writes nothing for a pair in agreement and keeps its state', () => {
    const plan = planPair(mappings, types, link, record, prospect);
    expect(plan).toMatchObject({ toCrm: {}, toMarketing: {}, changes: [] });
    expect(plan.lastSynced).toEqual(synced);
  });

  it('sends each side’s change to the other, in the CRM field’s wire type, and says why', () => {
    const plan = planPair(
      mappings,
      types,
      link,
      { ...record, Phone: '556' },
      { ...prospect, score: 42, optedOut: true },
    );
    expect(plan.toMarketing).toEqual({ phone: '556' });
    expect(plan.toCrm).toEqual({ pi__score__c: 42, HasOptedOutOfEmail: true });
    expect(plan.lastSynced).toEqual({ ...synced, phone: '556', score: '42', optedOut: 'true' });
    expect(plan.changes).toEqual([
      expect.objectContaining({
        field: 'phone',
        crmField: 'Phone',
        toSide: 'marketing',
        value: '556',
        previous: '555',
      }),
      expect.objectContaining({
        field: 'score',
        crmField: 'pi__score__c',
        toSide: 'crm',
        value: '42',
        previous: '10',
      }),
      expect.objectContaining({ field: 'optedOut', toSide: 'crm', value: 'true', previous: 'false' }),
    ]);
    for (const change of plan.changes) expect(change.reason).toEqual(expect.any(String));
  });

  it('leaves the fields of a refused CRM write as last synced, and the rest as decided', () => {
    const plan = planPair(mappings, types, link, { ...record, Phone: '556' }, { ...prospect, score: 42 });
    expect(plan.crmRefusedState).toEqual({ ...synced, phone: '556', score: '10' });
  });

  it('holds back a value the CRM refused until it changes, and says what it holds', () => {
    const refusedLink = { ...link, refused: { score: '42' } };
    const held = planPair(mappings, types, refusedLink, record, { ...prospect, score: 42, phone: '557' });
    expect(held.toCrm).toEqual({ Phone: '557' });
    expect(held.refused).toEqual({ score: '42' });
    expect(held.lastSynced.score).toBe('10');
    const changed = planPair(mappings, types, refusedLink, record, { ...prospect, score: 43 });
    expect(changed.toCrm).toEqual({ pi__score__c: 43 });
    expect(changed.toCrmByField).toEqual({ score: '43' });
    expect(changed.refused).toEqual({});
    // Settled another way (the value went back): nothing held, nothing written.
    const settled = planPair(mappings, types, refusedLink, record, prospect);
    expect(settled).toMatchObject({ toCrm: {}, refused: {} });
  });

  it('keeps a one-way mapping’s source: a change on the receiving side is put back', () => {
    const plan = planPair(
      mappings,
      types,
      link,
      { ...record, pi__score__c: 99 },
      { ...prospect, industry: 'Retail' },
    );
    expect(plan.toCrm).toEqual({ pi__score__c: 10 });
    expect(plan.toMarketing).toEqual({ industry: 'Tech' });
  });

  it('never lets a blank erase data: the other side’s value is written back', () => {
    const plan = planPair(mappings, types, link, { ...record, Phone: null }, prospect);
    expect(plan.toCrm).toEqual({ Phone: '555' });
    expect(plan.toMarketing).toEqual({});
    expect(plan.lastSynced.phone).toBe('555');
  });
});

describe('the values of a new record', () => {
  it('makes a Lead from a prospect: mapped fields towards the CRM, the two it requires, the create key', () => {
    expect(newLeadValues(mappings, types, { ...prospect, phone: null }, null)).toEqual({
      Email: 'ada@example.com',
      pi__score__c: 10,
      HasOptedOutOfEmail: false,
      LastName: '[not provided]',
      Company: '[not provided]',
      pi__pardot_id__c: '7',
    });
  });

  it('keeps a Lead’s own name and company, and sets the sharing field under a sharing rule', () => {
    const named: FieldMapping[] = [
      ...mappings,
      { prospectField: 'lastName', crmField: 'LastName', direction: 'both', conflict: 'crm' },
      { prospectField: 'company', crmField: 'Company', direction: 'both', conflict: 'crm' },
    ];
    expect(
      newLeadValues(
        named,
        types,
        { ...prospect, lastName: 'Lovelace', company: 'Engines' },
        { field: 'Share__c', value: 'true' },
      ),
    ).toMatchObject({ LastName: 'Lovelace', Company: 'Engines', Share__c: 'true' });
  });

  it('makes a prospect from a Contact: mapped fields towards marketing, its email, linked by CRM id', () => {
    const mappedAway = mappings.filter((m) => m.prospectField !== 'email');
    expect(
      newProspectValues('Contact', mappedAway, { ...record, Id: '003000000000001AAA', Phone: null }),
    ).toEqual({
      email: 'ada@example.com',
      optedOut: 'false',
      industry: 'Tech',
      salesforceId: '003000000000001AAA',
      salesforceContactId: '003000000000001AAA',
    });
  });
});
