// Over 400 lines on purpose: data — the standard objects' definitions.
import { field, picklist, reference, type FieldDef, type ObjectDef } from './field-def.js';
import { completeFromFacts, nameChildRelationships } from './standard-facts.js';

/** Fields every object carries, maintained by the server (and its owner, when it has one). */
export function systemFields(options: { owned: boolean }): FieldDef[] {
  const fields = [
    field('Id', 'id', { system: true, nillable: false, label: 'Record ID' }),
    field('IsDeleted', 'boolean', { system: true, label: 'Deleted' }),
    field('CreatedDate', 'datetime', { system: true, nillable: false }),
    reference('CreatedById', ['User'], { system: true, nillable: false, relationshipName: 'CreatedBy' }),
    field('LastModifiedDate', 'datetime', { system: true, nillable: false }),
    reference('LastModifiedById', ['User'], {
      system: true,
      nillable: false,
      relationshipName: 'LastModifiedBy',
    }),
    field('SystemModstamp', 'datetime', { system: true, nillable: false }),
  ];
  if (options.owned) {
    // Defaulted to the calling user (or by lead assignment) when not given.
    fields.push(
      reference('OwnerId', ['User'], { nillable: false, required: false, relationshipName: 'Owner' }),
    );
  }
  return fields;
}

const SALUTATIONS = ['Mr.', 'Ms.', 'Mrs.', 'Dr.', 'Prof.', 'Mx.'];
const LEAD_SOURCES = ['Web', 'Phone Inquiry', 'Partner Referral', 'Purchased List', 'Advertisement', 'Other'];
const INDUSTRIES = [
  'Agriculture',
  'Apparel',
  'Banking',
  'Biotechnology',
  'Chemicals',
  'Communications',
  'Construction',
  'Consulting',
  'Education',
  'Electronics',
  'Energy',
  'Engineering',
  'Entertainment',
  'Environmental',
  'Finance',
  'Food & Beverage',
  'Government',
  'Healthcare',
  'Hospitality',
  'Insurance',
  'Machinery',
  'Manufacturing',
  'Media',
  'Not For Profit',
  'Recreation',
  'Retail',
  'Shipping',
  'Technology',
  'Telecommunications',
  'Transportation',
  'Utilities',
  'Other',
];
const CASE_STATUSES = ['New', 'Working', 'Escalated', 'Closed'];
export const LEAD_STATUSES = [
  'Open - Not Contacted',
  'Working - Contacted',
  'Closed - Converted',
  'Closed - Not Converted',
];

/** The Account Engagement managed-package fields on Lead and Contact. */
function pardotFields(): FieldDef[] {
  return [
    field('pi__score__c', 'double', { label: 'Score', precision: 18, custom: true }),
    field('pi__grade__c', 'string', { label: 'Grade', length: 10, custom: true }),
    field('pi__url__c', 'url', { label: 'Account Engagement URL', custom: true }),
    field('pi__pardot_id__c', 'string', { label: 'Account Engagement ID', length: 64, custom: true }),
    field('pi__last_activity__c', 'datetime', { label: 'Last Activity', custom: true }),
    field('pi__campaign__c', 'string', { label: 'Account Engagement Campaign', custom: true }),
    field('pi__conversion_date__c', 'datetime', { label: 'Conversion Date', custom: true }),
    field('pi__created_date__c', 'datetime', { label: 'Account Engagement Created Date', custom: true }),
    field('pi__comments__c', 'textarea', { label: 'Comments', custom: true }),
  ];
}

function personName(): FieldDef[] {
  return [
    picklist('Salutation', SALUTATIONS),
    field('FirstName', 'string', { length: 40 }),
    field('LastName', 'string', { length: 80, nillable: false }),
    field('Name', 'string', { length: 121, calculated: true, label: 'Full Name' }),
  ];
}

