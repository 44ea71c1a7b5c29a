import type { CustomFieldConfig } from '../../crm-config.js';
import type { CustomObjectSpec } from './custom-objects.js';
import { displayFormatProblem } from './custom-objects.js';

/** A `CustomObject` file as fast-xml-parser reads it (tag values as strings, repeats as arrays). */
type Xml = Record<string, unknown>;

/** What one `objects/X.object` file declares: the object (when custom) and its custom fields. */
export interface ObjectDeclaration {
  object: CustomObjectSpec | null;
  fields: CustomFieldConfig[];
}

/** Metadata field types and the CRM types they become; the rest are refused by name. */
const FIELD_TYPES: Record<string, CustomFieldConfig['type']> = {
  Text: 'string',
  TextArea: 'textarea',
  LongTextArea: 'textarea',
  Html: 'textarea',
  Email: 'email',
  Phone: 'phone',
  Url: 'url',
  Number: 'double',
  Currency: 'currency',
  Percent: 'percent',
  Checkbox: 'boolean',
  Date: 'date',
  DateTime: 'datetime',
  Picklist: 'picklist',
  Lookup: 'reference',
  MasterDetail: 'reference',
};

function many(value: unknown): unknown[] {
  if (value === undefined || value === null || value === '') return [];
  return Array.isArray(value) ? value : [value];
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function integer(value: unknown): number | undefined {
  const t = text(value);
  return t === undefined ? undefined : Number.parseInt(t, 10);
}

function picklistValues(raw: Xml): { values: string[]; restricted: boolean } {
  const valueSet = (raw.valueSet ?? {}) as Xml;
  const definition = (valueSet.valueSetDefinition ?? {}) as Xml;
  const values = many(definition.value)
    .map((v) => text((v as Xml).fullName))
    .filter((v): v is string => v !== undefined);
  return { values, restricted: valueSet.restricted === 'true' };
}

/** One `<fields>` element as a custom field, or why it cannot be one. */
function customField(objectName: string, raw: Xml): CustomFieldConfig | string {
  const name = text(raw.fullName) ?? '';
  const kind = text(raw.type) ?? '';
  if (raw.formula !== undefined) return `${objectName}.${name}: formula fields are not modelled`;
  const type = FIELD_TYPES[kind];
  if (!type) return `${objectName}.${name}: fields of type ${kind || '(none)'} are not modelled`;
  const picklist = type === 'picklist' ? picklistValues(raw) : undefined;
  const relationship = text(raw.relationshipName);
  return {
    object: objectName,
    name,
    type,
    label: text(raw.label),
    length: integer(raw.length) ?? (kind === 'TextArea' ? 255 : kind === 'Html' ? 32768 : undefined),
    precision: integer(raw.precision),
    scale: integer(raw.scale),
    externalId: raw.externalId === 'true',
    unique: raw.unique === 'true',
    // A master-detail parent is always required.
    required: raw.required === 'true' || kind === 'MasterDetail',
    picklistValues: picklist?.values,
    restrictedPicklist: picklist?.restricted ?? false,
    referenceTo: type === 'reference' ? many(raw.referenceTo).map(String) : undefined,
    childRelationshipName: relationship ? `${relationship}__r` : undefined,
  };
}

/**
 * Reads `objects/{name}.object`: a custom object (`Foo__c`) with its Name field and fields, or
 * a standard object's file, of which only the custom (`__c`) fields are the org's to declare.
 * Answers the declaration, or every reason it cannot be applied.
 */
export function readObjectMetadata(objectName: string, document: Xml): ObjectDeclaration | string[] {
  const root = (document.CustomObject ?? {}) as Xml;
  const problems: string[] = [];
  let object: CustomObjectSpec | null = null;
  if (objectName.endsWith('__c')) {
    const nameField = (root.nameField ?? {}) as Xml;
    const type = text(nameField.type) === 'AutoNumber' ? 'AutoNumber' : 'Text';
    const displayFormat = text(nameField.displayFormat);
    const problem = type === 'AutoNumber' ? displayFormatProblem(displayFormat) : null;
    if (problem) problems.push(`${objectName}: ${problem}`);
    object = {
      name: objectName,
      label: text(root.label),
      pluralLabel: text(root.pluralLabel),
      nameField: { label: text(nameField.label) ?? 'Name', type, displayFormat },
    };
  }
  const fields: CustomFieldConfig[] = [];
  for (const raw of many(root.fields)) {
    const name = text((raw as Xml).fullName);
    // Standard fields in a standard object's file (picklist values, help text) are not the org's to add.
    if (!name?.endsWith('__c')) continue;
    const declared = customField(objectName, raw as Xml);
    if (typeof declared === 'string') problems.push(declared);
    else fields.push(declared);
  }
  return problems.length > 0 ? problems : { object, fields };
}
