import type { ProspectFieldType } from '../domain/prospect-fields.js';

/** A field of a simple v5 collection. */
export interface CollectionField {
  name: string;
  column: string;
  type: ProspectFieldType;
  /** Set by the engine (id, timestamps). */
  readOnly?: boolean;
  /** Must be given on create. */
  required?: boolean;
  /** Fixed after create (a membership's list and prospect). */
  createOnly?: boolean;
  /** Must name a live record of that collection in the same unit. */
  references?: 'prospects' | 'lists' | 'campaigns';
  maxLength?: number;
}

/** A v5 collection served by the generic collection routes: its table, fields and rules. */
export interface CollectionDef {
  /** The URL segment: `/api/v5/objects/{name}`. */
  name: string;
  table: string;
  /** What a missing record is called in errors. */
  label: string;
  fields: CollectionField[];
  /** Fields whose combination is unique in a unit (a prospect is on a list once). */
  unique?: string[];
  /** Filters a query may use besides ids and timestamps: equality on these fields. */
  equalityFilters?: string[];
}

function field(
  name: string,
  type: ProspectFieldType,
  options: Partial<CollectionField> = {},
): CollectionField {
  return { name, column: name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), type, ...options };
}

const SYSTEM = [
  field('id', 'id', { readOnly: true }),
  field('createdAt', 'datetime', { readOnly: true }),
  field('updatedAt', 'datetime', { readOnly: true }),
];

export const CAMPAIGNS: CollectionDef = {
  name: 'campaigns',
  table: 'marketing_campaign',
  label: 'campaign',
  fields: [
    ...SYSTEM,
    field('name', 'string', { required: true }),
    field('cost', 'integer'),
    // The linked CRM Campaign: set by the connector when marketing and CRM campaigns are paired.
    field('salesforceId', 'string', { maxLength: 18 }),
  ],
  equalityFilters: ['name', 'salesforceId'],
};

export const LISTS: CollectionDef = {
  name: 'lists',
  table: 'marketing_list',
  label: 'list',
  fields: [
    ...SYSTEM,
    field('name', 'string', { required: true }),
    field('title', 'string'),
    field('description', 'string', { maxLength: 65535 }),
    field('isPublic', 'boolean'),
    field('isDynamic', 'boolean', { readOnly: true }),
  ],
  equalityFilters: ['name'],
};

export const LIST_MEMBERSHIPS: CollectionDef = {
  name: 'list-memberships',
  table: 'marketing_list_membership',
  label: 'list membership',
  fields: [
    ...SYSTEM,
    field('listId', 'integer', { required: true, createOnly: true, references: 'lists' }),
    field('prospectId', 'integer', { required: true, createOnly: true, references: 'prospects' }),
    field('optedOut', 'boolean'),
  ],
  unique: ['listId', 'prospectId'],
  equalityFilters: ['listId', 'prospectId'],
};

export const TAGS: CollectionDef = {
  name: 'tags',
  table: 'marketing_tag',
  label: 'tag',
  fields: [...SYSTEM, field('name', 'string', { required: true })],
  unique: ['name'],
  equalityFilters: ['name'],
};

export const COLLECTIONS: readonly CollectionDef[] = [CAMPAIGNS, LISTS, LIST_MEMBERSHIPS, TAGS];
