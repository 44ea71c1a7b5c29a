// Over 400 lines on purpose: one resolver for every SOQL clause against the schema, a method a clause.
import { addressParts } from './compound-address.js';
import {
  parseQuery,
  type FieldType as ParsedField,
  type OrderByClause,
  type Query,
} from '@jetstreamapp/soql-parser-js';
import { HandoffError } from '../../../errors/handoff-error.js';
import { parseDatetimeValue, parseDateValue } from '../field-values.js';
import { normalizeId } from '../record-id.js';
import { field, isTextType, type FieldDef, type FieldValue, type ObjectDef } from '../schema/field-def.js';
import type { SchemaRegistry } from '../schema/schema-registry.js';
import { dateLiteralRange } from './date-literals.js';
import {
  isAggregatePlan,
  type AggregateFn,
  type CompareOp,
  type FieldPath,
  type OrderItem,
  type Predicate,
  type QueryPlan,
  type RelationshipStep,
  type SelectItem,
} from './query-plan.js';
import { buildWhereTree, type ParsedCondition, type ParsedWhere, type WhereNode } from './where-tree.js';

const AGGREGATES: ReadonlySet<string> = new Set(['COUNT', 'COUNT_DISTINCT', 'SUM', 'AVG', 'MIN', 'MAX']);
const MAX_OFFSET = 2000;

function malformed(message: string): HandoffError {
  return new HandoffError('MALFORMED_QUERY', message);
}

function unsupported(construct: string): HandoffError {
  return malformed(`${construct} is not supported by this server`);
}

/** SOQL string literal → its value: strip the quotes, undo the backslash escapes. */
export function unquote(literal: string): string {
  const inner = literal.startsWith("'") && literal.endsWith("'") ? literal.slice(1, -1) : literal;
  return inner.replace(/\\(.)/g, (_m, ch: string) => {
    switch (ch) {
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      // \% and \_ stay escaped: they only mean something to LIKE, which keeps `\` as its escape.
      case '%':
      case '_':
        return `\\${ch}`;
      default:
        return ch;
    }
  });
}

/**
 * Salesforce's `Name` object: what a polymorphic relationship (`Who`, `What`) reads of its
 * parent, whichever object that is.
 */
export const NAME_OBJECT: ObjectDef = {
  name: 'Name',
  label: 'Name',
  labelPlural: 'Names',
  keyPrefix: '',
  table: '',
  createable: false,
  updateable: false,
  deletable: false,
  fields: [
    field('Id', 'id', { system: true, nillable: false }),
    field('Name', 'string', { createable: false }),
    field('Type', 'string', { createable: false }),
  ],
};

export interface PlanOptions {
  includeDeleted: boolean;
  now: Date;
}

/** Turns SOQL text into a plan checked against the org's schema. Pure: no SQL, no I/O. */
export class SoqlPlanner {
  constructor(private readonly schema: SchemaRegistry) {}

  plan(soql: string, options: PlanOptions): QueryPlan {
    let query: Query;
    try {
      query = parseQuery(soql);
    } catch (error) {
      throw malformed(
        error instanceof Error ? (error.message.split('\n')[0] ?? 'parse error') : 'parse error',
      );
    }
    return new QueryResolver(this.schema, query, options, null).resolve();
  }
}

/** Where a query sits: at the top, as a parent-child subquery, or as a semi-join's inner query. */
type Nesting = null | 'children' | 'semi-join';

class QueryResolver {
  private readonly object: ObjectDef;

  constructor(
    private readonly schema: SchemaRegistry,
    private readonly query: Query,
    private readonly options: PlanOptions,
    private readonly nesting: Nesting,
  ) {
    const name = query.sObject ?? '';
    const def = schema.object(name);
    if (!def) {
      throw new HandoffError(
        'INVALID_TYPE',
        `sObject type '${name}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name.`,
      );
    }
    // An activity view is read through its parents only, as Salesforce's are.
    if (def.view && nesting !== 'children')
      throw new HandoffError('INVALID_TYPE_FOR_OPERATION', `entity type ${def.name} does not support query`);
    this.object = def;
  }

