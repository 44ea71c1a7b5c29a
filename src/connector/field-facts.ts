import type jsforce from 'jsforce';
import type { AccountEngagementClient } from '../clients/account-engagement/ae-client.js';
import {
  PROSPECT_FIELD_KINDS,
  STANDARD_PROSPECT_FIELDS,
  WRITABLE_PROSPECT_FIELDS,
} from '../clients/account-engagement/prospect-fields.js';
import { crmFieldType, type CrmFieldType } from './domain/crm-value.js';
import { DERIVED_PROSPECT_FIELDS } from './domain/derived-fields.js';
import {
  crmFieldKind,
  type CrmFieldFacts,
  type CrmObject,
  type FieldKind,
  type ProspectFieldFacts,
} from './domain/field-mapping.js';

/** Both sides' fields as a mapping's check needs them, read from describe and the unit. */
export interface FieldFacts {
  crm: Record<CrmObject, Map<string, CrmFieldFacts>>;
  /** Each CRM field's wire type, for the values the sync writes. */
  crmTypes: Record<CrmObject, Map<string, CrmFieldType>>;
  prospect: Map<string, ProspectFieldFacts>;
}

/** Describes Lead and Contact in the CRM: each field's kind, and whether it can be written. */
export async function readCrmFieldFacts(
  crm: jsforce.Connection,
): Promise<Pick<FieldFacts, 'crm' | 'crmTypes'>> {
  const facts = {} as FieldFacts['crm'];
  const crmTypes = {} as FieldFacts['crmTypes'];
  for (const object of ['Lead', 'Contact'] as const) {
    const describe = await crm.sobject(object).describe();
    facts[object] = crmFieldFacts(object, describe.fields);
    crmTypes[object] = new Map(describe.fields.map((f) => [f.name, crmFieldType(f.type)]));
  }
  return { crm: facts, crmTypes };
}

/** An object's fields from its describe, as a mapping's check needs them. */
export function crmFieldFacts(
  object: CrmObject,
  fields: ReadonlyArray<{ name: string; type: string; updateable: boolean; calculated: boolean }>,
): Map<string, CrmFieldFacts> {
  const facts = new Map<string, CrmFieldFacts>(
    fields.map((f) => [
      f.name,
      { kind: crmFieldKind(f.type), updateable: f.updateable, calculated: f.calculated },
    ]),
  );
  // A Contact's company is its Account's name: read through the relationship, never written.
  if (object === 'Contact' && facts.has('AccountId'))
    facts.set('Account.Name', { kind: 'text', updateable: false, calculated: false });
  return facts;
}

/** The unit's prospect fields, standard and custom, with their kinds and whether they can be written. */
export async function readProspectFieldFacts(
  marketing: AccountEngagementClient,
): Promise<Map<string, ProspectFieldFacts>> {
  const writable = new Set<string>(WRITABLE_PROSPECT_FIELDS);
  const facts = new Map<string, ProspectFieldFacts>(
    STANDARD_PROSPECT_FIELDS.map((name) => [
      name,
      { kind: PROSPECT_FIELD_KINDS[name] ?? 'text', writable: writable.has(name) },
    ]),
  );
  // Derived by the connector (the campaign's name, the prospect's URL): read, never written.
  for (const name of Object.keys(DERIVED_PROSPECT_FIELDS)) facts.set(name, { kind: 'text', writable: false });
  for (const field of await marketing.customFields())
    facts.set(`${field.fieldId}__c`, { kind: customFieldKind(field.type), writable: true });
  return facts;
}

/** A custom field's type as a kind: a Checkbox field holds chosen options, so it is text. */
function customFieldKind(type: string | undefined): FieldKind {
  if (type === 'Number') return 'number';
  if (type === 'Date') return 'date';
  return 'text';
}
