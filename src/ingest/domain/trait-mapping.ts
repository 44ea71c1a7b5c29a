import { WRITABLE_PROSPECT_FIELDS } from '../../clients/account-engagement/prospect-fields.js';
import { ownValue } from '../../own-value.js';

/**
 * Segment traits → Account Engagement prospect fields. A trait matches a field by name in any
 * of its spellings (`first_name`, `firstName`, `FirstName`), Segment's spec traits have their
 * usual homes (`title` → jobTitle, `address.postalCode` → zip), and custom fields match by
 * their name or field id. What matches nothing is reported, never silently dropped.
 */

/** Segment spec traits whose name differs from the prospect field. */
const SPEC_ALIASES: Record<string, string> = {
  title: 'jobTitle',
  companyname: 'company',
  street: 'addressOne',
  postalcode: 'zip',
  description: 'comments',
  mobile: 'phone',
};

/** Traits that identify rather than describe: not prospect data, never reported unknown. */
const IGNORED = new Set([
  'id',
  'userid',
  'anonymousid',
  'createdat',
  'name',
  'avatar',
  'age',
  'birthday',
  'username',
]);

function normalize(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

const STANDARD = new Map<string, string>(WRITABLE_PROSPECT_FIELDS.map((f) => [normalize(f), f]));

export type FieldValue = string | number | boolean | null;

export interface MappedTraits {
  values: Record<string, FieldValue>;
  /** Traits that matched no field (custom field not defined in the unit …). */
  unknown: string[];
  /** Audience booleans: `{audience: true|false}` (Segment's audience traits). */
  audiences: Record<string, boolean>;
}

function scalar(value: unknown): FieldValue | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  return undefined;
}

/**
 * Maps `traits` for a unit whose custom fields are `customFields` (v5 names like
 * `Favorite_Color__c` and field ids like `Favorite_Color`). `audienceNames` are the snake_cased
 * audiences the source maps to lists.
 */
export function mapTraits(
  traits: Record<string, unknown>,
  customFields: ReadonlyArray<{ name: string; fieldId: string }>,
  audienceNames: ReadonlySet<string> = new Set(),
): MappedTraits {
  const custom = new Map<string, string>();
  for (const field of customFields) {
    const v5Name = `${field.fieldId}__c`;
    custom.set(normalize(field.fieldId), v5Name);
    custom.set(normalize(v5Name), v5Name);
    custom.set(normalize(field.name), v5Name);
  }
  const out: MappedTraits = { values: {}, unknown: [], audiences: {} };

  const put = (trait: string, value: unknown): void => {
    const key = normalize(trait);
    if (audienceNames.has(trait) && typeof value === 'boolean') {
      out.audiences[trait] = value;
      return;
    }
    const field =
      STANDARD.get(key) ?? STANDARD.get(normalize(ownValue(SPEC_ALIASES, key) ?? '')) ?? custom.get(key);
    const v = scalar(value);
    if (field && v !== undefined) {
      // An explicit field beats a spec alias given in the same call (`jobTitle` over `title`).
      if (!(field in out.values) || STANDARD.get(key) === field) out.values[field] = v;
      return;
    }
    if (!IGNORED.has(key)) out.unknown.push(trait);
  };

  for (const [trait, value] of Object.entries(traits)) {
    if (value === undefined) continue;
    if (trait === 'address' && typeof value === 'object' && value !== null) {
      for (const [part, v] of Object.entries(value)) put(part, v);
    } else if (trait === 'company' && typeof value === 'object' && value !== null) {
      const { name, industry, employee_count: employees } = value as Record<string, unknown>;
      if (name !== undefined) put('company', name);
      if (industry !== undefined) put('industry', industry);
      if (employees !== undefined) put('employees', String(employees));
    } else {
      put(trait, value);
    }
  }
  // An empty email would blank the prospect's key: never send it.
  if (out.values.email === '' || out.values.email === null) delete out.values.email;
  return out;
}

/** The email a message's traits carry, lowercased for matching, or null. */
export function traitEmail(traits: Record<string, unknown> | undefined): string | null {
  const email = traits?.email;
  return typeof email === 'string' && email.trim() !== '' ? email.trim() : null;
}
