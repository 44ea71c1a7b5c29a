/** Which way a mapped field may flow. */
export const DIRECTIONS = ['both', 'crm-to-marketing', 'marketing-to-crm'] as const;
export type Direction = (typeof DIRECTIONS)[number];

/** Who wins when both sides changed a field since it was last synced. */
export const CONFLICT_POLICIES = ['crm', 'marketing', 'latest', 'crm-unless-blank'] as const;
export type ConflictPolicy = (typeof CONFLICT_POLICIES)[number];

export type CrmObject = 'Lead' | 'Contact';

/** Salesforce's key prefixes of the synced objects: the first three characters of their ids. */
export const CRM_KEY_PREFIXES: Readonly<Record<string, CrmObject>> = { '00Q': 'Lead', '003': 'Contact' };

/** The object a CRM id names, by its key prefix; undefined for any other id or text. */
export function crmObjectOfId(id: string): CrmObject | undefined {
  return /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/.test(id) ? CRM_KEY_PREFIXES[id.slice(0, 3)] : undefined;
}

export interface FieldMapping {
  /** The prospect field, by its v5 name. */
  prospectField: string;
  /** The CRM field on the object. */
  crmField: string;
  direction: Direction;
  conflict: ConflictPolicy;
}

function both(prospectField: string, crmField: string, conflict: ConflictPolicy = 'crm'): FieldMapping {
  return { prospectField, crmField, direction: 'both', conflict };
}

function fromMarketing(prospectField: string, crmField: string): FieldMapping {
  return { prospectField, crmField, direction: 'marketing-to-crm', conflict: 'marketing' };
}

/** The fields both objects share, as the native connector maps them by default. */
const COMMON: FieldMapping[] = [
  both('email', 'Email'),
  both('salutation', 'Salutation'),
  both('firstName', 'FirstName'),
  both('lastName', 'LastName'),
  both('jobTitle', 'Title'),
  both('phone', 'Phone'),
  both('fax', 'Fax'),
  both('source', 'LeadSource'),
  both('optedOut', 'HasOptedOutOfEmail', 'latest'),
  both('isDoNotCall', 'DoNotCall'),
  fromMarketing('comments', 'pi__comments__c'),
  fromMarketing('score', 'pi__score__c'),
  fromMarketing('grade', 'pi__grade__c'),
  fromMarketing('lastActivityAt', 'pi__last_activity__c'),
  fromMarketing('createdAt', 'pi__created_date__c'),
  fromMarketing('convertedAt', 'pi__conversion_date__c'),
  fromMarketing('campaign', 'pi__campaign__c'),
  fromMarketing('url', 'pi__url__c'),
  fromMarketing('id', 'pi__pardot_id__c'),
];

/** Lead and Contact mappings users expect out of the box. */
export const DEFAULT_MAPPINGS: Record<CrmObject, FieldMapping[]> = {
  Lead: [
    ...COMMON,
    both('company', 'Company'),
    both('website', 'Website'),
    both('city', 'City'),
    both('state', 'State'),
    both('zip', 'PostalCode'),
    both('country', 'Country'),
    both('industry', 'Industry'),
    both('annualRevenue', 'AnnualRevenue'),
    both('employees', 'NumberOfEmployees'),
  ],
  Contact: [
    ...COMMON,
    // The Account's name: the Contact side only reads it (the native connector does the same).
    { prospectField: 'company', crmField: 'Account.Name', direction: 'crm-to-marketing', conflict: 'crm' },
    both('department', 'Department'),
    both('city', 'MailingCity'),
    both('state', 'MailingState'),
    both('zip', 'MailingPostalCode'),
    both('country', 'MailingCountry'),
  ],
};

export interface MappingProblem {
  mapping: FieldMapping;
  /** Where the mapping is in its object's list (the console marks that row). */
  index?: number;
  message: string;
}

/** What a value is, as far as a mapping's check cares: text goes anywhere, the rest must match. */
export type FieldKind = 'text' | 'number' | 'boolean' | 'date';

