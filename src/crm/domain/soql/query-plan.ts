import type { FieldDef, FieldValue, ObjectDef } from '../schema/field-def.js';
import type { SearchExpression } from '../sosl/sosl.js';

/** One hop along a relationship: from the current object through `via` (a reference field) to `target`. */
export interface RelationshipStep {
  via: FieldDef;
  /** The parent's object; for a polymorphic relationship, Salesforce's `Name` object (Id, Name, Type). */
  target: ObjectDef;
  /** Canonical relationship name, the key in the output record (Owner, Account …). */
  name: string;
  /** A polymorphic relationship (`Who`, `What`): the objects the parent may be. */
  polymorphic?: ObjectDef[];
}

/** A field reached from the query's object, possibly through parent relationships. */
export interface FieldPath {
  steps: RelationshipStep[];
  field: FieldDef;
}

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

export type Predicate =
  | { kind: 'and' | 'or'; items: Predicate[] }
  | { kind: 'not'; item: Predicate }
  | { kind: 'compare'; path: FieldPath; op: CompareOp; value: FieldValue }
  | { kind: 'in'; path: FieldPath; values: FieldValue[]; negate: boolean }
  | { kind: 'like'; path: FieldPath; pattern: string }
  /** A date literal: the value lies in [start, end), compared as `op` says. */
  | { kind: 'range'; path: FieldPath; op: CompareOp; start: string; end: string }
  /** A semi-join (`Id IN (SELECT LeadId FROM CampaignMember …)`) or, negated, an anti-join. */
  | { kind: 'semi'; path: FieldPath; inner: QueryPlan; negate: boolean }
  /** A SOSL search: the record's text `fields` (a subset of its searchable ones) match. */
  | { kind: 'search'; fields: FieldDef[]; expression: SearchExpression };

export type AggregateFn = 'COUNT' | 'COUNT_DISTINCT' | 'SUM' | 'AVG' | 'MIN' | 'MAX';

export type SelectItem =
  /** A field; `compound` when it is a part of a compound address the query selected. */
  | { kind: 'field'; path: FieldPath; compound?: { name: string; key: string } }
  | { kind: 'aggregate'; fn: AggregateFn; path: FieldPath | null; alias: string }
  /**
   * A parent-child subquery (`(SELECT Id FROM Contacts)`): the child records whose `link`
   * field points at each row, as the child plan selects, filters, orders and limits them.
   */
  | { kind: 'children'; name: string; link: FieldDef; plan: QueryPlan };

export interface OrderItem {
  path: FieldPath;
  descending: boolean;
  nullsFirst: boolean;
}

export interface QueryPlan {
  object: ObjectDef;
  select: SelectItem[];
  where: Predicate | null;
  orderBy: OrderItem[];
  groupBy: FieldPath[];
  limit: number | null;
  offset: number;
  /** `SELECT COUNT() …`: only totalSize is answered. */
  countOnly: boolean;
  /** queryAll: deleted records are included. */
  includeDeleted: boolean;
  /** A search without ORDER BY: any order will do (Salesforce's is relevance). */
  unordered?: boolean;
  /**
   * `FOR VIEW` / `FOR REFERENCE`: the records returned are stamped viewed (LastViewedDate and
   * LastReferencedDate) or referenced (LastReferencedDate), and listed as recently viewed.
   */
  viewStamp?: 'VIEW' | 'REFERENCE';
}

export function isAggregatePlan(plan: QueryPlan): boolean {
  return plan.groupBy.length > 0 || plan.select.some((s) => s.kind === 'aggregate');
}

/** A stable key for a relationship chain, so two paths through Owner share one join. */
export function joinKey(steps: RelationshipStep[]): string {
  return steps.map((s) => s.via.name).join('.');
}
