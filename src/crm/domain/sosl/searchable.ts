import type { FieldDef, ObjectDef } from '../schema/field-def.js';
import type { SearchScope } from './sosl.js';

const SEARCHABLE_TYPES: ReadonlySet<FieldDef['type']> = new Set([
  'string',
  'textarea',
  'email',
  'phone',
  'url',
]);
/** Objects with nothing a person would search for by text. */
const NOT_SEARCHABLE: ReadonlySet<string> = new Set(['Organization', 'CampaignMember']);
/** The name fields of an object (SOSL's NAME FIELDS); Tasks and Events go by their subject. */
const NAME_FIELDS: ReadonlySet<string> = new Set(['Name', 'FirstName', 'LastName', 'Subject', 'CaseNumber']);

/** Whether SOSL searches the object at all. */
export function isSearchable(def: ObjectDef): boolean {
  return !NOT_SEARCHABLE.has(def.name) && searchableFields(def).length > 0;
}

/** The text fields the search index holds for an object, in the schema's order. */
export function searchableFields(def: ObjectDef): FieldDef[] {
  if (NOT_SEARCHABLE.has(def.name)) return [];
  return def.fields.filter((f) => SEARCHABLE_TYPES.has(f.type) || (f.name === 'Name' && f.type === 'string'));
}

/** The fields of one `IN … FIELDS` scope. */
export function scopeFields(def: ObjectDef, scope: SearchScope): FieldDef[] {
  const all = searchableFields(def);
  switch (scope) {
    case 'ALL':
      return all;
    case 'NAME':
      return all.filter((f) => NAME_FIELDS.has(f.name));
    case 'EMAIL':
      return all.filter((f) => f.type === 'email');
    case 'PHONE':
      return all.filter((f) => f.type === 'phone');
  }
}
