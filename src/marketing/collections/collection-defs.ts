import type { ProspectFieldType } from '../domain/prospect-fields.js';

/** A field of a simple v5 collection. */
export interface CollectionField {
  name: string;
  column: string;
  type: ProspectFieldType;
  /** Set by the engine (id, timestamps). */
  readOnly?: boolean;
  /** Must be given on create. */
  required?: boolean;
  /** Fixed after create (a membership's list and prospect). */
  createOnly?: boolean;
  /** Must name a live record of that collection in the same unit. */
  references?: 'prospects' | 'lists' | 'campaigns' | 'form-handlers' | 'tags';
  maxLength?: number;
}

/** A v5 collection served by the generic collection routes: its table, fields and rules. */
export interface CollectionDef {
  /** The URL segment: `/api/v5/objects/{name}`. */
  name: string;
  table: string;
  /** What a missing record is called in errors. */
  label: string;
  fields: CollectionField[];
  /** Fields whose combination is unique in a unit (a prospect is on a list once). */
  unique?: string[];
  /** Filters a query may use besides ids and timestamps: equality on these fields. */
  equalityFilters?: string[];
  /** Written only by the engine itself (tracking, forms, email): the API reads it. */
  engineWritten?: boolean;
}

function field(
  name: string,
  type: ProspectFieldType,
  options: Partial<CollectionField> = {},
): CollectionField {
  return { name, column: name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), type, ...options };
}

const SYSTEM = [
  field('id', 'id', { readOnly: true }),
  field('createdAt', 'datetime', { readOnly: true }),
  field('updatedAt', 'datetime', { readOnly: true }),
];

export const CAMPAIGNS: CollectionDef = {
  name: 'campaigns',
  table: 'marketing_campaign',
  label: 'campaign',
  fields: [
    ...SYSTEM,
    field('name', 'string', { required: true }),
    field('cost', 'integer'),
    // The linked CRM Campaign: set by the connector when marketing and CRM campaigns are paired.
    field('salesforceId', 'string', { maxLength: 18 }),
  ],
  equalityFilters: ['name', 'salesforceId'],
};

export const LISTS: CollectionDef = {
  name: 'lists',
  table: 'marketing_list',
  label: 'list',
  fields: [
    ...SYSTEM,
    field('name', 'string', { required: true }),
    field('title', 'string'),
    field('description', 'string', { maxLength: 65535 }),
    field('isPublic', 'boolean'),
    field('isDynamic', 'boolean', { readOnly: true }),
  ],
  equalityFilters: ['name'],
};

export const LIST_MEMBERSHIPS: CollectionDef = {
  name: 'list-memberships',
  table: 'marketing_list_membership',
  label: 'list membership',
  fields: [
    ...SYSTEM,
    field('listId', 'integer', { required: true, createOnly: true, references: 'lists' }),
    field('prospectId', 'integer', { required: true, createOnly: true, references: 'prospects' }),
    field('optedOut', 'boolean'),
  ],
  unique: ['listId', 'prospectId'],
  equalityFilters: ['listId', 'prospectId'],
};

export const TAGS: CollectionDef = {
  name: 'tags',
  table: 'marketing_tag',
  label: 'tag',
  fields: [...SYSTEM, field('name', 'string', { required: true })],
  unique: ['name'],
  equalityFilters: ['name'],
};

/**
 * Which object a tag is on (`tagged-objects`), by the object type names Account Engagement
 * uses; the key is the collection's URL segment.
 */
export const TAGGABLE: Record<string, string> = {
  prospects: 'Prospect',
  campaigns: 'Campaign',
  lists: 'List',
  forms: 'Form',
  'form-handlers': 'FormHandler',
  'prospect-accounts': 'ProspectAccount',
};

/** One tag on one object: written by `do/addTag` and `do/removeTag`, read as a collection. */
export const TAGGED_OBJECTS: CollectionDef = {
  name: 'tagged-objects',
  table: 'marketing_tagged_object',
  label: 'tagged object',
  engineWritten: true,
  fields: [
    ...SYSTEM,
    field('tagId', 'integer', { required: true, references: 'tags' }),
    field('objectType', 'string', { required: true }),
    field('objectId', 'integer', { required: true }),
  ],
  unique: ['tagId', 'objectType', 'objectId'],
  equalityFilters: ['tagId', 'objectType', 'objectId'],
};

