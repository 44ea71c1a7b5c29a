import { createHash } from 'node:crypto';
import { field, type ObjectDef } from './field-def.js';
import { systemFields } from './standard-objects.js';

/**
 * A custom object as an org declares it: the parts of Salesforce's `CustomObject` metadata the
 * CRM models. Its own fields come as custom fields naming it, like fields on standard objects.
 */
export interface CustomObjectSpec {
  name: string;
  label?: string | undefined;
  pluralLabel?: string | undefined;
  /** Pinned, when derived prefixes of two objects would meet; `a` and two base-62 characters. */
  keyPrefix?: string | undefined;
  nameField: {
    label: string;
    /** `Text`: given by the client (the record's Id when left blank); `AutoNumber`: numbered. */
    type: 'Text' | 'AutoNumber';
    /** An auto-number's pattern: literal text around `{0000}`, and `{YYYY}`, `{YY}`, `{MM}`, `{DD}`. */
    displayFormat?: string | undefined;
  };
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const CUSTOM_KEY_PREFIX = /^a[0-9A-Za-z]{2}$/;
/** `{0000}`: the number, zero-padded to the braces' width. */
const NUMBER_TOKEN = /\{(0+)\}/;

/**
 * The key prefix of a custom object: pinned, or derived from its name alone, so it stays the
 * same whatever else the org declares and in whatever order (its records' ids depend on it).
 */
export function derivedKeyPrefix(name: string): string {
  const hash = createHash('sha256').update(name.toLowerCase()).digest();
  const n = hash.readUInt32BE(0) % (BASE62.length * BASE62.length);
  return `a${BASE62.charAt(Math.floor(n / BASE62.length))}${BASE62.charAt(n % BASE62.length)}`;
}

/** Why an auto-number pattern cannot number records, or null when it can. */
export function displayFormatProblem(format: string | undefined): string | null {
  if (format === undefined) return 'an AutoNumber name field needs a displayFormat, such as {00000000}';
  return NUMBER_TOKEN.test(format) ? null : `displayFormat ${format} has no {0…} number token`;
}

/** The `n`th auto-number in `format` on `day` (a record's CreatedDate). */
export function autoNumber(format: string, n: number, day: Date): string {
  const year = String(day.getUTCFullYear());
  return format
    .replace(NUMBER_TOKEN, (_all, zeros: string) => String(n).padStart(zeros.length, '0'))
    .replace(/\{YYYY\}/g, year)
    .replace(/\{YY\}/g, year.slice(2))
    .replace(/\{MM\}/g, String(day.getUTCMonth() + 1).padStart(2, '0'))
    .replace(/\{DD\}/g, String(day.getUTCDate()).padStart(2, '0'));
}

/** The object Salesforce makes of a `CustomObject`: system fields, owner, and its Name field. */
export function customObjectDef(spec: CustomObjectSpec, keyPrefix: string): ObjectDef {
  const label = spec.label ?? spec.name.replace(/__c$/, '').replace(/_/g, ' ');
  const numbered = spec.nameField.type === 'AutoNumber';
  const name = field('Name', 'string', {
    label: spec.nameField.label,
    length: numbered ? 30 : 80,
    // A Text name left blank is given the record's Id; an auto-number is the server's own.
    nillable: true,
    required: false,
    createable: !numbered,
    updateable: !numbered,
    custom: false,
  });
  return {
    name: spec.name,
    label,
    labelPlural: spec.pluralLabel ?? label,
    keyPrefix,
    table: `crm_${spec.name.toLowerCase()}`,
    createable: true,
    updateable: true,
    deletable: true,
    custom: true,
    autoNumber: numbered
      ? { field: 'Name', displayFormat: spec.nameField.displayFormat ?? '{0}' }
      : undefined,
    fields: [
      ...systemFields({ owned: true }),
      field('LastViewedDate', 'datetime', { createable: false, updateable: false }),
      field('LastReferencedDate', 'datetime', { createable: false, updateable: false }),
      name,
    ],
  };
}
