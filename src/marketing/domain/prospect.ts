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