/** Companies prospects work for: prospects point at one with `prospectAccountId`. */
export const PROSPECT_ACCOUNTS: CollectionDef = {
  name: 'prospect-accounts',
  table: 'marketing_prospect_account',
  label: 'prospect account',
  fields: [
    ...SYSTEM,
    field('name', 'string', { required: true }),
    field('number', 'string'),
    field('description', 'string', { maxLength: 65535 }),
    field('phone', 'string', { maxLength: 40 }),
    field('fax', 'string', { maxLength: 40 }),
    field('website', 'string'),
    field('industry', 'string'),
    field('annualRevenue', 'string'),
    field('employees', 'string'),
    field('type', 'string'),
    field('rating', 'string'),
    field('ownership', 'string'),
    field('tickerSymbol', 'string'),
    field('billingAddressOne', 'string'),
    field('billingAddressTwo', 'string'),
    field('billingCity', 'string'),
    field('billingState', 'string'),
    field('billingZip', 'string'),
    field('billingCountry', 'string'),
    field('assignedToId', 'integer'),
    // The CRM Account it mirrors, set by the connector.
    field('salesforceId', 'string', { maxLength: 18 }),
  ],
  equalityFilters: ['name', 'salesforceId'],
};

/** Opportunities (for units without the CRM's, or mirrored from it by the connector). */
export const OPPORTUNITIES: CollectionDef = {
  name: 'opportunities',
  table: 'marketing_opportunity',
  label: 'opportunity',
  fields: [
    ...SYSTEM,
    field('name', 'string', { required: true }),
    field('value', 'number'),
    field('probability', 'integer'),
    field('type', 'string'),
    field('stage', 'string'),
    // Open, Won or Lost.
    field('status', 'string', { maxLength: 10 }),
    field('closedAt', 'datetime'),
    field('campaignId', 'integer', { references: 'campaigns' }),
    field('prospectId', 'integer', { references: 'prospects' }),
    field('salesforceId', 'string', { maxLength: 18 }),
  ],
  equalityFilters: ['campaignId', 'prospectId', 'salesforceId', 'status'],
};

/**
 * Activities from other systems (a webinar tool, a product, Handoff's ingest) on a prospect,
 * submitted with `POST /api/v5/external-activities` by the prospect's email.
 */
export const EXTERNAL_ACTIVITIES: CollectionDef = {
  name: 'external-activities',
  table: 'marketing_external_activity',
  label: 'external activity',
  engineWritten: true,
  fields: [
    ...SYSTEM,
    field('extension', 'string', { required: true }),
    field('type', 'string', { required: true }),
    field('value', 'string', { maxLength: 65535 }),
    field('email', 'email', { required: true }),
    field('prospectId', 'integer'),
    field('activityDate', 'datetime'),
  ],
  equalityFilters: ['prospectId', 'extension', 'type'],
};

/** Account Engagement's visitor activity type codes and names (API-FACTS.md). */
export const ACTIVITY_TYPES: Record<number, string> = {
  1: 'Click',
  2: 'View',
  3: 'Error',
  4: 'Success',
  5: 'Session',
  6: 'Sent',
  7: 'Search',
  8: 'New Opportunity',
  9: 'Opportunity Won',
  10: 'Opportunity Lost',
  11: 'Open',
  12: 'Unsubscribe Page',
  13: 'Bounced',
  14: 'Spam Complaint',
  15: 'Email Preference Page',
  16: 'Resubscribed',
  17: 'Click (Third Party)',
  18: 'Opportunity Reopened',
  19: 'Opportunity Linked',
  20: 'Visit',
  21: 'Custom URL click',
  23: 'Invited to Webinar',
  24: 'Attended Webinar',
  25: 'Registered for Webinar',
  27: 'Video View',
  28: 'Event Registered',
  29: 'Event Checked In',
  34: 'Video Watched (≥ 75% watched)',
  38: 'Opportunity Unlinked',
};

export const VISITORS: CollectionDef = {
  name: 'visitors',
  table: 'marketing_visitor',
  label: 'visitor',
  engineWritten: true,
  fields: [
    ...SYSTEM,
    field('prospectId', 'integer', { references: 'prospects' }),
    field('pageViewCount', 'integer'),
    field('ipAddress', 'string', { maxLength: 45 }),
    field('hostname', 'string'),
    field('campaignId', 'integer'),
  ],
  equalityFilters: ['prospectId'],
};

