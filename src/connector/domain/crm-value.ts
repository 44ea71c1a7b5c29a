import type { SyncValue } from './decide-field.js';

/** CRM describe types that are not text on the wire. */
export type CrmFieldType = 'boolean' | 'number' | 'datetime' | 'text';

/** A describe field type as the sync treats it. */
export function crmFieldType(describeType: string): CrmFieldType {
  if (describeType === 'boolean') return 'boolean';
  if (['int', 'double', 'currency', 'percent'].includes(describeType)) return 'number';
  if (describeType === 'datetime') return 'datetime';
  return 'text';
}

/** A synced value (text, or null) as the CRM field's type wants it on the wire. */
export function crmValue(value: SyncValue, type: CrmFieldType | undefined): unknown {
  if (value === null) return null;
  if (type === 'boolean') return value === 'true';
  if (type === 'number') return Number(value);
  return value;
}
