import facts from './standard-schema.json' with { type: 'json' };
import { field, reference, type FieldDef, type ObjectDef } from './field-def.js';

/**
 * The standard objects as jsforce's schema types describe them (`standard-schema.json`, made by
 * `scripts/standard-schema.mjs` from jsforce's `standard-schema.d.ts`): every standard field
 * with its TypeScript type and nullability, and each object's parent and child relationships.
 * The hand-written definitions in standard-objects.ts carry what those types cannot say
 * (picklists, lengths, email or phone, date or date-time) for the fields integrations use; the
 * rest of each object is completed from here, so describe lists every standard field.
 */
interface FactField {
  name: string;
  type: string;
  nullable: boolean;
}

interface FactObject {
  fields: FactField[];
  parents: Record<string, string | null>;
  children: Record<string, string | null>;
}

const FACTS = facts as Record<string, FactObject>;

/** Compound fields (BillingAddress, Location) are views of their parts, which are stored. */
const COMPOUND_TYPES = new Set(['Address', 'Location']);
/** Maintained by Salesforce itself; a client cannot write them. */
const READ_ONLY = new Set([
  'LastActivityDate',
  'LastViewedDate',
  'LastReferencedDate',
  'PhotoUrl',
  'SmallPhotoUrl',
  'FullPhotoUrl',
  'MediumPhotoUrl',
  'BannerPhotoUrl',
  'SmallBannerPhotoUrl',
  'MediumBannerPhotoUrl',
  'IsProfilePhotoActive',
  'LastLoginDate',
  'LastPasswordChangeDate',
  'NumberOfFailedLogins',
  'OfflineTrialExpirationDate',
  'OfflinePdaTrialExpirationDate',
]);
/** Date-time fields whose names end in `Date` (the types say only "DateString"). */
const DATETIMES =
  /(Created|Modified|Viewed|Referenced|Bounced|Login|PasswordChange|Closed|Stamp|TrialExpiration|Completed|Reminder)Date(Time)?$|DateTime$|Modstamp$/;

export function factsOf(objectName: string): FactObject | undefined {
  return FACTS[objectName];
}

/** The served objects jsforce's schema knows, by name. */
export function factObjectNames(): string[] {
  return Object.keys(FACTS);
}

/** A field of the facts as the CRM models it, inferred from its type and name. */
function inferField(fact: FactField, parents: FactObject['parents']): FieldDef | null {
  if (COMPOUND_TYPES.has(fact.type)) return null;
  const readOnly = READ_ONLY.has(fact.name);
  // Salesforce fills many of the non-null ones itself (ForecastCategory from the stage, a user's
  // locale keys from the org); this CRM does not derive them, so it does not demand them either.
  const base = {
    nillable: fact.type !== 'boolean',
    required: false,
    createable: !readOnly,
    updateable: !readOnly,
  };
  const name = fact.name;
  const relationship = name.endsWith('Id') ? name.slice(0, -2) : null;
  if (fact.type === 'string' && relationship && relationship in parents) {
    const target = parents[relationship];
    // `Name` is Salesforce's polymorphic target (an owner may be a user or a queue).
    const to = target && target !== 'Name' ? [target] : [];
    return reference(name, to, { ...base, relationshipName: relationship });
  }
  switch (fact.type) {
    case 'boolean':
      return field(name, 'boolean', base);
    case 'number':
      return field(
        name,
        /^NumberOf|Count$|^Number|Duration|Days$|Hours$|Minutes$/.test(name) ? 'int' : 'double',
        base,
      );
    case 'DateString':
      return field(name, DATETIMES.test(name) || !/Date$/.test(name) ? 'datetime' : 'date', base);
    case 'string': {
      if (/(^|[a-z])Email$/.test(name) && !/Encoding/.test(name)) return field(name, 'email', base);
      if (/(Phone|Fax)$/.test(name)) return field(name, 'phone', base);
      if (/(Website|Url)$/.test(name)) return field(name, 'url', { ...base, length: 1000 });
      if (/Description$/.test(name)) return field(name, 'textarea', base);
      return field(name, 'string', base);
    }
    default:
      // A type this CRM does not model (base64 bodies, JSON): left out of describe.
      return null;
  }
}

/**
 * Completes a hand-written object with every standard field of the facts it lacks, placed in
 * the facts' order after its own, and names the child relationships the facts give for
 * reference fields that point at a served parent.
 */
export function completeFromFacts(def: ObjectDef): ObjectDef {
  const fact = factsOf(def.name);
  if (!fact) return def;
  const known = new Set(def.fields.map((f) => f.name.toLowerCase()));
  const added: FieldDef[] = [];
  for (const f of fact.fields) {
    if (known.has(f.name.toLowerCase())) continue;
    const inferred = inferField(f, fact.parents);
    if (inferred) added.push(inferred);
  }
  return { ...def, fields: [...def.fields, ...added] };
}

/**
 * Names, from the facts, the child relationships of served parents that the hand-written
 * definitions leave unnamed — where exactly one reference field of the child points at the
 * parent (so `Account.Cases` is Case.AccountId, but `User`'s many children stay unnamed).
 */
export function nameChildRelationships(objects: ObjectDef[]): ObjectDef[] {
  const byName = new Map(objects.map((o) => [o.name, o]));
  const named = new Map<FieldDef, string>();
  for (const parent of objects) {
    for (const [relationship, childName] of Object.entries(factsOf(parent.name)?.children ?? {})) {
      const child = childName ? byName.get(childName) : undefined;
      if (!child) continue;
      const links = child.fields.filter((f) => f.type === 'reference' && f.referenceTo.includes(parent.name));
      const [only] = links;
      if (links.length === 1 && only && !only.childRelationshipName && !named.has(only))
        named.set(only, relationship);
    }
  }
  return objects.map((o) => ({
    ...o,
    fields: o.fields.map((f) => (named.has(f) ? { ...f, childRelationshipName: named.get(f)! } : f)),
  }));
}
