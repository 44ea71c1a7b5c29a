import type { FieldValue, RecordValues } from './schema/field-def.js';

/** One `LeadConvert` of the SOAP API. */
export interface LeadConvertRequest {
  leadId: string;
  convertedStatus: string | null;
  accountId: string | null;
  contactId: string | null;
  opportunityName: string | null;
  doNotCreateOpportunity: boolean;
  overwriteLeadSource: boolean;
  ownerId: string | null;
}

export const CONVERTED_STATUSES: ReadonlySet<string> = new Set(['Closed - Converted']);

type Mapping = ReadonlyArray<readonly [from: string, to: string]>;

// What a converted Lead's fields become on the new records (the standard lead field mapping).
const TO_ACCOUNT: Mapping = [
  ['Company', 'Name'],
  ['Industry', 'Industry'],
  ['AnnualRevenue', 'AnnualRevenue'],
  ['NumberOfEmployees', 'NumberOfEmployees'],
  ['Website', 'Website'],
  ['Phone', 'Phone'],
  ['Street', 'BillingStreet'],
  ['City', 'BillingCity'],
  ['State', 'BillingState'],
  ['PostalCode', 'BillingPostalCode'],
  ['Country', 'BillingCountry'],
];

const TO_CONTACT: Mapping = [
  ['Salutation', 'Salutation'],
  ['FirstName', 'FirstName'],
  ['LastName', 'LastName'],
  ['Email', 'Email'],
  ['Phone', 'Phone'],
  ['MobilePhone', 'MobilePhone'],
  ['Title', 'Title'],
  ['LeadSource', 'LeadSource'],
  ['Description', 'Description'],
  ['HasOptedOutOfEmail', 'HasOptedOutOfEmail'],
  ['DoNotCall', 'DoNotCall'],
  ['Street', 'MailingStreet'],
  ['City', 'MailingCity'],
  ['State', 'MailingState'],
  ['PostalCode', 'MailingPostalCode'],
  ['Country', 'MailingCountry'],
  // The Account Engagement package maps its fields Lead → Contact, so the prospect's data survives.
  ['pi__score__c', 'pi__score__c'],
  ['pi__grade__c', 'pi__grade__c'],
  ['pi__url__c', 'pi__url__c'],
  ['pi__pardot_id__c', 'pi__pardot_id__c'],
  ['pi__last_activity__c', 'pi__last_activity__c'],
  ['pi__campaign__c', 'pi__campaign__c'],
  ['pi__conversion_date__c', 'pi__conversion_date__c'],
  ['pi__created_date__c', 'pi__created_date__c'],
  ['pi__comments__c', 'pi__comments__c'],
];

function mapped(lead: RecordValues, mapping: Mapping): Record<string, FieldValue> {
  const out: Record<string, FieldValue> = {};
  for (const [from, to] of mapping) {
    const value = lead[from];
    if (value !== null && value !== undefined) out[to] = value;
  }
  return out;
}

export function accountFromLead(lead: RecordValues, ownerId: string): Record<string, FieldValue> {
  return { ...mapped(lead, TO_ACCOUNT), OwnerId: ownerId };
}

export function contactFromLead(
  lead: RecordValues,
  accountId: string,
  ownerId: string,
): Record<string, FieldValue> {
  return { ...mapped(lead, TO_CONTACT), AccountId: accountId, OwnerId: ownerId };
}

/** Fields an existing Contact takes from the Lead: only those it has no value for yet. */
export function contactUpdateFromLead(
  lead: RecordValues,
  contact: RecordValues,
  overwriteLeadSource: boolean,
): Record<string, FieldValue> {
  const out: Record<string, FieldValue> = {};
  for (const [to, value] of Object.entries(mapped(lead, TO_CONTACT))) {
    const blank = contact[to] === null || contact[to] === undefined;
    if (blank || (to === 'LeadSource' && overwriteLeadSource)) out[to] = value;
  }
  delete out.LastName;
  return out;
}

export function opportunityFromLead(
  lead: RecordValues,
  accountId: string,
  ownerId: string,
  name: string | null,
  today: Date,
): Record<string, FieldValue> {
  // Thirty days out: a placeholder close date the rep is expected to change.
  const closeDate = new Date(today.getTime() + 30 * 86_400_000).toISOString().slice(0, 10);
  return {
    Name: name ?? `${String(lead.Company ?? '')}-`,
    AccountId: accountId,
    OwnerId: ownerId,
    StageName: 'Prospecting',
    CloseDate: closeDate,
    ...(lead.LeadSource ? { LeadSource: lead.LeadSource } : {}),
  };
}
