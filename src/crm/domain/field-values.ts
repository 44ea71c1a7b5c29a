import { HandoffError } from '../../errors/handoff-error.js';
import { isTextType, type FieldDef, type FieldValue } from './schema/field-def.js';
import { keyPrefixOf, normalizeId } from './record-id.js';

// Deliberately simple: Salesforce accepts any local@domain.tld without spaces.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/;

function jsonParserError(type: string, raw: unknown): HandoffError {
  const shown = typeof raw === 'string' ? raw : JSON.stringify(raw);
  return new HandoffError(
    'JSON_PARSER_ERROR',
    `Cannot deserialize instance of ${type} from VALUE_STRING value ${shown} or request may be missing a required field`,
  );
}

function toText(f: FieldDef, raw: unknown): string | null {
  if (typeof raw === 'string') return raw === '' ? null : raw;
  if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  throw jsonParserError('String', raw);
}

function toNumber(f: FieldDef, raw: unknown): number {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isFinite(n)) throw jsonParserError(f.type === 'int' ? 'int' : 'double', raw);
  if (f.type === 'int' && !Number.isInteger(n)) throw jsonParserError('int', raw);
  const integerDigits = Math.trunc(Math.abs(n)).toString().length;
  const maxIntegerDigits = Math.max(1, f.precision - f.scale);
  if (f.precision > 0 && integerDigits > maxIntegerDigits) {
    throw new HandoffError(
      'NUMBER_OUTSIDE_VALID_RANGE',
      `${f.label}: value outside of valid range on numeric field: ${String(raw)}`,
      { fields: [f.name] },
    );
  }
  // Salesforce stores currency and fixed-scale numbers rounded to their scale.
  if (f.scale > 0) return Math.round(n * 10 ** f.scale) / 10 ** f.scale;
  return f.type === 'int' || f.type === 'percent' ? n : n;
}

export function parseDateValue(raw: string): string | null {
  const datePart = raw.length > 10 && raw.charAt(10) === 'T' ? raw.slice(0, 10) : raw;
  const m = DATE.exec(datePart);
  if (!m) return null;
  const d = new Date(`${datePart}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== datePart) return null;
  return datePart;
}

/** ISO UTC with milliseconds, the stored form of datetimes; null when not a datetime. */
export function parseDatetimeValue(raw: string): string | null {
  if (!DATETIME.test(raw)) return null;
  // "+0000" (Salesforce's own format) is not ISO: put the colon in.
  const iso = raw.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const withZone = /(Z|[+-]\d{2}:\d{2})$/.test(iso) ? iso : `${iso}Z`;
  const t = Date.parse(withZone);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

function toBoolean(raw: unknown): boolean {
  if (typeof raw === 'boolean') return raw;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  throw jsonParserError('boolean', raw);
}

function toReference(
  f: FieldDef,
  raw: unknown,
  prefixesFor: (objectName: string) => string | undefined,
): string {
  const id = typeof raw === 'string' ? normalizeId(raw) : null;
  if (!id) {
    throw new HandoffError('MALFORMED_ID', `${f.label}: id value of incorrect type: ${String(raw)}`, {
      fields: [f.name],
    });
  }
  const allowed = f.referenceTo.map(prefixesFor).filter((p): p is string => p !== undefined);
  if (allowed.length > 0 && !allowed.includes(keyPrefixOf(id))) {
    throw new HandoffError('FIELD_INTEGRITY_EXCEPTION', `${f.label}: id value of incorrect type: ${id}`, {
      fields: [f.name],
    });
  }
  return id;
}

/**
 * Turns a JSON value from a request into the stored value of a field, or throws the error
 * Salesforce answers for it. Empty strings become null, as Salesforce stores them.
 */
export function coerceFieldValue(
  f: FieldDef,
  raw: unknown,
  prefixesFor: (objectName: string) => string | undefined,
): FieldValue {
  if (raw === null || raw === undefined) return null;
  if (isTextType(f.type)) {
    const text = toText(f, raw);
    if (text === null) return null;
    if (f.length > 0 && text.length > f.length) {
      throw new HandoffError(
        'STRING_TOO_LONG',
        `${f.label}: data value too large: ${text.slice(0, 40)} (max length=${f.length})`,
        { fields: [f.name] },
      );
    }
    if (f.type === 'email' && !EMAIL.test(text)) {
      throw new HandoffError('INVALID_EMAIL_ADDRESS', `${f.label}: invalid email address: ${text}`, {
        fields: [f.name],
      });
    }
    if (f.type === 'picklist' && f.restrictedPicklist && !f.picklistValues.includes(text)) {
      throw new HandoffError(
        'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
        `${f.label}: bad value for restricted picklist field: ${text}`,
        { fields: [f.name] },
      );
    }
    return text;
  }
  switch (f.type) {
    case 'boolean':
      return toBoolean(raw);
    case 'int':
    case 'double':
    case 'currency':
    case 'percent':
      return toNumber(f, raw);
    case 'date': {
      const value = typeof raw === 'string' ? parseDateValue(raw) : null;
      if (value === null) throw jsonParserError('date', raw);
      return value;
    }
    case 'datetime': {
      const value = typeof raw === 'string' ? parseDatetimeValue(raw) : null;
      if (value === null) throw jsonParserError('datetime', raw);
      return value;
    }
    case 'id':
    case 'reference':
      return toReference(f, raw, prefixesFor);
    default:
      return toText(f, raw);
  }
}

/** Salesforce's datetime wire format: `2026-11-22T19:52:17.000+0000`. */
export function formatDatetime(iso: string): string {
  return iso.endsWith('Z') ? `${iso.slice(0, -1)}+0000` : iso;
}
