import type { ProspectValue } from './prospect-fields.js';

/** A prospect as the engine sees it: v5 field names (custom fields as `name__c`) to values. */
export interface Prospect {
  id: number;
  unitId: string;
  isDeleted: boolean;
  values: Record<string, ProspectValue>;
}

/** Who made a change, for the field history the connector and console read. */
export interface Actor {
  type: 'user' | 'api' | 'import' | 'form' | 'sync' | 'system';
  /** The CRM user id behind an API call, the form id, the import id … */
  id?: string | null;
}

/** One field's change, as history keeps it. */
export interface FieldChange {
  prospectId: number;
  field: string;
  oldValue: ProspectValue;
  newValue: ProspectValue;
  changedAt: string;
  actor: Actor;
}

/** The fields whose values differ between `before` and `after` (only fields `after` names). */
export function diffValues(
  before: Record<string, ProspectValue>,
  after: Record<string, ProspectValue>,
): Array<{ field: string; oldValue: ProspectValue; newValue: ProspectValue }> {
  const out: Array<{ field: string; oldValue: ProspectValue; newValue: ProspectValue }> = [];
  for (const [field, newValue] of Object.entries(after)) {
    const oldValue = before[field] ?? null;
    if (oldValue !== newValue) out.push({ field, oldValue, newValue });
  }
  return out;
}

/** The changes history keeps: every field that changed but the record's own timestamps. */
export function historyChanges(
  before: Record<string, ProspectValue>,
  after: Record<string, ProspectValue>,
): Array<{ field: string; oldValue: ProspectValue; newValue: ProspectValue }> {
  return diffValues(before, after).filter((c) => c.field !== 'createdAt' && c.field !== 'updatedAt');
}

/**
 * The field name of a creation's history row. A new prospect's fields are all set at once, from
 * nothing, so history keeps them as one row (the fields and values as JSON) rather than one
 * row a field: an import of 100,000 prospects writes 100,000 rows, not 800,000. Reading
 * history spreads the row back into one change a field (`spreadCreation`).
 */
export const CREATION_FIELD = '*';

/** A new prospect's history: every field it was given a value for, as one change. */
export function creationChange(
  prospectId: number,
  values: Record<string, ProspectValue>,
  changedAt: string,
  actor: Actor,
): FieldChange | null {
  const set = historyChanges({}, values);
  if (set.length === 0) return null;
  const pairs = set.map((c) => [c.field, c.newValue]);
  return {
    prospectId,
    field: CREATION_FIELD,
    oldValue: null,
    newValue: JSON.stringify(pairs),
    changedAt,
    actor,
  };
}

/** A creation row's fields and values, in the order they were given. */
export function spreadCreation(newValue: string): Array<{ field: string; value: ProspectValue }> {
  const pairs = JSON.parse(newValue) as Array<[string, ProspectValue]>;
  return pairs.map(([field, value]) => ({ field, value }));
}