  resolve(): QueryPlan {
    const q = this.query as Query & Record<string, unknown>;
    if (q.having) throw unsupported('HAVING');
    if (q.withDataCategory || q.withSecurityEnforced || q.withAccessLevel) throw unsupported('WITH');
    if (q.for === 'UPDATE') throw unsupported('FOR UPDATE');
    if (q.update) throw unsupported('UPDATE TRACKING/VIEWSTAT');
    if (q.usingScope) throw unsupported('USING SCOPE');
    if (q.sObjectRelationships || q.sObjectPrefix) throw unsupported('relationship queries in FROM');

    const fields = this.query.fields ?? [];
    const countOnly =
      fields.length === 1 &&
      fields[0]?.type === 'FieldFunctionExpression' &&
      fields[0].functionName.toUpperCase() === 'COUNT' &&
      (fields[0].parameters ?? []).length === 0;
    const select = countOnly ? [] : this.resolveSelect(fields);
    const groupBy = this.resolveGroupBy();
    const orderBy = this.resolveOrderBy();
    const hasAggregate = select.some((s) => s.kind === 'aggregate');
    if ((hasAggregate || groupBy.length > 0) && select.some((s) => s.kind === 'field' && s.compound))
      throw malformed('Compound fields cannot be used with aggregate functions or GROUP BY');
    if ((hasAggregate || groupBy.length > 0) && select.some((s) => s.kind === 'children'))
      throw malformed('Subqueries cannot be used with aggregate functions or GROUP BY');
    if (hasAggregate || groupBy.length > 0) {
      const grouped = new Set(groupBy.map((g) => this.pathName(g).toLowerCase()));
      for (const item of select) {
        if (item.kind === 'field' && !grouped.has(this.pathName(item.path).toLowerCase())) {
          throw malformed(`Field must be grouped or aggregated: ${item.path.field.name}`);
        }
      }
    }
    const offset = this.query.offset ?? 0;
    if (offset > MAX_OFFSET) {
      throw new HandoffError('MALFORMED_QUERY', `Maximum SOQL offset allowed is ${MAX_OFFSET}`);
    }
    return {
      object: this.object,
      select,
      where: this.resolveWhere(buildWhereTree(this.query.where as ParsedWhere | undefined)),
      orderBy,
      groupBy,
      limit: this.query.limit ?? null,
      offset,
      countOnly,
      includeDeleted: this.options.includeDeleted,
      ...(q.for === 'VIEW' || q.for === 'REFERENCE' ? { viewStamp: q.for } : {}),
    };
  }

  private pathName(path: FieldPath): string {
    return [...path.steps.map((s) => s.name), path.field.name].join('.');
  }

  /** A field path's names; a field may be prefixed with the object's own name (`Lead.Email`). */
  private pathParts(raw: string): string[] {
    const parts = raw.split('.');
    if (parts.length > 1 && parts[0]?.toLowerCase() === this.object.name.toLowerCase()) parts.shift();
    return parts;
  }

