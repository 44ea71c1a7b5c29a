/** Salesforce field types we model (the `type` in describe). */
export const FIELD_TYPES = [
  'id',
  'string',
  'textarea',
  'email',
  'phone',
  'url',
  'picklist',
  'boolean',
  'int',
  'double',
  'currency',
  'percent',
  'date',
  'datetime',
  'reference',
] as const;

export type FieldType = (typeof FIELD_TYPES)[number];

export type FieldValue = string | number | boolean | null;
/** A record as domain code sees it: canonical field names to values (datetimes as ISO UTC). */
export type RecordValues = Record<string, FieldValue>;

export interface FieldDef {
  name: string;
  label: string;
  type: FieldType;
  /** Max characters for text types, 0 otherwise. */
  length: number;
  precision: number;
  scale: number;
  nillable: boolean;
  createable: boolean;
  updateable: boolean;
  /** Must be given on create (not nillable, createable, no default). */
  required: boolean;
  defaultValue: FieldValue;
  picklistValues: string[];
  restrictedPicklist: boolean;
  referenceTo: string[];
  relationshipName: string | null;
  /** A reference field's name on the parent's side: `Contacts` for Contact.AccountId. */
  childRelationshipName: string | null;
  externalId: boolean;
  unique: boolean;
  custom: boolean;
  /** Computed by the server from other fields (Name, IsClosed …). */
  calculated: boolean;
  /** Maintained by the server (Id, CreatedDate, SystemModstamp …). */
  system: boolean;
}

export interface ObjectDef {
  name: string;
  label: string;
  labelPlural: string;
  keyPrefix: string;
  /** The table that stores it (owned by the CRM area). */
  table: string;
  createable: boolean;
  updateable: boolean;
  deletable: boolean;
  /** Declared by the org (a `__c` object) rather than standard. */
  custom?: boolean | undefined;
  /**
   * Read through a store view of other objects' records (ActivityHistory), never stored: no
   * table, key prefix or records of its own, and read only as a parent's subquery.
   */
  view?: boolean | undefined;
  /** A field the server numbers as records are made (Case's CaseNumber, an AutoNumber name). */
  autoNumber?: { field: string; displayFormat: string } | undefined;
  fields: FieldDef[];
}

type FieldOptions = Partial<Omit<FieldDef, 'name' | 'type'>>;

const TEXT_TYPES: ReadonlySet<FieldType> = new Set([
  'string',
  'textarea',
  'email',
  'phone',
  'url',
  'picklist',
]);

export function isTextType(type: FieldType): boolean {
  return TEXT_TYPES.has(type);
}

function labelFor(name: string): string {
  return name
    .replace(/__c$/, '')
    .replace(/Id$/, ' ID')
    .replace(/_/g, ' ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .trim();
}

export function field(name: string, type: FieldType, options: FieldOptions = {}): FieldDef {
  const system = options.system ?? false;
  const calculated = options.calculated ?? false;
  const createable = options.createable ?? !(system || calculated);
  const nillable = options.nillable ?? type !== 'boolean';
  const defaultValue = options.defaultValue ?? (type === 'boolean' ? false : null);
  const defaultLength =
    type === 'textarea' ? 32000 : type === 'email' ? 80 : type === 'phone' ? 40 : isTextType(type) ? 255 : 0;
  return {
    name,
    label: options.label ?? labelFor(name),
    type,
    length: options.length ?? defaultLength,
    precision:
      options.precision ?? (type === 'currency' || type === 'double' ? 18 : type === 'percent' ? 3 : 0),
    scale: options.scale ?? (type === 'currency' ? 2 : 0),
    nillable,
    createable,
    updateable: options.updateable ?? createable,
    required: options.required ?? (!nillable && createable && defaultValue === null),
    defaultValue,
    picklistValues: options.picklistValues ?? [],
    restrictedPicklist: options.restrictedPicklist ?? false,
    referenceTo: options.referenceTo ?? [],
    relationshipName: options.relationshipName ?? null,
    childRelationshipName: options.childRelationshipName ?? null,
    externalId: options.externalId ?? false,
    unique: options.unique ?? false,
    custom: options.custom ?? name.endsWith('__c'),
    calculated,
    system,
  };
}

export function reference(name: string, referenceTo: string[], options: FieldOptions = {}): FieldDef {
  const relationshipName =
    options.relationshipName ??
    (name.endsWith('__c') ? name.replace(/__c$/, '__r') : name.replace(/Id$/, ''));
  return field(name, 'reference', { ...options, referenceTo, relationshipName });
}

export function picklist(name: string, values: string[], options: FieldOptions = {}): FieldDef {
  return field(name, 'picklist', { ...options, picklistValues: values });
}
