/**
 * The standard prospect fields of Account Engagement's v5 API, as a client sees them: what a
 * caller may write, and what it can only read (ids, timestamps, the CRM link, set by the
 * connector). Custom fields come from `/custom-fields` and end in `__c`.
 */
export const WRITABLE_PROSPECT_FIELDS = [
  'email',
  'salutation',
  'firstName',
  'lastName',
  'company',
  'jobTitle',
  'department',
  'phone',
  'fax',
  'website',
  'addressOne',
  'addressTwo',
  'city',
  'state',
  'zip',
  'country',
  'industry',
  'annualRevenue',
  'employees',
  'source',
  'comments',
  'score',
  'isDoNotEmail',
  'isDoNotCall',
  'optedOut',
] as const;

export const STANDARD_PROSPECT_FIELDS = [
  'id',
  ...WRITABLE_PROSPECT_FIELDS,
  'grade',
  'campaignId',
  'assignedToId',
  'createdAt',
  'updatedAt',
  'lastActivityAt',
  'convertedAt',
] as const;

/** The standard prospect fields whose values are not text: what a mapping's check needs to know. */
export const PROSPECT_FIELD_KINDS: Readonly<Record<string, 'number' | 'boolean' | 'date'>> = {
  id: 'number',
  score: 'number',
  annualRevenue: 'number',
  employees: 'number',
  campaignId: 'number',
  assignedToId: 'number',
  isDoNotEmail: 'boolean',
  isDoNotCall: 'boolean',
  optedOut: 'boolean',
  createdAt: 'date',
  updatedAt: 'date',
  lastActivityAt: 'date',
  convertedAt: 'date',
};
