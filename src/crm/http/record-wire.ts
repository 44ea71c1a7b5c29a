import { formatDatetime } from '../domain/field-values.js';
import type { FieldDef, ObjectDef, RecordValues } from '../domain/schema/field-def.js';
import type { ChildRelationship } from '../domain/schema/schema-registry.js';

export function recordUrl(apiVersion: string, type: string, id: string): string {
  return `/services/data/v${apiVersion}/sobjects/${type}/${id}`;
}

/** A stored record as the REST API returns it: `attributes` first, datetimes in Salesforce's format. */
export function wireRecord(
  def: ObjectDef,
  record: RecordValues,
  apiVersion: string,
  fields: FieldDef[] = def.fields,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    attributes: { type: def.name, url: recordUrl(apiVersion, def.name, String(record.Id)) },
  };
  for (const f of fields) {
    const value = record[f.name] ?? null;
    out[f.name] = f.type === 'datetime' && typeof value === 'string' ? formatDatetime(value) : value;
  }
  return out;
}

const SOAP_TYPES: Record<FieldDef['type'], string> = {
  id: 'tns:ID',
  reference: 'tns:ID',
  string: 'xsd:string',
  textarea: 'xsd:string',
  email: 'xsd:string',
  phone: 'xsd:string',
  url: 'xsd:string',
  picklist: 'xsd:string',
  boolean: 'xsd:boolean',
  int: 'xsd:int',
  double: 'xsd:double',
  currency: 'xsd:double',
  percent: 'xsd:double',
  date: 'xsd:date',
  datetime: 'xsd:dateTime',
};

export function describeField(f: FieldDef): Record<string, unknown> {
  return {
    aggregatable: f.type !== 'textarea',
    autoNumber: false,
    byteLength: f.length * 3,
    calculated: f.calculated,
    caseSensitive: false,
    createable: f.createable,
    custom: f.custom,
    defaultValue: f.defaultValue,
    defaultedOnCreate: f.defaultValue !== null || f.system || f.name === 'OwnerId',
    digits: f.type === 'int' ? f.precision : 0,
    externalId: f.externalId,
    filterable: f.type !== 'textarea',
    groupable: !['textarea', 'double', 'currency', 'percent', 'datetime'].includes(f.type),
    idLookup: f.name === 'Id' || f.externalId || f.unique,
    label: f.label,
    length: f.length,
    name: f.name,
    nameField: f.name === 'Name',
    nillable: f.nillable,
    picklistValues: f.picklistValues.map((value) => ({
      active: true,
      defaultValue: value === f.defaultValue,
      label: value,
      validFor: null,
      value,
    })),
    precision: f.precision,
    referenceTo: f.referenceTo,
    relationshipName: f.relationshipName,
    restrictedPicklist: f.restrictedPicklist,
    scale: f.scale,
    soapType: SOAP_TYPES[f.type],
    sortable: f.type !== 'textarea',
    type: f.type,
    unique: f.unique,
    updateable: f.updateable,
  };
}

function objectSummary(def: ObjectDef, apiVersion: string): Record<string, unknown> {
  const base = `/services/data/v${apiVersion}/sobjects/${def.name}`;
  return {
    activateable: false,
    createable: def.createable,
    custom: def.custom ?? false,
    customSetting: false,
    deletable: def.deletable,
    deprecatedAndHidden: false,
    feedEnabled: false,
    keyPrefix: def.keyPrefix,
    label: def.label,
    labelPlural: def.labelPlural,
    layoutable: true,
    mergeable: def.name === 'Lead' || def.name === 'Contact' || def.name === 'Account',
    name: def.name,
    queryable: true,
    replicateable: true,
    retrieveable: true,
    searchable: true,
    triggerable: true,
    undeletable: def.deletable,
    updateable: def.updateable,
    urls: { sobject: base, describe: `${base}/describe`, rowTemplate: `${base}/{ID}` },
  };
}

export function describeGlobal(objects: ObjectDef[], apiVersion: string): Record<string, unknown> {
  return { encoding: 'UTF-8', maxBatchSize: 200, sobjects: objects.map((d) => objectSummary(d, apiVersion)) };
}

export function describeObject(
  def: ObjectDef,
  apiVersion: string,
  children: ChildRelationship[] = [],
): Record<string, unknown> {
  return {
    ...objectSummary(def, apiVersion),
    childRelationships: children.map((r) => ({
      cascadeDelete: false,
      childSObject: r.child.name,
      deprecatedAndHidden: false,
      field: r.field.name,
      junctionIdListNames: [],
      junctionReferenceTo: [],
      relationshipName: r.name,
      restrictedDelete: false,
    })),
    fields: def.fields.map(describeField),
    recordTypeInfos: [],
  };
}

export function objectInfo(
  def: ObjectDef,
  apiVersion: string,
  recent: Array<{ type: string; id: string; name: string | null }> = [],
): Record<string, unknown> {
  return { objectDescribe: objectSummary(def, apiVersion), recentItems: recentItems(recent, apiVersion) };
}

/** Recently viewed records as `/recent` and an object's `recentItems` list them. */
export function recentItems(
  recent: Array<{ type: string; id: string; name: string | null }>,
  apiVersion: string,
): Array<Record<string, unknown>> {
  return recent.map((r) => ({
    attributes: { type: r.type, url: recordUrl(apiVersion, r.type, r.id) },
    Id: r.id,
    Name: r.name,
  }));
}