  /** `Owner.Name` → steps [Owner] and field Name. */
  resolvePath(raw: string): FieldPath {
    const parts = this.pathParts(raw);
    let def = this.object;
    const steps: RelationshipStep[] = [];
    for (const part of parts.slice(0, -1)) {
      const via = this.schema.relationship(def, part);
      if (!via) {
        throw new HandoffError(
          'INVALID_FIELD',
          `Didn't understand relationship '${part}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name.`,
        );
      }
      if (via.referenceTo.length !== 1) {
        // `Who.Name`, `What.Type`: one hop to the Name object, whichever object the parent is.
        const targets = via.referenceTo.flatMap((name) => this.schema.object(name) ?? []);
        if (steps.length > 0 || parts.length !== 2 || targets.length === 0)
          throw unsupported(
            `polymorphic relationship ${via.relationshipName ?? part} beyond its Id, Name and Type`,
          );
        steps.push({ via, target: NAME_OBJECT, name: via.relationshipName ?? part, polymorphic: targets });
        def = NAME_OBJECT;
        continue;
      }
      const target = this.schema.object(via.referenceTo[0] ?? '');
      if (!target) throw unsupported(`relationship ${part}`);
      steps.push({ via, target, name: via.relationshipName ?? part });
      def = target;
    }
    const name = parts[parts.length - 1] ?? '';
    const field =
      def === NAME_OBJECT
        ? NAME_OBJECT.fields.find((f) => f.name.toLowerCase() === name.toLowerCase())
        : this.schema.field(def, name);
    if (!field) {
      throw new HandoffError('INVALID_FIELD', `No such column '${name}' on entity '${def.name}'.`);
    }
    return { steps, field };
  }

  /** A compound address of the query's object (`MailingAddress`) as its parts, or null. */
  private compoundAddress(raw: string): SelectItem[] | null {
    const parts = this.pathParts(raw);
    const name = parts[0] ?? '';
    if (parts.length !== 1 || this.schema.field(this.object, name)) return null;
    const compound = addressParts(this.object, name, (def, field) => this.schema.field(def, field));
    if (!compound) return null;
    if (this.nesting !== null) throw unsupported('compound fields in a subquery');
    return compound.parts.map((part) => ({
      kind: 'field',
      path: { steps: [], field: part.field },
      compound: { name: compound.name, key: part.key },
    }));
  }

  private resolveSelect(fields: ParsedField[]): SelectItem[] {
    const items: SelectItem[] = [];
    let expr = 0;
    for (const f of fields) {
      switch (f.type) {
        case 'Field':
          items.push(
            ...(this.compoundAddress(f.field) ?? [{ kind: 'field', path: this.resolvePath(f.field) }]),
          );
          break;
        case 'FieldRelationship':
          items.push({ kind: 'field', path: this.resolvePath([...f.relationships, f.field].join('.')) });
          break;
        case 'FieldFunctionExpression': {
          const fn = f.functionName.toUpperCase();
          if (!AGGREGATES.has(fn)) throw unsupported(`function ${f.functionName}()`);
          const params = (f.parameters ?? []) as unknown[];
          if (params.length > 1 || (params.length === 1 && typeof params[0] !== 'string')) {
            throw unsupported(`${fn} with these arguments`);
          }
          if (fn === 'COUNT' && params.length === 0)
            throw malformed('COUNT() must be the only element in the SELECT list');
          const path = params.length === 1 ? this.resolvePath(String(params[0])) : null;
          if (
            (fn === 'SUM' || fn === 'AVG') &&
            path &&
            !['int', 'double', 'currency', 'percent'].includes(path.field.type)
          ) {
            throw malformed(`field ${path.field.name} does not support aggregate operator ${fn}`);
          }
          items.push({ kind: 'aggregate', fn: fn as AggregateFn, path, alias: f.alias ?? `expr${expr++}` });
          break;
        }
        case 'FieldSubquery':
          items.push(this.resolveChildren(f.subquery as Query & { relationshipName?: string }));
          break;
        case 'FieldTypeof':
          throw unsupported('TYPEOF');
        default:
          throw unsupported('this SELECT element');
      }
    }
    if (items.length === 0) throw malformed('SELECT needs at least one field');
    return items;
  }

  /** `(SELECT … FROM Contacts …)`: the child relationship by its name on this object. */
  private resolveChildren(subquery: Query & { relationshipName?: string }): SelectItem {
    if (this.nesting !== null) throw malformed('Nested subqueries are not supported');
    const name = subquery.relationshipName ?? '';
    const relationship = this.schema.childRelationship(this.object, name);
    if (!relationship) {
      throw new HandoffError(
        'INVALID_TYPE',
        `Didn't understand relationship '${name}' in FROM part of query call. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name.`,
      );
    }
    if (subquery.offset) throw unsupported('OFFSET in a subquery');
    const plan = new QueryResolver(
      this.schema,
      { ...subquery, sObject: relationship.child.name },
      this.options,
      'children',
    ).resolve();
    if (isAggregatePlan(plan) || plan.countOnly)
      throw malformed('Aggregate functions are not allowed in a subquery');
    return { kind: 'children', name: relationship.name, link: relationship.field, plan };
  }

