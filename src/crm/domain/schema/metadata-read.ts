import { CONVERTED_STATUSES } from '../lead-conversion.js';
import type { FieldDef, FieldType, ObjectDef } from './field-def.js';
import type { SchemaRegistry } from './schema-registry.js';

/**
 * The org's schema as the Metadata API's `readMetadata` describes it: `CustomObject`,
 * `CustomField` and `StandardValueSet` records, built from the same definitions describe
 * answers from. Pure; a name the org does not have reads as an empty record, as Salesforce's.
 */
export type MetadataRecord = Record<string, unknown>;

const METADATA_TYPES: Record<FieldType, string> = {
  id: 'Id',
  string: 'Text',
  textarea: 'TextArea',
  email: 'Email',
  phone: 'Phone',
  url: 'Url',
  picklist: 'Picklist',
  boolean: 'Checkbox',
  int: 'Number',
  double: 'Number',
  currency: 'Currency',
  percent: 'Percent',
  date: 'Date',
  datetime: 'DateTime',
  reference: 'Lookup',
};

/** Standard value sets and the standard picklist that holds each. */
const STANDARD_VALUE_SETS: Record<string, [object: string, field: string]> = {
  AccountType: ['Account', 'Type'],
  CampaignStatus: ['Campaign', 'Status'],
  CampaignType: ['Campaign', 'Type'],
  CaseOrigin: ['Case', 'Origin'],
  CasePriority: ['Case', 'Priority'],
  CaseReason: ['Case', 'Reason'],
  CaseStatus: ['Case', 'Status'],
  CaseType: ['Case', 'Type'],
  Industry: ['Account', 'Industry'],
  LeadSource: ['Lead', 'LeadSource'],
  LeadStatus: ['Lead', 'Status'],
  OpportunityStage: ['Opportunity', 'StageName'],
  OpportunityType: ['Opportunity', 'Type'],
  Salutation: ['Lead', 'Salutation'],
  TaskPriority: ['Task', 'Priority'],
  TaskStatus: ['Task', 'Status'],
  TaskType: ['Task', 'Type'],
};

/** What a standard value means beyond its name: a Lead status that converts, a status that closes. */
function valueFlags(set: string, value: string): MetadataRecord {
  switch (set) {
    case 'LeadStatus':
      return { converted: CONVERTED_STATUSES.has(value) };
    case 'CaseStatus':
      return { closed: value === 'Closed' };
    case 'TaskStatus':
      return { closed: value === 'Completed' };
    case 'OpportunityStage':
      return { closed: value.startsWith('Closed'), won: value === 'Closed Won' };
    default:
      return {};
  }
}

function standardValueSetOf(def: ObjectDef, field: FieldDef): string | undefined {
  return Object.entries(STANDARD_VALUE_SETS).find(([, [o, f]]) => o === def.name && f === field.name)?.[0];
}

function metadataType(field: FieldDef): string {
  return field.type === 'textarea' && field.length > 255 ? 'LongTextArea' : METADATA_TYPES[field.type];
}

/**
 * A field as `CustomField`. Picklists list their values as `valueSet` from API 38.0; before it,
 * as `picklist.picklistValues`, standard ones too (with `converted` on Lead statuses) — what
 * jsforce's own tests read to find the converted status.
 */
export function customFieldRecord(def: ObjectDef, field: FieldDef, apiVersion: number): MetadataRecord {
  const record: MetadataRecord = {
    fullName: `${def.name}.${field.name}`,
    externalId: field.externalId,
    label: field.label,
    required: !field.nillable && field.type !== 'boolean',
    type: metadataType(field),
    unique: field.unique,
  };
  if (field.length > 0) record.length = field.length;
  if (
    field.type === 'double' ||
    field.type === 'int' ||
    field.type === 'currency' ||
    field.type === 'percent'
  ) {
    record.precision = field.precision;
    record.scale = field.scale;
  }
  if (field.type === 'reference') {
    record.referenceTo = field.referenceTo[0];
    if (field.childRelationshipName)
      record.relationshipName = field.childRelationshipName.replace(/__r$/, '');
  }
  if (field.type === 'picklist') {
    const set = standardValueSetOf(def, field) ?? '';
    if (apiVersion < 38) {
      record.picklist = {
        picklistValues: field.picklistValues.map((value) => ({
          fullName: value,
          default: value === field.defaultValue,
          ...valueFlags(set, value),
        })),
        restrictedPicklist: field.restrictedPicklist,
        sorted: false,
      };
    } else if (field.custom) {
      record.valueSet = {
        restricted: field.restrictedPicklist,
        valueSetDefinition: {
          sorted: false,
          value: field.picklistValues.map((value) => ({ fullName: value, default: false, label: value })),
        },
      };
    }
  }
  return record;
}

export function customObjectRecord(def: ObjectDef, apiVersion: number): MetadataRecord {
  const name = def.fields.find((f) => f.name === 'Name');
  return {
    fullName: def.name,
    label: def.label,
    pluralLabel: def.labelPlural,
    deploymentStatus: 'Deployed',
    sharingModel: 'ReadWrite',
    ...(def.custom && name
      ? {
          nameField: {
            label: name.label,
            type: def.autoNumber?.field === 'Name' ? 'AutoNumber' : 'Text',
            ...(def.autoNumber?.field === 'Name' ? { displayFormat: def.autoNumber.displayFormat } : {}),
          },
        }
      : {}),
    fields: def.fields
      .filter((f) => f.custom)
      .map((f) => ({ ...customFieldRecord(def, f, apiVersion), fullName: f.name })),
  };
}

export function standardValueSetRecord(schema: SchemaRegistry, name: string): MetadataRecord {
  const [objectName, fieldName] = STANDARD_VALUE_SETS[name] ?? [];
  const def = objectName ? schema.object(objectName) : undefined;
  const field = def && fieldName ? schema.field(def, fieldName) : undefined;
  if (!field) return {};
  return {
    fullName: name,
    sorted: false,
    standardValue: field.picklistValues.map((value) => ({
      fullName: value,
      default: value === field.defaultValue,
      label: value,
      ...valueFlags(name, value),
    })),
  };
}

/** `readMetadata(type, fullNames)`: one record per name, empty for names the org lacks. */
export function readMetadataRecords(
  schema: SchemaRegistry,
  type: string,
  fullNames: string[],
  apiVersion: number,
): MetadataRecord[] | null {
  switch (type) {
    case 'CustomObject':
      return fullNames.map((name) => {
        const def = schema.object(name);
        return def ? customObjectRecord(def, apiVersion) : {};
      });
    case 'CustomField':
      return fullNames.map((fullName) => {
        const [objectName = '', fieldName = ''] = fullName.split('.');
        const def = schema.object(objectName);
        const field = def ? schema.field(def, fieldName) : undefined;
        return def && field ? customFieldRecord(def, field, apiVersion) : {};
      });
    case 'StandardValueSet':
      return fullNames.map((name) => standardValueSetRecord(schema, name));
    default:
      return null;
  }
}
