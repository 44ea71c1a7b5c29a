import { randomBytes } from 'node:crypto';
import type { CrmConfig } from '../../src/crm/crm-config.js';

function unique(): string {
  return randomBytes(4).toString('hex');
}

/** A valid Lead body; pass overrides for what the test is about. */
export function buildLead(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const tag = unique();
  return {
    FirstName: 'Lee',
    LastName: `Lead-${tag}`,
    Company: `Company ${tag}`,
    Email: `lee.${tag}@example.com`,
    ...overrides,
  };
}

export function buildContact(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const tag = unique();
  return { FirstName: 'Cora', LastName: `Contact-${tag}`, Email: `cora.${tag}@example.com`, ...overrides };
}

export function buildAccount(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { Name: `Account ${unique()}`, ...overrides };
}

type CustomField = CrmConfig['customFields'][number];
type ValidationRule = CrmConfig['validationRules'][number];

/** A Lead text field for a test CRM's config: a unique external id (an upsert key) unless said. */
export function leadKeyField(name: string, overrides: Partial<CustomField> = {}): CustomField {
  return {
    object: 'Lead',
    name,
    type: 'string',
    length: 64,
    externalId: true,
    unique: true,
    required: false,
    restrictedPicklist: false,
    ...overrides,
  };
}

/** A validation rule the error tests use: a Hot Lead needs a phone number. */
export const HOT_LEADS_NEED_PHONE: ValidationRule = {
  object: 'Lead',
  name: 'Hot_Leads_Need_Phone',
  when: [
    { field: 'Rating', op: 'equals', value: 'Hot' },
    { field: 'Phone', op: 'blank' },
  ],
  message: 'A hot lead needs a phone number',
  field: 'Phone',
  active: true,
};

/**
 * A validation rule the sync-error tests use: no Interns as Leads. A fresh object each call, so
 * a test may turn it off (`active = false`) without touching another's.
 */
export function noInternsRule(op: 'equals' | 'contains' = 'equals'): ValidationRule {
  return {
    object: 'Lead',
    name: 'No_Interns',
    when: [{ field: 'Title', op, value: 'Intern' }],
    message: 'Interns cannot be Leads',
    field: 'Title',
    active: true,
  };
}