  /** `Field [NOT] IN (SELECT Ref FROM Other …)`: the inner query selects one id or reference field. */
  private resolveSemiJoin(c: ParsedCondition): Predicate {
    if (this.nesting === 'semi-join') throw malformed('Nesting of semi join sub-selects is not supported');
    const operator = String(c.operator).toUpperCase();
    if (operator !== 'IN' && operator !== 'NOT IN')
      throw malformed(`invalid operator with a subquery: ${operator}`);
    const path = this.resolvePath(c.field ?? '');
    const inner = new QueryResolver(this.schema, c.valueQuery as Query, this.options, 'semi-join').resolve();
    const [only, ...rest] = inner.select;
    if (!only || rest.length > 0 || only.kind !== 'field' || isAggregatePlan(inner) || inner.countOnly)
      throw malformed('A semi join sub-select must select exactly one field');
    const idTypes = ['id', 'reference'];
    if (!idTypes.includes(only.path.field.type) || !idTypes.includes(path.field.type))
      throw malformed(
        `Semi join sub-selects are only supported on ID and reference fields, not ${path.field.name} and ${only.path.field.name}`,
      );
    return { kind: 'semi', path, inner: { ...inner, includeDeleted: false }, negate: operator === 'NOT IN' };
  }

  private resolveGroupBy(): FieldPath[] {
    const groupBy = this.query.groupBy;
    if (!groupBy) return [];
    const clauses = Array.isArray(groupBy) ? groupBy : [groupBy];
    return clauses.map((g) => {
      if (!('field' in g) || typeof g.field !== 'string')
        throw unsupported('GROUP BY with functions (ROLLUP, CUBE)');
      return this.resolvePath(g.field);
    });
  }

  private resolveOrderBy(): OrderItem[] {
    const orderBy = this.query.orderBy;
    if (!orderBy) return [];
    const clauses: OrderByClause[] = Array.isArray(orderBy) ? orderBy : [orderBy];
    return clauses.map((o) => {
      if (!('field' in o) || typeof o.field !== 'string') throw unsupported('ORDER BY a function');
      const descending = o.order === 'DESC';
      // Salesforce's defaults: ascending puts nulls first, descending puts them last.
      const nullsFirst = o.nulls ? o.nulls === 'FIRST' : !descending;
      return { path: this.resolvePath(o.field), descending, nullsFirst };
    });
  }

  private resolveWhere(node: WhereNode | null): Predicate | null {
    if (!node) return null;
    switch (node.kind) {
      case 'and':
      case 'or':
        return { kind: node.kind, items: node.items.map((n) => this.resolveWhere(n) as Predicate) };
      case 'not':
        return { kind: 'not', item: this.resolveWhere(node.item) as Predicate };
      case 'condition':
        return this.resolveCondition(node.condition);
    }
  }

