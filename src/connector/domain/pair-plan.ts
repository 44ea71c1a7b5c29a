import { decideField, syncValue, type SyncValue } from './decide-field.js';
import { crmIdField, type CrmObject, type FieldMapping } from './field-mapping.js';
import { crmValue, type CrmFieldType } from './crm-value.js';
import type { LinkView } from './change-priority.js';
import { crmFieldValue } from './derived-fields.js';

/** A field the plan writes, for the sync log (the API call is filled in once it is made). */
export interface PlannedChange {
  field: string;
  crmField: string;
  toSide: 'crm' | 'marketing';
  value: SyncValue;
  previous: SyncValue;
  reason: string;
}

/** What one linked pair needs written, and the pair's synced state after. */
export interface PairPlan {
  /** CRM field → value as the CRM wants it on the wire. */
  toCrm: Record<string, unknown>;
  /** Prospect field → value. */
  toMarketing: Record<string, SyncValue>;
  changes: PlannedChange[];
  /** The link's state once every write is in. */
  lastSynced: Record<string, SyncValue>;
  /** The link's state if the CRM refuses its write: those fields stay as last synced. */
  crmRefusedState: Record<string, SyncValue>;
  /**
   * The refused values still held back after this plan (prospect field → value): a field whose
   * value is what the CRM refused is not sent again; one that changed, or settled, is dropped.
   */
  refused: Record<string, SyncValue>;
  /** What the CRM write carries by prospect field: the values to hold back if it is refused. */
  toCrmByField: Record<string, SyncValue>;
}

/**
 * Decides every mapped field of a linked pair (decide-field.ts) into the writes each side needs.
 * Pure: the caller reads both records first and writes what the plan says.
 */
export function planPair(
  mappings: readonly FieldMapping[],
  types: ReadonlyMap<string, CrmFieldType>,
  link: LinkView,
  record: Record<string, unknown>,
  prospect: Record<string, unknown>,
): PairPlan {
  const plan: PairPlan = {
    toCrm: {},
    toMarketing: {},
    changes: [],
    lastSynced: { ...link.lastSynced },
    crmRefusedState: {},
    refused: {},
    toCrmByField: {},
  };
  // The same for every field: brought to compare once a pair, not once a field.
  const crmUpdatedAt = syncValue(record.SystemModstamp);
  const marketingUpdatedAt = syncValue(prospect.updatedAt);
  for (const mapping of mappings) {
    const decision = decideField(mapping, {
      lastSynced: link.lastSynced[mapping.prospectField],
      crm: syncValue(crmFieldValue(record, mapping.crmField)),
      marketing: syncValue(prospect[mapping.prospectField]),
      crmUpdatedAt,
      marketingUpdatedAt,
    });
    if (!decision) continue;
    const refused = link.refused?.[mapping.prospectField];
    if (decision.toCrm !== undefined && refused !== undefined && decision.toCrm === refused) {
      // The CRM refused exactly this value for good: held back until it changes or is retried.
      // Nothing else of the field moves meanwhile (the refused value is not echoed back).
      plan.refused[mapping.prospectField] = refused;
      continue;
    }
    plan.lastSynced[mapping.prospectField] = decision.lastSynced;
    const entry = { field: mapping.prospectField, crmField: mapping.crmField, reason: decision.reason };
    if (decision.toCrm !== undefined) {
      plan.toCrm[mapping.crmField] = crmValue(decision.toCrm, types.get(mapping.crmField));
      plan.toCrmByField[mapping.prospectField] = decision.toCrm;
      plan.changes.push({
        ...entry,
        toSide: 'crm',
        value: decision.toCrm,
        previous: syncValue(crmFieldValue(record, mapping.crmField)),
      });
    }
    if (decision.toMarketing !== undefined) {
      plan.toMarketing[mapping.prospectField] = decision.toMarketing;
      plan.changes.push({
        ...entry,
        toSide: 'marketing',
        value: decision.toMarketing,
        previous: syncValue(prospect[mapping.prospectField]),
      });
    }
  }
  plan.crmRefusedState = { ...plan.lastSynced };
  for (const mapping of mappings) {
    if (mapping.crmField in plan.toCrm)
      plan.crmRefusedState[mapping.prospectField] = link.lastSynced[mapping.prospectField] ?? null;
  }
  return plan;
}

/**
 * A new Lead's values from its prospect: the mapped fields that may flow to the CRM, the two
 * Salesforce requires (filled as the native connector does), the prospect id as the create key
 * (`pi__pardot_id__c`), and the sharing field's value when a sharing rule applies.
 */
export function newLeadValues(
  mappings: readonly FieldMapping[],
  types: ReadonlyMap<string, CrmFieldType>,
  prospect: Record<string, unknown> & { id: number },
  sharing: { field: string; value: string } | null | undefined,
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const mapping of mappings) {
    if (mapping.direction === 'crm-to-marketing') continue;
    const value = syncValue(prospect[mapping.prospectField]);
    if (value !== null) values[mapping.crmField] = crmValue(value, types.get(mapping.crmField));
  }
  values.LastName ??= '[not provided]';
  values.Company ??= '[not provided]';
  values.pi__pardot_id__c = String(prospect.id);
  if (sharing) values[sharing.field] = sharing.value;
  return values;
}

/**
 * A new prospect's values from a Lead or Contact: the mapped fields that may flow to marketing,
 * its email whichever way the email mapping goes, and the record's id (linked by CRM id).
 */
export function newProspectValues(
  object: CrmObject,
  mappings: readonly FieldMapping[],
  record: Record<string, unknown> & { Id: string },
): Record<string, SyncValue> {
  const values: Record<string, SyncValue> = {};
  for (const mapping of mappings) {
    if (mapping.direction === 'marketing-to-crm') continue;
    const value = syncValue(crmFieldValue(record, mapping.crmField));
    if (value !== null) values[mapping.prospectField] = value;
  }
  values.email ??= syncValue(record.Email);
  values.salesforceId = record.Id;
  values[crmIdField(object)] = record.Id;
  return values;
}
