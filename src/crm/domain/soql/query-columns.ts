import type { FieldDef } from '../schema/field-def.js';
import type { FieldPath, QueryPlan, SelectItem } from './query-plan.js';

/**
 * One column of `query?q=…&columns=true`, as Salesforce describes it: a field, an aggregate, or
 * a parent relationship whose fields are its `joinColumns`.
 */
export interface QueryColumn {
  aggregate: boolean;
  apexType: string | null;
  booleanType: boolean;
  columnName: string;
  custom: boolean;
  displayName: string;
  foreignKeyName: string | null;
  insertable: boolean;
  joinColumns: QueryColumn[];
  numberType: boolean;
  textType: boolean;
  updatable: boolean;
}

export interface QueryColumns {
  columnMetadata: QueryColumn[];
  entityName: string;
  groupBy: boolean;
  idSelected: boolean;
  keyPrefix: string;
}

const APEX_TYPES: Record<FieldDef['type'], string> = {
  id: 'Id',
  reference: 'Id',
  string: 'String',
  textarea: 'String',
  email: 'String',
  phone: 'String',
  url: 'String',
  picklist: 'String',
  boolean: 'Boolean',
  int: 'Integer',
  double: 'Double',
  currency: 'Double',
  percent: 'Double',
  date: 'Date',
  datetime: 'Datetime',
};

function fieldColumn(field: FieldDef): QueryColumn {
  return {
    aggregate: false,
    apexType: APEX_TYPES[field.type],
    booleanType: field.type === 'boolean',
    columnName: field.name,
    custom: field.custom,
    displayName: field.name,
    foreignKeyName: null,
    insertable: field.createable,
    joinColumns: [],
    numberType: ['int', 'double', 'currency', 'percent'].includes(field.type),
    textType: ['string', 'textarea', 'email', 'phone', 'url', 'picklist'].includes(field.type),
    updatable: field.updateable,
  };
}

function relationshipColumn(name: string): QueryColumn {
  return {
    aggregate: false,
    apexType: null,
    booleanType: false,
    columnName: name,
    custom: name.endsWith('__r'),
    displayName: name,
    foreignKeyName: null,
    insertable: false,
    joinColumns: [],
    numberType: false,
    textType: false,
    updatable: false,
  };
}

function pathText(path: FieldPath): string {
  return [...path.steps.map((s) => s.name), path.field.name].join('.');
}

/** Adds a field reached through parents under its relationship columns, one column per parent. */
function place(columns: QueryColumn[], path: FieldPath): void {
  let level = columns;
  for (const step of path.steps) {
    let parent = level.find((c) => c.columnName === step.name && c.apexType === null && !c.aggregate);
    if (!parent) {
      parent = relationshipColumn(step.name);
      level.push(parent);
    }
    level = parent.joinColumns;
  }
  level.push(fieldColumn(path.field));
}

function aggregateColumn(item: Extract<SelectItem, { kind: 'aggregate' }>): QueryColumn {
  // An alias the caller gave is its display name; Salesforce's own (expr0…) shows the call.
  const call = `${item.fn}(${item.path ? pathText(item.path) : ''})`;
  return {
    ...relationshipColumn(item.alias),
    aggregate: true,
    apexType: item.fn === 'COUNT' || item.fn === 'COUNT_DISTINCT' ? 'Integer' : null,
    numberType: item.fn !== 'MIN' && item.fn !== 'MAX',
    displayName: /^expr\d+$/.test(item.alias) ? call : item.alias,
    custom: false,
  };
}

/** The column metadata of a planned query (`columns=true`): what the Salesforce CLI lays out. */
export function queryColumns(plan: QueryPlan): QueryColumns {
  const columns: QueryColumn[] = [];
  for (const item of plan.select) {
    if (item.kind === 'aggregate') columns.push(aggregateColumn(item));
    else if (item.kind === 'children')
      // A subquery: an aggregate column (a list per row) whose joinColumns are the child's.
      columns.push({
        ...relationshipColumn(item.name),
        aggregate: true,
        joinColumns: queryColumns(item.plan).columnMetadata,
      });
    else place(columns, item.path);
  }
  return {
    columnMetadata: columns,
    entityName: plan.object.name,
    groupBy: plan.groupBy.length > 0,
    idSelected: plan.select.some(
      (s) => s.kind === 'field' && s.path.steps.length === 0 && s.path.field.name === 'Id',
    ),
    keyPrefix: plan.object.keyPrefix,
  };
}