/** A CRM field as describe tells it. */
export interface CrmFieldFacts {
  kind: FieldKind;
  /** The connector's user may update it (describe `updateable`). */
  updateable: boolean;
  /** A formula (describe `calculated`). */
  calculated: boolean;
}

/** A prospect field as the unit has it. */
export interface ProspectFieldFacts {
  kind: FieldKind;
  /** A caller may write it (ids, timestamps and the grade are the engine's own). */
  writable: boolean;
}

/** The kind of a CRM describe type. */
export function crmFieldKind(describeType: string): FieldKind {
  if (describeType === 'boolean') return 'boolean';
  if (['int', 'double', 'currency', 'percent', 'long'].includes(describeType)) return 'number';
  if (describeType === 'date' || describeType === 'datetime') return 'date';
  return 'text';
}

/** Whether every value of one kind can become the other: anything becomes text, else alike only. */
function canBecome(from: FieldKind, to: FieldKind): boolean {
  return to === 'text' || from === to;
}

/** Why the CRM field cannot take values, or null when it can. */
function crmWriteProblem(object: CrmObject, field: string, facts: CrmFieldFacts): string | null {
  if (facts.calculated)
    return `${object}.${field} is a formula field: the CRM computes it, nothing can write it`;
  if (!facts.updateable)
    return `${object}.${field} is read-only in the CRM (a system field, or not editable by the connector's user)`;
  return null;
}

/**
 * The mappings whose fields both sides have and can carry, and a clear message for each that
 * cannot: a field missing on either side; a field a value flows to that cannot be written (a
 * system, read-only or formula field); or a value of a kind the receiving field cannot hold
 * (text into a date, a number or a checkbox).
 */
export function checkMappings(
  object: CrmObject,
  mappings: readonly FieldMapping[],
  crmFields: ReadonlyMap<string, CrmFieldFacts>,
  prospectFields: ReadonlyMap<string, ProspectFieldFacts>,
): { usable: FieldMapping[]; problems: MappingProblem[] } {
  const usable: FieldMapping[] = [];
  const problems: MappingProblem[] = [];
  mappings.forEach((mapping, index) => {
    const problem = mappingProblem(object, mapping, crmFields, prospectFields);
    if (problem) problems.push({ mapping, index, message: problem });
    else usable.push(mapping);
  });
  return { usable, problems };
}

function mappingProblem(
  object: CrmObject,
  mapping: FieldMapping,
  crmFields: ReadonlyMap<string, CrmFieldFacts>,
  prospectFields: ReadonlyMap<string, ProspectFieldFacts>,
): string | null {
  const crm = crmFields.get(mapping.crmField);
  if (!crm) return `${object}.${mapping.crmField} does not exist in the CRM`;
  const prospect = prospectFields.get(mapping.prospectField);
  if (!prospect) return `the prospect field ${mapping.prospectField} does not exist in the business unit`;
  const pair = `${mapping.prospectField} → ${object}.${mapping.crmField}`;
  if (mapping.direction !== 'crm-to-marketing') {
    const problem = crmWriteProblem(object, mapping.crmField, crm);
    if (problem) return `${pair}: ${problem}`;
    if (!canBecome(prospect.kind, crm.kind))
      return `${pair}: a ${prospect.kind} value cannot become the CRM field's ${crm.kind}`;
  }
  if (mapping.direction !== 'marketing-to-crm') {
    if (!prospect.writable)
      return `${object}.${mapping.crmField} → ${mapping.prospectField}: the prospect field ${mapping.prospectField} is read-only (the engine sets it)`;
    if (!canBecome(crm.kind, prospect.kind))
      return `${object}.${mapping.crmField} → ${mapping.prospectField}: a ${crm.kind} value cannot become the prospect field's ${prospect.kind}`;
  }
  return null;
}

/** The prospect field that holds the id of its CRM record of this object (beside `salesforceId`). */
export function crmIdField(object: CrmObject): 'salesforceLeadId' | 'salesforceContactId' {
  return object === 'Lead' ? 'salesforceLeadId' : 'salesforceContactId';
}
