// Over 400 lines on purpose: data — the fields of every v5 collection.
import type { ProspectFieldType, ProspectValue } from '../domain/prospect-fields.js';
import { parseActions, parseConditions } from '../domain/automation.js';
import { MarketingError } from '../domain/marketing-error.js';

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
  references?: 'prospects' | 'lists' | 'campaigns' | 'form-handlers' | 'tags' | 'forms';
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
  /** Checks across fields (or inside a JSON field) on create and update: throws a MarketingError. */
  validate?: (values: Record<string, ProspectValue>) => void;
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
    // Handoff: the CRM Campaign whose members this list's members are, synced both ways.
    field('salesforceCampaignId', 'string', { maxLength: 18 }),
  ],
  equalityFilters: ['name', 'salesforceCampaignId'],
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
/** One tracked page view of a visitor (its `View` activity carries the title). */
export const VISITOR_PAGE_VIEWS: CollectionDef = {
  name: 'visitor-page-views',
  table: 'marketing_visitor_page_view',
  label: 'visitor page view',
  engineWritten: true,
  fields: [
    ...SYSTEM,
    field('url', 'string', { maxLength: 2048 }),
    field('title', 'string', { maxLength: 2048 }),
    field('visitorId', 'integer'),
    field('visitId', 'integer'),
    field('prospectId', 'integer'),
    field('campaignId', 'integer'),
  ],
  equalityFilters: ['visitorId', 'visitId', 'prospectId'],
};

/**
 * A list email or a one-to-one email, as sent: each recipient gets a Sent activity and its own
 * tracking id for opens, clicks and unsubscribing.
 */
export const EMAILS: CollectionDef = {
  name: 'emails',
  table: 'marketing_email',
  label: 'email',
  engineWritten: true,
  fields: [
    ...SYSTEM,
    field('name', 'string'),
    field('subject', 'string'),
    field('campaignId', 'integer'),
    field('prospectId', 'integer'),
    // The lists of a list email, comma-separated ids.
    field('listIds', 'string'),
    field('htmlMessage', 'string', { maxLength: 1_000_000 }),
    field('textMessage', 'string', { maxLength: 1_000_000 }),
    field('fromName', 'string'),
    field('fromAddress', 'string'),
    field('isOperational', 'boolean'),
    field('recipientCount', 'integer'),
    field('sentAt', 'datetime'),
  ],
  equalityFilters: ['campaignId', 'prospectId'],
};

/** Rules that act on every prospect matching their conditions, once each unless repeatable. */
export const AUTOMATION_RULES: CollectionDef = {
  name: 'automation-rules',
  table: 'marketing_automation_rule',
  label: 'automation rule',
  fields: [
    ...SYSTEM,
    field('name', 'string', { required: true }),
    field('conditions', 'json', { required: true }),
    field('actions', 'json', { required: true }),
    // 'all' (the default) or 'any' of the conditions.
    field('matchType', 'string', { maxLength: 3 }),
    field('isRepeatable', 'boolean'),
    field('isPaused', 'boolean'),
  ],
  unique: ['name'],
  equalityFilters: ['name', 'isPaused'],
  validate: (values) => {
    if (parseConditions(values.conditions).length === 0)
      throw new MarketingError(62, 'Invalid value for field conditions: a rule needs at least one condition');
    if (parseActions(values.actions).length === 0)
      throw new MarketingError(62, 'Invalid value for field actions: a rule needs at least one action');
    if (
      values.matchType !== null &&
      values.matchType !== undefined &&
      !['all', 'any'].includes(String(values.matchType))
    )
      throw new MarketingError(62, 'Invalid value for field matchType: all or any');
  },
};

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

/**
 * Where a form or form handler sends the browser: an absolute http(s) URL, or nothing. A
 * `javascript:` or relative location would run script on, or break, the redirect.
 */
function checkLocations(values: Record<string, ProspectValue>, names: readonly string[]): void {
  for (const name of names) {
    const value = values[name];
    if (value === null || value === undefined || value === '') continue;
    const url = typeof value === 'string' && URL.canParse(value) ? new URL(value) : null;
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
      throw new MarketingError(62, `Invalid value for ${name}: an absolute http or https URL is required`);
  }
}

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
    // What every successful submission does (a JSON list of automation actions).
    field('completionActions', 'json'),
  ],
  unique: ['name'],
  equalityFilters: ['name', 'campaignId'],
  validate: (values) => {
    checkLocations(values, ['successLocation']);
    parseActions(values.completionActions, 'completionActions');
  },
};

/** A form's fields, in `sortOrder`: what the hosted form shows and which prospect field each fills. */
export const FORM_FIELDS: CollectionDef = {
  name: 'form-fields',
  table: 'marketing_form_field',
  label: 'form field',
  fields: [
    ...SYSTEM,
    field('formId', 'integer', { required: true, createOnly: true, references: 'forms' }),
    // The prospect field it fills: a v5 name (`email`, `firstName`, `Favorite_Color__c`).
    field('prospectApiFieldId', 'string', { required: true }),
    field('label', 'string'),
    field('type', 'string', { maxLength: 20 }),
    field('isRequired', 'boolean'),
    // The choices of a dropdown or radio field, one per line.
    field('options', 'string', { maxLength: 65535 }),
    field('errorMessage', 'string'),
    field('sortOrder', 'integer'),
  ],
  unique: ['formId', 'prospectApiFieldId'],
  equalityFilters: ['formId'],
  validate: (values) => {
    const type = values.type ?? 'text';
    if (!FORM_FIELD_TYPES.includes(String(type)))
      throw new MarketingError(
        62,
        `Invalid value for field type: ${String(type)} (one of ${FORM_FIELD_TYPES.join(', ')})`,
      );
  },
};

export const FORM_FIELD_TYPES = ['text', 'email', 'textarea', 'dropdown', 'radio', 'checkbox', 'hidden'];

/** A hosted page around a form: its title, the content above the form, and its campaign. */
export const LANDING_PAGES: CollectionDef = {
  name: 'landing-pages',
  table: 'marketing_landing_page',
  label: 'landing page',
  fields: [
    ...SYSTEM,
    field('name', 'string', { required: true }),
    field('title', 'string'),
    field('description', 'string', { maxLength: 65535 }),
    field('campaignId', 'integer', { required: true, references: 'campaigns' }),
    field('formId', 'integer', { references: 'forms' }),
  ],
  unique: ['name'],
  equalityFilters: ['name', 'campaignId', 'formId'],
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
    field('completionActions', 'json'),
  ],
  unique: ['name'],
  equalityFilters: ['name', 'campaignId'],
  validate: (values) => {
    checkLocations(values, ['successLocation', 'errorLocation']);
    parseActions(values.completionActions, 'completionActions');
  },
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
  FORM_FIELDS,
  LANDING_PAGES,
  VISITOR_PAGE_VIEWS,
  EMAILS,
  AUTOMATION_RULES,
  TAGGED_OBJECTS,
  PROSPECT_ACCOUNTS,
  OPPORTUNITIES,
  EXTERNAL_ACTIVITIES,
];
