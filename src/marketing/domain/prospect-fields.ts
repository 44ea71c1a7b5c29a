import { parseUnitDatetime } from './unit-time.js';
import { MarketingError } from './marketing-error.js';

export type ProspectFieldType =
  | 'id'
  | 'string'
  | 'email'
  | 'integer'
  | 'number'
  | 'boolean'
  | 'datetime'
  | 'grade'
  /** JSON kept as text (automation conditions and actions): given as a value or as its text. */
  | 'json';

/** A standard prospect field: its v5 name, its v3/v4 name, its column, and who may write it. */
export interface ProspectField {
  /** v5 (camelCase) name. */
  name: string;
  /** v3/v4 (snake_case) name. */
  legacy: string;
  column: string;
  type: ProspectFieldType;
  /** Set by the engine (ids, timestamps) or by the CRM connector only (the salesforce* links). */
  readOnly: boolean;
  /** Written by the CRM sync through the connector's own calls (not by ordinary API users). */
  syncOnly?: boolean;
  maxLength?: number;
}

function f(
  name: string,
  type: ProspectFieldType,
  options: Partial<Pick<ProspectField, 'legacy' | 'readOnly' | 'syncOnly' | 'maxLength'>> = {},
): ProspectField {
  const snake = name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return {
    name,
    legacy: options.legacy ?? snake,
    column: snake,
    type,
    readOnly: options.readOnly ?? false,
    syncOnly: options.syncOnly,
    maxLength: options.maxLength ?? (type === 'string' || type === 'email' ? 255 : undefined),
  };
}

/** The standard fields of a prospect (API-FACTS.md), in the order reads list them. */
export const PROSPECT_FIELDS: readonly ProspectField[] = [
  f('id', 'id', { readOnly: true }),
  f('email', 'email'),
  f('salutation', 'string', { maxLength: 40 }),
  f('firstName', 'string', { maxLength: 40 }),
  f('lastName', 'string', { maxLength: 80 }),
  f('company', 'string'),
  f('jobTitle', 'string', { maxLength: 128 }),
  f('department', 'string'),
  f('phone', 'string', { maxLength: 40 }),
  f('fax', 'string', { maxLength: 40 }),
  f('website', 'string'),
  f('addressOne', 'string'),
  f('addressTwo', 'string'),
  f('city', 'string', { maxLength: 40 }),
  f('state', 'string', { maxLength: 80 }),
  f('zip', 'string', { maxLength: 20 }),
  f('country', 'string', { maxLength: 80 }),
  f('industry', 'string'),
  f('annualRevenue', 'string'),
  f('employees', 'string'),
  f('source', 'string'),
  f('comments', 'string', { maxLength: 65535 }),
  f('score', 'integer'),
  f('grade', 'grade'),
  f('campaignId', 'integer'),
  f('prospectAccountId', 'integer'),
  f('assignedToId', 'integer', { legacy: 'assigned_to' }),
  f('isDoNotEmail', 'boolean'),
  f('isDoNotCall', 'boolean'),
  f('optedOut', 'boolean'),
  // Set by the engine when a recipient's mail server refuses the address for good.
  f('isEmailHardBounced', 'boolean', { readOnly: true }),
  f('emailBouncedAt', 'datetime', { readOnly: true }),
  f('emailBouncedReason', 'string', { readOnly: true }),
  f('isReviewed', 'boolean'),
  f('isStarred', 'boolean'),
  f('salesforceId', 'string', { legacy: 'crm_fid', syncOnly: true }),
  f('salesforceLeadId', 'string', { legacy: 'crm_lead_fid', syncOnly: true }),
  f('salesforceContactId', 'string', { legacy: 'crm_contact_fid', syncOnly: true }),
  f('salesforceAccountId', 'string', { legacy: 'crm_account_fid', syncOnly: true }),
  f('salesforceOwnerId', 'string', { legacy: 'crm_owner_fid', syncOnly: true }),
  f('salesforceLastSync', 'datetime', { legacy: 'crm_last_sync', syncOnly: true }),
  f('convertedAt', 'datetime', { readOnly: true }),
  f('convertedFromObjectType', 'string', { readOnly: true }),
  f('lastActivityAt', 'datetime', { readOnly: true }),
  f('createdAt', 'datetime', { readOnly: true }),
  f('updatedAt', 'datetime', { readOnly: true }),
];

export const FIELD_BY_NAME = new Map(PROSPECT_FIELDS.map((field) => [field.name, field]));
export const FIELD_BY_LEGACY = new Map(PROSPECT_FIELDS.map((field) => [field.legacy, field]));

export const GRADES = ['A+', 'A', 'A-', 'B+', 'B', 'B-', 'C+', 'C', 'C-', 'D+', 'D', 'D-', 'F'];

export type ProspectValue = string | number | boolean | null;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function isValidEmail(value: string): boolean {
  return value.length <= 255 && EMAIL.test(value);
}

/**
 * The stored value of `raw` for a field, from JSON (v5) or form text (v3/v4), or the error the
 * service answers. Empty strings clear a field.
 */
export function coerceProspectValue(
  field: { name: string; type: ProspectFieldType; maxLength?: number },
  raw: unknown,
  timeZone = 'UTC',
): ProspectValue {
  if (raw === null || raw === undefined || raw === '') return null;
  const invalid = () =>
    new MarketingError(62, `Invalid value for field ${field.name}: ${JSON.stringify(raw).slice(0, 80)}`);
  switch (field.type) {
    case 'json':
      return typeof raw === 'string' ? raw : JSON.stringify(raw);
    case 'email': {
      if (typeof raw !== 'string' || !isValidEmail(raw.trim())) throw new MarketingError(4);
      return raw.trim();
    }
    case 'integer':
    case 'id': {
      const n =
        typeof raw === 'number'
          ? raw
          : typeof raw === 'string' && /^-?\d+$/.test(raw.trim())
            ? Number(raw)
            : NaN;
      if (!Number.isSafeInteger(n)) throw invalid();
      return n;
    }
    case 'number': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : NaN;
      if (!Number.isFinite(n)) throw invalid();
      return n;
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      if (raw === 1 || raw === '1' || raw === 'true') return true;
      if (raw === 0 || raw === '0' || raw === 'false') return false;
      throw invalid();
    }
    case 'datetime': {
      const at = typeof raw === 'string' ? parseUnitDatetime(raw, timeZone) : null;
      if (at === null) throw invalid();
      return at;
    }
    case 'grade': {
      if (typeof raw !== 'string' || !GRADES.includes(raw.trim())) throw invalid();
      return raw.trim();
    }
    default: {
      if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') throw invalid();
      const text = String(raw);
      if (field.maxLength !== undefined && text.length > field.maxLength) {
        throw new MarketingError(
          62,
          `Invalid value for field ${field.name}: longer than ${field.maxLength} characters`,
        );
      }
      return text;
    }
  }
}
