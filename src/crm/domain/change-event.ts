import type { FieldValue, ObjectDef, RecordValues } from './schema/field-def.js';

/** The objects whose changes are published, as in an org with these entities selected for CDC. */
export const CHANGE_EVENT_ENTITIES: readonly string[] = [
  'Lead',
  'Contact',
  'Account',
  'Opportunity',
  'Campaign',
  'CampaignMember',
  'Task',
];

export type ChangeType = 'CREATE' | 'UPDATE' | 'DELETE' | 'UNDELETE';

/** One record's change, as the record service saw it inside its transaction. */
export interface RecordChange {
  def: ObjectDef;
  changeType: ChangeType;
  recordId: string;
  /** CREATE/UNDELETE: the whole record; UPDATE: the changed fields with their new values. */
  values: RecordValues;
}

export interface ChangeEventHeader {
  entityName: string;
  recordIds: string[];
  changeType: ChangeType;
  changeOrigin: string;
  transactionKey: string;
  sequenceNumber: number;
  commitTimestamp: number;
  commitNumber: number;
  commitUser: string;
  changedFields: string[];
  nulledFields: string[];
  diffFields: string[];
}

/** The body of a change event: the header and the record's values (compound fields nested). */
export type ChangeEventPayload = { ChangeEventHeader: ChangeEventHeader } & Record<string, unknown>;

/** `/data/LeadChangeEvent`; custom objects drop the `c` of `__c`, as Salesforce names them. */
export function changeEventChannel(entity: string): string {
  const base = entity.endsWith('__c') ? entity.slice(0, -1) : entity;
  return `/data/${base}ChangeEvent`;
}

export const ALL_CHANGE_EVENTS_CHANNEL = '/data/ChangeEvents';

/**
 * Compound fields as change events nest them: a Lead's `FirstName` travels as `Name.FirstName`,
 * an Account's `BillingCity` as `BillingAddress.City`.
 */
const COMPOUNDS: Record<string, Array<{ name: string; components: Record<string, string> }>> = {
  Lead: [personName(), address('Address', '')],
  Contact: [personName(), address('MailingAddress', 'Mailing')],
  Account: [address('BillingAddress', 'Billing'), address('ShippingAddress', 'Shipping')],
};

function personName() {
  return {
    name: 'Name',
    components: { Salutation: 'Salutation', FirstName: 'FirstName', LastName: 'LastName' },
  };
}

function address(name: string, prefix: string) {
  const parts = ['Street', 'City', 'State', 'PostalCode', 'Country'];
  return { name, components: Object.fromEntries(parts.map((p) => [`${prefix}${p}`, p])) };
}

// Not in the body: the id is in the header, and these are bookkeeping or shown by the compound.
const LEFT_OUT = new Set(['Id', 'IsDeleted', 'SystemModstamp']);

function isLeftOut(def: ObjectDef, field: string): boolean {
  if (LEFT_OUT.has(field)) return true;
  // A person's calculated full name is replaced by the Name compound.
  return field === 'Name' && COMPOUNDS[def.name]?.some((c) => c.name === 'Name') === true;
}

/** Where a field sits in the body: its compound and component, or itself. */
function placeOf(def: ObjectDef, field: string): { compound?: string; key: string } {
  for (const compound of COMPOUNDS[def.name] ?? []) {
    const component = compound.components[field];
    if (component) return { compound: compound.name, key: component };
  }
  return { key: field };
}

/**
 * The body fields and header field lists of a change, as CometD subscribers receive them:
 * CREATE and UNDELETE carry the record's non-empty fields; UPDATE the changed fields (nulled
 * ones as null, also listed in `nulledFields`); DELETE only the header.
 */
export function changeEventBody(change: RecordChange): {
  body: Record<string, unknown>;
  changedFields: string[];
  nulledFields: string[];
} {
  const body: Record<string, unknown> = {};
  const changedFields: string[] = [];
  const nulledFields: string[] = [];
  if (change.changeType === 'DELETE') return { body, changedFields, nulledFields };
  const isUpdate = change.changeType === 'UPDATE';
  for (const f of change.def.fields) {
    if (!(f.name in change.values) || isLeftOut(change.def, f.name)) continue;
    const value: FieldValue = change.values[f.name] ?? null;
    if (!isUpdate && value === null) continue;
    const place = placeOf(change.def, f.name);
    const path = place.compound ? `${place.compound}.${place.key}` : place.key;
    if (place.compound) {
      const nested = (body[place.compound] ??= {}) as Record<string, unknown>;
      nested[place.key] = value;
    } else {
      body[place.key] = value;
    }
    if (isUpdate) {
      changedFields.push(path);
      if (value === null) nulledFields.push(path);
    }
  }
  return { body, changedFields, nulledFields };
}
