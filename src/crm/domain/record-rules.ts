import { HandoffError } from '../../errors/handoff-error.js';
import type { RuleCondition, ValidationRuleConfig } from '../crm-config.js';
import { coerceFieldValue } from './field-values.js';
import { sequenceOf } from './record-id.js';
import { autoNumber } from './schema/custom-objects.js';
import type { FieldDef, FieldValue, ObjectDef, RecordValues } from './schema/field-def.js';
import type { SchemaRegistry } from './schema/schema-registry.js';

const CLOSED_TASK_STATUSES = new Set(['Completed']);

/** Fields the server computes from others; kept stored so SOQL can filter and sort on them. */
export function applyDerivedFields(def: ObjectDef, record: RecordValues): void {
  switch (def.name) {
    case 'Lead':
    case 'Contact':
    case 'User': {
      const name = [record.FirstName, record.LastName]
        .filter((p) => typeof p === 'string' && p !== '')
        .join(' ');
      record.Name = name === '' ? null : name;
      break;
    }
    case 'Task':
      record.IsClosed = typeof record.Status === 'string' && CLOSED_TASK_STATUSES.has(record.Status);
      break;
    case 'Opportunity':
      record.IsClosed = record.StageName === 'Closed Won' || record.StageName === 'Closed Lost';
      record.IsWon = record.StageName === 'Closed Won';
      break;
    case 'Case':
      record.IsClosed = record.Status === 'Closed';
      break;
    default:
      break;
  }
}

/**
 * What the server names a record as it is made, once it has its Id: an auto-number field (the
 * Id's sequence, which counts up per object in creation order), or a custom object's Text name
 * left blank, which Salesforce fills with the record's Id.
 */
export function assignAutoNumbers(def: ObjectDef, record: RecordValues): void {
  if (typeof record.Id !== 'string') return;
  if (def.autoNumber) {
    const created = typeof record.CreatedDate === 'string' ? new Date(record.CreatedDate) : new Date();
    record[def.autoNumber.field] = autoNumber(def.autoNumber.displayFormat, sequenceOf(record.Id), created);
  } else if (def.custom && isBlank(record.Name)) {
    record.Name = record.Id;
  }
}

type Mode = 'create' | 'update';

/**
 * Reads a request body into field values: canonical names, coerced values, and the errors
 * Salesforce gives for unknown, read-only and badly typed fields.
 */
export function readInput(
  schema: SchemaRegistry,
  def: ObjectDef,
  input: Record<string, unknown>,
  mode: Mode,
): RecordValues {
  const values: RecordValues = {};
  const readOnly: string[] = [];
  const prefixesFor = (name: string) => schema.object(name)?.keyPrefix;
  for (const [key, raw] of Object.entries(input)) {
    if (key === 'attributes') continue;
    const f = schema.field(def, key);
    if (!f) {
      throw new HandoffError('INVALID_FIELD', `No such column '${key}' on sobject of type ${def.name}`, {
        fields: [key],
      });
    }
    if (f.name === 'Id' && mode === 'update') continue; // the target id travels in the URL or is checked by the caller
    const writable = mode === 'create' ? f.createable : f.updateable;
    if (!writable) {
      readOnly.push(f.name);
      continue;
    }
    values[f.name] = coerceFieldValue(f, raw, prefixesFor);
  }
  if (readOnly.length > 0) {
    throw new HandoffError(
      'INVALID_FIELD_FOR_INSERT_UPDATE',
      `Unable to create/update fields: ${readOnly.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
      { fields: readOnly },
    );
  }
  return values;
}

const defaultedFields = new WeakMap<ObjectDef, FieldDef[]>();

/**
 * Fills in the fields that have a default. Fields without one stay absent (absent means null
 * everywhere a record is read), which keeps records small on bulk paths.
 */
export function applyDefaults(def: ObjectDef, record: RecordValues): void {
  let fields = defaultedFields.get(def);
  if (!fields) {
    fields = def.fields.filter((f) => !f.system && !f.calculated && f.defaultValue !== null);
    defaultedFields.set(def, fields);
  }
  for (const f of fields) {
    if (record[f.name] === undefined || record[f.name] === null) record[f.name] = f.defaultValue;
  }
}

export function checkRequiredFields(def: ObjectDef, record: RecordValues): void {
  const missing = def.fields
    .filter((f) => !f.system && !f.calculated && !f.nillable && f.name !== 'OwnerId')
    .filter((f) => record[f.name] === null || record[f.name] === undefined)
    .map((f) => f.name);
  if (missing.length > 0) {
    throw new HandoffError('REQUIRED_FIELD_MISSING', `Required fields are missing: [${missing.join(', ')}]`, {
      fields: missing,
    });
  }
}

function isBlank(value: FieldValue | undefined): boolean {
  return value === null || value === undefined || value === '';
}

function conditionHolds(condition: RuleCondition, record: RecordValues): boolean {
  const value = record[condition.field];
  const expected = condition.value;
  switch (condition.op) {
    case 'blank':
      return isBlank(value);
    case 'notBlank':
      return !isBlank(value);
    case 'equals':
      return (
        value === expected || (value !== null && value !== undefined && String(value) === String(expected))
      );
    case 'notEquals':
      return !(
        value === expected ||
        (value !== null && value !== undefined && String(value) === String(expected))
      );
    case 'contains':
      return typeof value === 'string' && expected !== undefined && value.includes(String(expected));
    case 'notContains':
      return !(typeof value === 'string' && expected !== undefined && value.includes(String(expected)));
    case 'greaterThan':
      return value !== null && value !== undefined && expected !== undefined && value > expected;
    case 'lessThan':
      return value !== null && value !== undefined && expected !== undefined && value < expected;
  }
}

/** A rule rejects the record when all its conditions hold, like a Salesforce validation formula that is true. */
export function checkValidationRules(
  def: ObjectDef,
  record: RecordValues,
  rules: ValidationRuleConfig[],
): void {
  for (const rule of rules) {
    if (!rule.active || rule.object.toLowerCase() !== def.name.toLowerCase()) continue;
    if (rule.when.every((c) => conditionHolds(c, record))) {
      throw new HandoffError('FIELD_CUSTOM_VALIDATION_EXCEPTION', rule.message, {
        fields: rule.field ? [rule.field] : [],
      });
    }
  }
}