function address(prefix: string): FieldDef[] {
  const p = prefix ? `${prefix}` : '';
  return [
    field(`${p}Street`, 'textarea', { length: 255 }),
    field(`${p}City`, 'string', { length: 40 }),
    field(`${p}State`, 'string', { length: 80 }),
    field(`${p}PostalCode`, 'string', { length: 20 }),
    field(`${p}Country`, 'string', { length: 80 }),
  ];
}

function object(
  name: string,
  keyPrefix: string,
  fields: FieldDef[],
  options: {
    owned?: boolean;
    labelPlural?: string;
    createable?: boolean;
    autoNumber?: ObjectDef['autoNumber'];
  } = {},
): ObjectDef {
  const createable = options.createable ?? true;
  return {
    name,
    label: name.replace(/([a-z])([A-Z])/g, '$1 $2'),
    labelPlural: options.labelPlural ?? `${name.replace(/([a-z])([A-Z])/g, '$1 $2')}s`,
    keyPrefix,
    table: `crm_${name.toLowerCase()}`,
    createable,
    updateable: createable,
    deletable: createable,
    autoNumber: options.autoNumber,
    fields: [...systemFields({ owned: options.owned ?? true }), ...fields],
  };
}

/**
 * The standard objects of the embedded CRM: the fields integrations rely on as written here
 * (types, lengths, picklists), completed with every other standard field of jsforce's schema.
 */
export function standardObjects(): ObjectDef[] {
  return nameChildRelationships(curatedObjects().map(completeFromFacts));
}