export const VISITS: CollectionDef = {
  name: 'visits',
  table: 'marketing_visit',
  label: 'visit',
  engineWritten: true,
  fields: [
    ...SYSTEM,
    field('visitorId', 'integer'),
    field('prospectId', 'integer'),
    field('visitorPageViewCount', 'integer'),
    field('firstVisitorPageViewAt', 'datetime'),
    field('lastVisitorPageViewAt', 'datetime'),
    field('durationInSeconds', 'integer'),
    field('campaignId', 'integer'),
  ],
  equalityFilters: ['visitorId', 'prospectId'],
};

export const VISITOR_ACTIVITIES: CollectionDef = {
  name: 'visitor-activities',
  table: 'marketing_visitor_activity',
  label: 'visitor activity',
  engineWritten: true,
  fields: [
    ...SYSTEM,
    field('type', 'integer', { required: true }),
    field('typeName', 'string'),
    field('prospectId', 'integer'),
    field('visitorId', 'integer'),
    field('visitId', 'integer'),
    field('campaignId', 'integer'),
    field('emailId', 'integer'),
    field('listEmailId', 'integer'),
    field('formId', 'integer'),
    field('formHandlerId', 'integer'),
    field('landingPageId', 'integer'),
    field('fileId', 'integer'),
    field('customRedirectId', 'integer'),
    field('details', 'string', { maxLength: 65535 }),
  ],
  equalityFilters: ['prospectId', 'visitorId', 'type', 'campaignId'],
};

/** Account Engagement users of the unit; each is a CRM user granted the unit (`salesforceId`). */
export const USERS: CollectionDef = {
  name: 'users',
  table: 'marketing_user',
  label: 'user',
  engineWritten: true,
  fields: [
    ...SYSTEM,
    field('email', 'email'),
    field('firstName', 'string'),
    field('lastName', 'string'),
    field('role', 'string'),
    field('salesforceId', 'string', { column: 'crm_user_id' }),
  ],
  equalityFilters: ['email', 'salesforceId'],
};

/** Forms as definitions; what a submission does comes with the engine's forms. */
export const FORMS: CollectionDef = {
  name: 'forms',
  table: 'marketing_form',
  label: 'form',
  fields: [
    ...SYSTEM,
    field('name', 'string', { required: true }),
    field('campaignId', 'integer', { required: true, references: 'campaigns' }),
    field('isAlwaysDisplay', 'boolean'),
    field('isCaptchaEnabled', 'boolean'),
    field('successLocation', 'string', { maxLength: 2048 }),
    field('thankYouContent', 'string', { maxLength: 65535 }),
  ],
  unique: ['name'],
  equalityFilters: ['name', 'campaignId'],
};

export const FORM_HANDLERS: CollectionDef = {
  name: 'form-handlers',
  table: 'marketing_form_handler',
  label: 'form handler',
  fields: [
    ...SYSTEM,
    field('name', 'string', { required: true }),
    field('campaignId', 'integer', { required: true, references: 'campaigns' }),
    field('successLocation', 'string', { maxLength: 2048 }),
    field('errorLocation', 'string', { maxLength: 2048 }),
    field('isDataForwarded', 'boolean'),
    field('isAlwaysEmail', 'boolean'),
  ],
  unique: ['name'],
  equalityFilters: ['name', 'campaignId'],
};

export const FORM_HANDLER_FIELDS: CollectionDef = {
  name: 'form-handler-fields',
  table: 'marketing_form_handler_field',
  label: 'form handler field',
  fields: [
    ...SYSTEM,
    field('formHandlerId', 'integer', { required: true, createOnly: true, references: 'form-handlers' }),
    field('name', 'string', { required: true }),
    // The prospect field it fills: a v5 name (`email`, `firstName`, `Favorite_Color__c`).
    field('prospectApiFieldId', 'string', { required: true }),
    field('isRequired', 'boolean'),
    field('dataFormat', 'string'),
  ],
  unique: ['formHandlerId', 'name'],
  equalityFilters: ['formHandlerId'],
};

export const COLLECTIONS: readonly CollectionDef[] = [
  CAMPAIGNS,
  LISTS,
  LIST_MEMBERSHIPS,
  TAGS,
  VISITORS,
  VISITS,
  VISITOR_ACTIVITIES,
  USERS,
  FORMS,
  FORM_HANDLERS,
  FORM_HANDLER_FIELDS,
  TAGGED_OBJECTS,
  PROSPECT_ACCOUNTS,
  OPPORTUNITIES,
  EXTERNAL_ACTIVITIES,
];