  private resolveCondition(c: ParsedCondition): Predicate {
    if (c.fn) throw unsupported('functions in WHERE');
    if (c.literalType === 'SUBQUERY' || c.valueQuery) return this.resolveSemiJoin(c);
    if (!c.field) throw unsupported('this WHERE condition');
    const path = this.resolvePath(c.field);
    const operator = String(c.operator).toUpperCase();
    const literalTypes = Array.isArray(c.literalType) ? c.literalType : [c.literalType];
    if (operator === 'INCLUDES' || operator === 'EXCLUDES') throw unsupported(operator);
    if (operator === 'IN' || operator === 'NOT IN') {
      const raw = Array.isArray(c.value) ? c.value : [c.value ?? ''];
      const values = raw.map((v: string, i: number) =>
        this.literal(path.field, literalTypes[i] ?? literalTypes[0], v),
      );
      return { kind: 'in', path, values: values.map((v) => v.value), negate: operator === 'NOT IN' };
    }
    if (operator === 'LIKE') {
      if (!isTextType(path.field.type) && path.field.type !== 'id' && path.field.type !== 'reference') {
        throw malformed(`invalid operator on field ${path.field.name}: LIKE`);
      }
      return { kind: 'like', path, pattern: unquote(String(c.value ?? '')) };
    }
    const op = (operator === '<>' ? '!=' : operator) as CompareOp;
    if (!['=', '!=', '<', '<=', '>', '>='].includes(op)) throw unsupported(`operator ${operator}`);
    const literal = this.literal(
      path.field,
      literalTypes[0],
      Array.isArray(c.value) ? c.value[0] : c.value,
      c,
    );
    if (literal.range) return { kind: 'range', path, op, start: literal.range.start, end: literal.range.end };
    if (literal.value === null && op !== '=' && op !== '!=') {
      throw malformed(`invalid operator on null: ${op}`);
    }
    return { kind: 'compare', path, op, value: literal.value };
  }

  private typeError(f: FieldDef, expected: string): HandoffError {
    return malformed(
      `value of filter criterion for field '${f.name}' must be of type ${expected} and should not be enclosed in quotes`,
    );
  }

  /** A literal coerced to the field's type, or a date-literal range. */
  private literal(
    f: FieldDef,
    literalType: string | undefined,
    raw: string | undefined,
    condition?: ParsedCondition,
  ): { value: FieldValue; range?: { start: string; end: string } } {
    const text = raw ?? '';
    if (literalType === 'NULL') return { value: null };
    switch (f.type) {
      case 'boolean':
        if (literalType !== 'BOOLEAN') throw this.typeError(f, 'boolean');
        return { value: text.toUpperCase() === 'TRUE' };
      case 'int':
      case 'double':
      case 'currency':
      case 'percent': {
        if (literalType !== 'INTEGER' && literalType !== 'DECIMAL') throw this.typeError(f, 'number');
        return { value: Number(text) };
      }
      case 'date':
      case 'datetime': {
        if (literalType === 'DATE_LITERAL' || literalType === 'DATE_N_LITERAL') {
          const n = condition?.dateLiteralVariable;
          const r = dateLiteralRange(text, this.options.now, typeof n === 'number' ? n : undefined);
          // LAST_N_DAYS:999999999 reaches before any date there is: the query is wrong, not the server.
          if (Number.isNaN(r.start.getTime()) || Number.isNaN(r.end.getTime()))
            throw malformed(`${text}${typeof n === 'number' ? `:${n}` : ''} is out of the range of dates`);
          const fmt = (d: Date) => (f.type === 'date' ? d.toISOString().slice(0, 10) : d.toISOString());
          return { value: null, range: { start: fmt(r.start), end: fmt(r.end) } };
        }
        if (f.type === 'date') {
          const value = literalType === 'DATE' ? parseDateValue(text) : null;
          if (value === null) throw this.typeError(f, 'date');
          return { value };
        }
        const value = literalType === 'DATETIME' ? parseDatetimeValue(text) : null;
        if (value === null) throw this.typeError(f, 'dateTime');
        return { value };
      }
      case 'id':
      case 'reference': {
        if (literalType !== 'STRING') throw this.typeError(f, 'id');
        const value = unquote(text);
        // A malformed id can match nothing; Salesforce rejects it outright.
        const id = value === '' ? null : normalizeId(value);
        if (value !== '' && !id) throw malformed(`invalid ID field: ${value}`);
        return { value: id };
      }
      default:
        if (literalType !== 'STRING') throw this.typeError(f, 'string');
        return { value: unquote(text) };
    }
  }
}
