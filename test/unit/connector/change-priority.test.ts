import { describe, expect, it } from 'vitest';
import {
  crmChangePriority,
  isShared,
  PRIORITY,
  prospectChangePriority,
  type LinkView,
} from '../../../src/connector/domain/change-priority.js';
import type { FieldMapping } from '../../../src/connector/domain/field-mapping.js';

const mappings: FieldMapping[] = [
  { prospectField: 'email', crmField: 'Email', direction: 'both', conflict: 'crm' },
  { prospectField: 'phone', crmField: 'Phone', direction: 'both', conflict: 'crm' },
];
const link = (overrides: Partial<LinkView> = {}): LinkView => ({
  crmObject: 'Lead',
  lastSynced: { email: 'ada@example.com', phone: '555' },
  ...overrides,
});
const lead = (overrides: Record<string, unknown> = {}) => ({
  Id: '00Q000000000001AAA',
  Email: 'ada@example.com',
  Phone: '555',
  ...overrides,
});

describe('how urgent a captured CRM record is', () => {
  const cases: Array<[string, Parameters<typeof crmChangePriority>[0], number | null]> = [
    [
      'an echo of our own write (every mapped field as last synced)',
      { object: 'Lead', record: lead(), link: link(), mappings, sharing: null },
      null,
    ],
    [
      'a mapped field changed',
      { object: 'Lead', record: lead({ Phone: '556' }), link: link(), mappings, sharing: null },
      PRIORITY.change,
    ],
    [
      'a change to a field first seen (never synced)',
      {
        object: 'Lead',
        record: lead(),
        link: link({ lastSynced: { email: 'ada@example.com' } }),
        mappings,
        sharing: null,
      },
      PRIORITY.change,
    ],
    [
      'a new record with an email',
      { object: 'Lead', record: lead(), link: undefined, mappings, sharing: null },
      PRIORITY.change,
    ],
    [
      'a new record without an email',
      { object: 'Lead', record: lead({ Email: null }), link: undefined, mappings, sharing: null },
      null,
    ],
    [
      'a deletion of a linked record',
      { object: 'Lead', record: lead({ IsDeleted: true }), link: link(), mappings, sharing: null },
      PRIORITY.urgent,
    ],
    [
      'a deletion already synced',
      {
        object: 'Lead',
        record: lead({ IsDeleted: true }),
        link: link({ deleted: true }),
        mappings,
        sharing: null,
      },
      null,
    ],
    [
      'a deletion of an unlinked record',
      { object: 'Lead', record: lead({ IsDeleted: true }), link: undefined, mappings, sharing: null },
      null,
    ],
    [
      'a conversion of a linked Lead',
      {
        object: 'Lead',
        record: lead({ IsConverted: true, ConvertedContactId: '003000000000001AAA' }),
        link: link(),
        mappings,
        sharing: null,
      },
      PRIORITY.handoff,
    ],
    [
      'a conversion of an unlinked Lead',
      {
        object: 'Lead',
        record: lead({ IsConverted: true, ConvertedContactId: '003000000000001AAA' }),
        link: undefined,
        mappings,
        sharing: null,
      },
      null,
    ],
    [
      'a Lead whose prospect has moved to its Contact',
      {
        object: 'Lead',
        record: lead({ Phone: '556' }),
        link: link({ crmObject: 'Contact' }),
        mappings,
        sharing: null,
      },
      null,
    ],
    [
      'a record outside the sharing rule',
      {
        object: 'Lead',
        record: lead({ Phone: '556', Share__c: false }),
        link: link(),
        mappings,
        sharing: { field: 'Share__c', value: 'true' },
      },
      null,
    ],
    [
      'a record inside the sharing rule',
      {
        object: 'Lead',
        record: lead({ Phone: '556', Share__c: true }),
        link: link(),
        mappings,
        sharing: { field: 'Share__c', value: 'true' },
      },
      PRIORITY.change,
    ],
    [
      'a linked record back from the recycle bin, values unchanged',
      { object: 'Lead', record: lead(), link: link({ deleted: true }), mappings, sharing: null },
      PRIORITY.change,
    ],
  ];
  it.each(cases)('%s', (_, change, expected) => {
    expect(crmChangePriority(change)).toBe(expected);
  });
});

describe('how urgent a captured prospect is', () => {
  const prospect = (overrides: Record<string, unknown> = {}) => ({
    id: 7,
    email: 'ada@example.com',
    phone: '555',
    ...overrides,
  });
  const cases: Array<[string, Parameters<typeof prospectChangePriority>[0], number | null]> = [
    [
      'an echo of our own write',
      { prospect: prospect(), link: link(), mappings, createLeads: 'assigned' },
      null,
    ],
    [
      'a mapped field changed',
      { prospect: prospect({ phone: '556' }), link: link(), mappings, createLeads: 'assigned' },
      PRIORITY.change,
    ],
    [
      'an unlinked prospect assigned to a user (the hand-off)',
      { prospect: prospect({ assignedToId: 12 }), link: undefined, mappings, createLeads: 'assigned' },
      PRIORITY.handoff,
    ],
    [
      'an unlinked prospect assigned, when Leads are made only on form success',
      { prospect: prospect({ assignedToId: 12 }), link: undefined, mappings, createLeads: 'form-success' },
      null,
    ],
    [
      'an unlinked prospect not assigned',
      { prospect: prospect(), link: undefined, mappings, createLeads: 'assigned' },
      null,
    ],
    [
      'an unlinked, assigned prospect in the recycle bin',
      {
        prospect: prospect({ assignedToId: 12, isDeleted: true }),
        link: undefined,
        mappings,
        createLeads: 'assigned',
      },
      null,
    ],
    [
      'a linked prospect deleted',
      { prospect: prospect({ isDeleted: true }), link: link(), mappings, createLeads: 'assigned' },
      PRIORITY.urgent,
    ],
    [
      'a linked prospect whose deletion is synced',
      {
        prospect: prospect({ isDeleted: true }),
        link: link({ deleted: true }),
        mappings,
        createLeads: 'assigned',
      },
      null,
    ],
  ];
  it.each(cases)('%s', (_, change, expected) => {
    expect(prospectChangePriority(change)).toBe(expected);
  });
});

describe('the marketing data-sharing rule', () => {
  it('lets every record through without a rule, and compares values as the sync does with one', () => {
    expect(isShared({}, null)).toBe(true);
    expect(isShared({ Share__c: true }, { field: 'Share__c', value: 'true' })).toBe(true);
    expect(isShared({ Share__c: ' EMEA ' }, { field: 'Share__c', value: 'EMEA' })).toBe(true);
    expect(isShared({ Share__c: null }, { field: 'Share__c', value: 'true' })).toBe(false);
  });
});