function curatedObjects(): ObjectDef[] {
  return [
    object(
      'Organization',
      '00D',
      [
        field('Name', 'string', { length: 80, nillable: false }),
        field('OrganizationType', 'string', { length: 40, createable: false }),
        field('IsSandbox', 'boolean', { createable: false }),
        field('InstanceName', 'string', { length: 5, createable: false }),
        field('TimeZoneSidKey', 'string', { length: 40, createable: false }),
        field('TrialExpirationDate', 'datetime', { createable: false }),
        field('NamespacePrefix', 'string', { length: 15, createable: false }),
        field('LanguageLocaleKey', 'string', { length: 40, createable: false }),
        field('DefaultLocaleSidKey', 'string', { length: 40, createable: false }),
      ],
      { owned: false, createable: false },
    ),
    object(
      'User',
      '005',
      [
        field('Username', 'string', { length: 80, nillable: false, unique: true }),
        field('FirstName', 'string', { length: 40 }),
        field('LastName', 'string', { length: 80, nillable: false }),
        field('Name', 'string', { length: 121, calculated: true, label: 'Full Name' }),
        field('Email', 'email', { length: 128, nillable: false }),
        field('Alias', 'string', { length: 8 }),
        field('IsActive', 'boolean', { defaultValue: true }),
        field('Title', 'string', { length: 80 }),
        field('TimeZoneSidKey', 'string', { length: 40, defaultValue: 'GMT' }),
      ],
      { owned: false },
    ),
    object('Account', '001', [
      field('Name', 'string', { length: 255, nillable: false }),
      field('AccountNumber', 'string', { length: 40 }),
      field('Site', 'string', { length: 80, label: 'Account Site' }),
      picklist('AccountSource', LEAD_SOURCES),
      picklist('Rating', ['Hot', 'Warm', 'Cold']),
      picklist('Type', ['Prospect', 'Customer - Direct', 'Customer - Channel', 'Partner', 'Other']),
      picklist('Industry', INDUSTRIES),
      field('Phone', 'phone'),
      field('Website', 'url'),
      field('AnnualRevenue', 'currency'),
      field('NumberOfEmployees', 'int', { precision: 8 }),
      field('Description', 'textarea'),
      // In every org, though jsforce's schema types leave them out; Data Loader's Account CSVs carry them.
      field('Sic', 'string', { length: 20, label: 'SIC Code' }),
      picklist('Ownership', ['Public', 'Private', 'Subsidiary', 'Other']),
      field('TickerSymbol', 'string', { length: 20, label: 'Ticker Symbol' }),
      reference('ParentId', ['Account'], { childRelationshipName: 'ChildAccounts' }),
      ...address('Billing'),
      ...address('Shipping'),
      reference('MasterRecordId', ['Account'], {
        createable: false,
        updateable: false,
        relationshipName: 'MasterRecord',
      }),
    ]),
    object('Contact', '003', [
      ...personName(),
      reference('AccountId', ['Account'], { childRelationshipName: 'Contacts' }),
      field('Email', 'email'),
      field('Phone', 'phone'),
      field('MobilePhone', 'phone'),
      field('Fax', 'phone'),
      field('Title', 'string', { length: 128 }),
      field('Department', 'string', { length: 80 }),
      picklist('LeadSource', LEAD_SOURCES),
      field('Description', 'textarea'),
      field('HasOptedOutOfEmail', 'boolean', { label: 'Email Opt Out' }),
      field('DoNotCall', 'boolean'),
      ...address('Mailing'),
      reference('MasterRecordId', ['Contact'], {
        createable: false,
        updateable: false,
        relationshipName: 'MasterRecord',
      }),
      ...pardotFields(),
    ]),
    object('Lead', '00Q', [
      ...personName(),
      field('Company', 'string', { length: 255, nillable: false }),
      field('Title', 'string', { length: 128 }),
      field('Email', 'email'),
      field('Phone', 'phone'),
      field('MobilePhone', 'phone'),
      field('Fax', 'phone'),
      field('Website', 'url'),
      ...address(''),
      picklist('Industry', INDUSTRIES),
      field('AnnualRevenue', 'currency'),
      field('NumberOfEmployees', 'int', { precision: 8 }),
      picklist('LeadSource', LEAD_SOURCES),
      picklist('Status', LEAD_STATUSES, {
        nillable: false,
        defaultValue: 'Open - Not Contacted',
        restrictedPicklist: true,
      }),
      picklist('Rating', ['Hot', 'Warm', 'Cold'], { restrictedPicklist: true }),
      field('Description', 'textarea'),
      field('HasOptedOutOfEmail', 'boolean', { label: 'Email Opt Out' }),
      field('DoNotCall', 'boolean'),
      field('IsUnreadByOwner', 'boolean', { createable: false }),
      reference('MasterRecordId', ['Lead'], {
        createable: false,
        updateable: false,
        relationshipName: 'MasterRecord',
      }),
      field('IsConverted', 'boolean', { createable: false }),
      field('ConvertedDate', 'date', { createable: false }),
      reference('ConvertedAccountId', ['Account'], { createable: false }),
      reference('ConvertedContactId', ['Contact'], { createable: false }),
      reference('ConvertedOpportunityId', ['Opportunity'], { createable: false }),
      ...pardotFields(),
    ]),
    object(
      'Opportunity',
      '006',
      [
        field('Name', 'string', { length: 120, nillable: false }),
        reference('AccountId', ['Account'], { childRelationshipName: 'Opportunities' }),
        picklist(
          'StageName',
          [
            'Prospecting',
            'Qualification',
            'Needs Analysis',
            'Value Proposition',
            'Id. Decision Makers',
            'Perception Analysis',
            'Proposal/Price Quote',
            'Negotiation/Review',
            'Closed Won',
            'Closed Lost',
          ],
          { nillable: false, restrictedPicklist: true, label: 'Stage' },
        ),
        field('CloseDate', 'date', { nillable: false }),
        field('Amount', 'currency'),
        field('Probability', 'percent'),
        picklist('Type', ['Existing Customer - Upgrade', 'Existing Customer - Replacement', 'New Customer']),
        picklist('LeadSource', LEAD_SOURCES),
        reference('CampaignId', ['Campaign'], { childRelationshipName: 'Opportunities' }),
        field('IsClosed', 'boolean', { calculated: true }),
        field('IsWon', 'boolean', { calculated: true }),
        field('Description', 'textarea'),
      ],
      { labelPlural: 'Opportunities' },
    ),
    object('Campaign', '701', [
      field('Name', 'string', { length: 80, nillable: false }),
      picklist('Type', [
        'Conference',
        'Webinar',
        'Trade Show',
        'Public Relations',
        'Partners',
        'Referral Program',
        'Advertisement',
        'Banner Ads',
        'Direct Mail',
        'Email',
        'Telemarketing',
        'Other',
      ]),
      picklist('Status', ['Planned', 'In Progress', 'Completed', 'Aborted']),
      field('StartDate', 'date'),
      field('EndDate', 'date'),
      field('IsActive', 'boolean'),
      field('Description', 'textarea'),
      reference('ParentId', ['Campaign'], { childRelationshipName: 'ChildCampaigns' }),
    ]),
    object(
      'CampaignMember',
      '00v',
      [
        reference('CampaignId', ['Campaign'], {
          nillable: false,
          updateable: false,
          childRelationshipName: 'CampaignMembers',
        }),
        reference('LeadId', ['Lead'], { updateable: false, childRelationshipName: 'CampaignMembers' }),
        reference('ContactId', ['Contact'], { updateable: false, childRelationshipName: 'CampaignMembers' }),
        picklist('Status', ['Planned', 'Sent', 'Received', 'Responded', 'Attended', 'Registered']),
        field('HasResponded', 'boolean', { createable: false }),
        field('FirstRespondedDate', 'date', { createable: false }),
      ],
      { owned: false },
    ),
    object('Task', '00T', [
      field('Subject', 'string', { length: 255 }),
      picklist('Type', ['Call', 'Email', 'Meeting', 'Other']),
      picklist('Status', ['Not Started', 'In Progress', 'Completed', 'Waiting on someone else', 'Deferred'], {
        nillable: false,
        defaultValue: 'Not Started',
        restrictedPicklist: true,
      }),
      picklist('Priority', ['High', 'Normal', 'Low'], {
        nillable: false,
        defaultValue: 'Normal',
        restrictedPicklist: true,
      }),
      reference('WhoId', ['Contact', 'Lead'], { relationshipName: 'Who', childRelationshipName: 'Tasks' }),
      reference('WhatId', ['Account', 'Opportunity', 'Campaign', 'Case'], {
        relationshipName: 'What',
        childRelationshipName: 'Tasks',
      }),
      field('ActivityDate', 'date', { label: 'Due Date' }),
      field('Description', 'textarea'),
      field('IsClosed', 'boolean', { calculated: true }),
      picklist('TaskSubtype', ['Task', 'Email', 'ListEmail', 'Call'], { updateable: false }),
      // Installed with Handoff (as Account Engagement's package adds its pi__ fields): the
      // marketing activity a Task was made from, the key its upserts match on.
      field('Handoff_Activity_Id__c', 'string', {
        label: 'Handoff Activity ID',
        length: 80,
        custom: true,
        externalId: true,
        unique: true,
      }),
    ]),
    object(
      'Case',
      '500',
      [
        // Numbered by the server in creation order, as Salesforce's auto-number does.
        field('CaseNumber', 'string', { length: 30, calculated: true, label: 'Case Number' }),
        reference('AccountId', ['Account'], { childRelationshipName: 'Cases' }),
        reference('ContactId', ['Contact'], { childRelationshipName: 'Cases' }),
        reference('ParentId', ['Case'], { childRelationshipName: 'Cases' }),
        field('Subject', 'string', { length: 255 }),
        field('Description', 'textarea'),
        picklist('Status', CASE_STATUSES, { nillable: false, defaultValue: 'New' }),
        picklist('Priority', ['High', 'Medium', 'Low'], { defaultValue: 'Medium' }),
        picklist('Origin', ['Phone', 'Email', 'Web']),
        picklist('Type', ['Mechanical', 'Electrical', 'Electronic', 'Structural', 'Other']),
        picklist('Reason', [
          'Installation',
          'Equipment Complexity',
          'Performance',
          'Breakdown',
          'Equipment Design',
          'Feedback',
          'Other',
        ]),
        field('SuppliedName', 'string', { length: 80, label: 'Web Name' }),
        field('SuppliedEmail', 'email', { label: 'Web Email' }),
        field('SuppliedPhone', 'string', { length: 40, label: 'Web Phone' }),
        field('SuppliedCompany', 'string', { length: 80, label: 'Web Company' }),
        field('IsClosed', 'boolean', { calculated: true, label: 'Closed' }),
        field('ClosedDate', 'datetime', { createable: false }),
        field('IsEscalated', 'boolean', { label: 'Escalated' }),
      ],
      { autoNumber: { field: 'CaseNumber', displayFormat: '{00000000}' } },
    ),
    object('Event', '00U', [
      field('Subject', 'string', { length: 255 }),
      picklist('Type', ['Call', 'Email', 'Meeting', 'Other']),
      reference('WhoId', ['Contact', 'Lead'], { relationshipName: 'Who', childRelationshipName: 'Events' }),
      reference('WhatId', ['Account', 'Opportunity', 'Campaign', 'Case'], {
        relationshipName: 'What',
        childRelationshipName: 'Events',
      }),
      field('ActivityDateTime', 'datetime', { label: 'Due Date Time' }),
      field('ActivityDate', 'date', { label: 'Due Date Only' }),
      field('StartDateTime', 'datetime', { label: 'Start Date Time' }),
      field('EndDateTime', 'datetime', { label: 'End Date Time' }),
      field('DurationInMinutes', 'int', { label: 'Duration' }),
      field('IsAllDayEvent', 'boolean', { label: 'All-Day Event' }),
      field('Location', 'string', { length: 255 }),
      field('Description', 'textarea'),
      picklist('ShowAs', ['Busy', 'OutOfOffice', 'Free'], { defaultValue: 'Busy', label: 'Show Time As' }),
    ]),
    // The Streaming API's own records: a PushTopic names a SOQL query whose matching changes
    // go to `/topic/{Name}`; a StreamingChannel names a `/u/…` channel for generic events.
    object(
      'PushTopic',
      '0IF',
      [
        field('Name', 'string', { length: 25, nillable: false, unique: true, label: 'Topic Name' }),
        field('Query', 'string', { length: 1300, nillable: false, label: 'SOQL Query' }),
        field('ApiVersion', 'double', { nillable: false, precision: 18, scale: 1, label: 'API Version' }),
        field('IsActive', 'boolean', { defaultValue: true, label: 'Is Active' }),
        picklist('NotifyForFields', ['All', 'Referenced', 'Select', 'Where'], {
          defaultValue: 'Referenced',
          restrictedPicklist: true,
          nillable: false,
        }),
        field('NotifyForOperationCreate', 'boolean', { defaultValue: true, label: 'Create' }),
        field('NotifyForOperationUpdate', 'boolean', { defaultValue: true, label: 'Update' }),
        field('NotifyForOperationDelete', 'boolean', { defaultValue: true, label: 'Delete' }),
        field('NotifyForOperationUndelete', 'boolean', { defaultValue: true, label: 'Undelete' }),
        field('Description', 'string', { length: 400 }),
      ],
      { owned: false },
    ),
    object('StreamingChannel', '0M6', [
      field('Name', 'string', { length: 80, nillable: false, unique: true, label: 'Streaming Channel Name' }),
      field('IsDynamic', 'boolean', { createable: false, label: 'Is Dynamic' }),
      field('Description', 'string', { length: 255 }),
    ]),
  ];
}
