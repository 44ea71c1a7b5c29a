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

/** Where each field of an object sits in an event body; worked out once per object. */
interface Placement {
  name: string;
  compound?: string;
  key: string;
  /** `Name.FirstName` for components, the field name otherwise. */
  path: string;
}

const placements = new WeakMap<ObjectDef, Placement[]>();

function placementsOf(def: ObjectDef): Placement[] {
  let list = placements.get(def);
  if (list) return list;
  const compounds = COMPOUNDS[def.name] ?? [];
  // A person's calculated full name is replaced by the Name compound.
  const hasNameCompound = compounds.some((c) => c.name === 'Name');
  list = [];
  for (const f of def.fields) {
    if (LEFT_OUT.has(f.name) || (f.name === 'Name' && hasNameCompound)) continue;
    const compound = compounds.find((c) => c.components[f.name] !== undefined);
    const key = compound?.components[f.name] ?? f.name;
    list.push(
      compound
        ? { name: f.name, compound: compound.name, key, path: `${compound.name}.${key}` }
        : { name: f.name, key, path: key },
    );
  }
  placements.set(def, list);
  return list;
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
  const values = change.values;
  for (const place of placementsOf(change.def)) {
    if (!(place.name in values)) continue;
    const value: FieldValue = values[place.name] ?? null;
    if (!isUpdate && value === null) continue;
    if (place.compound) {
      const nested = (body[place.compound] ??= {}) as Record<string, unknown>;
      nested[place.key] = value;
    } else {
      body[place.key] = value;
    }
    if (isUpdate) {
      changedFields.push(place.path);
      if (value === null) nulledFields.push(place.path);
    }
  }
  return { body, changedFields, nulledFields };
}
