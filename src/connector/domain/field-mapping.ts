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
    both('department', 'Department'),
    both('city', 'MailingCity'),
    both('state', 'MailingState'),
    both('zip', 'MailingPostalCode'),
    both('country', 'MailingCountry'),
  ],
};

export interface MappingProblem {
  mapping: FieldMapping;
  message: string;
}

/**
 * The mappings whose fields both sides have, and a clear message for each that does not (a
 * field missing from the CRM's describe, or from the unit's prospect fields).
 */
export function checkMappings(
  object: CrmObject,
  mappings: readonly FieldMapping[],
  crmFields: ReadonlySet<string>,
  prospectFields: ReadonlySet<string>,
): { usable: FieldMapping[]; problems: MappingProblem[] } {
  const usable: FieldMapping[] = [];
  const problems: MappingProblem[] = [];
  for (const mapping of mappings) {
    if (!crmFields.has(mapping.crmField)) {
      problems.push({ mapping, message: `${object}.${mapping.crmField} does not exist in the CRM` });
    } else if (!prospectFields.has(mapping.prospectField)) {
      problems.push({
        mapping,
        message: `the prospect field ${mapping.prospectField} does not exist in the business unit`,
      });
    } else {
      usable.push(mapping);
    }
  }
  return { usable, problems };
}

/** The prospect field that holds the id of its CRM record of this object (beside `salesforceId`). */
export function crmIdField(object: CrmObject): 'salesforceLeadId' | 'salesforceContactId' {
  return object === 'Lead' ? 'salesforceLeadId' : 'salesforceContactId';
}
