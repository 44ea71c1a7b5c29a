import { sql, type RawBuilder } from 'kysely';
import { arrayRows, type ArrayRows } from '../../store/array-rows.js';
import type { StoreDb } from '../../store/database.js';
import type { StoreDialect } from '../../store/store-dialect.js';
import { isTextType, type FieldValue } from '../domain/schema/field-def.js';
import {
  joinKey,
  type FieldPath,
  type Predicate,
  type QueryPlan,
  type RelationshipStep,
} from '../domain/soql/query-plan.js';
import { toColumnValue } from './record-store.js';
import { comparison } from '../../store/sql-operators.js';
import { ftsTable, postgresMatch, sqliteJoinedMatch } from './search-index.js';

type Sql = RawBuilder<unknown>;
export type Row = Record<string, unknown>;

/** Where a page starts: the sort-key values of the last row of the previous page. */
export type Keyset = unknown[];

/** Which rows a page holds: those after a keyset (or from an offset), at most `limit`. */
export interface PageOptions {
  after: Keyset | null;
  limit: number;
  offset: number;
}

export interface SortKey {
  expression: Sql;
  descending: boolean;
  nullsFirst: boolean;
  /** False when the key can never be null (Id, SystemModstamp …): no null branches are needed. */
  nillable: boolean;
}

/**
 * Compiles a SOQL plan to SQL on the CRM's record tables. Identifiers come only from the schema
 * (never from the query text) and every value is a bound parameter, so a query cannot inject SQL.
 */
export class SoqlSql {
  private readonly joins = new Map<string, { alias: string; steps: RelationshipStep[] }>();
  readonly sortKeys: SortKey[];
  /** Compiled once, up front, so every join a filter needs exists before FROM is written. */
  private readonly filter: Sql | null;
  /** SQLite: the search every row must match, whose text index is joined to drive the query. */
  private readonly searchJoin: Extract<Predicate, { kind: 'search' }> | null;

  constructor(
    readonly plan: QueryPlan,
    private readonly dialect: StoreDialect,
  ) {
    for (const item of plan.select) if (item.kind !== 'children' && item.path) this.column(item.path);
    this.searchJoin = dialect.name === 'sqlite' ? requiredSearch(plan.where) : null;
    this.filter = plan.where ? this.predicate(plan.where) : null;
    this.sortKeys = plan.orderBy.map((o) => ({
      expression: this.sortExpression(o.path),
      descending: o.descending,
      nullsFirst: o.nullsFirst,
      // A parent's field is null when the parent is missing, whatever the field says.
      nillable: o.path.field.nillable || o.path.steps.length > 0,
    }));
    // Id breaks ties, so a page boundary never splits or repeats rows with equal sort values.
    const last = plan.orderBy[plan.orderBy.length - 1];
    if (!(last && last.path.steps.length === 0 && last.path.field.name === 'Id')) {
      this.sortKeys.push({
        expression: sql.ref('t.Id'),
        descending: false,
        nullsFirst: true,
        nillable: false,
      });
    }
  }

  /** The SQL alias of a relationship chain's table; `t` is the query's object. */
  joinAlias(steps: RelationshipStep[]): string {
    if (steps.length === 0) return 't';
    const key = joinKey(steps);
    let join = this.joins.get(key);
    if (!join) {
      if (steps.length > 1) this.joinAlias(steps.slice(0, -1));
      join = { alias: `j${this.joins.size + 1}`, steps };
      this.joins.set(key, join);
    }
    return join.alias;
  }

  /** Text sorts case-insensitively, as on Salesforce; the keyset compares the same expression. */
  private sortExpression(path: FieldPath): Sql {
    const col = this.column(path);
    return isTextType(path.field.type) ? this.dialect.ciSortKey(col) : col;
  }

  column(path: FieldPath): Sql {
    const last = path.steps[path.steps.length - 1];
    if (last?.polymorphic) return this.polymorphicColumn(this.joinAlias(path.steps), last, path.field.name);
    return sql.ref(`${this.joinAlias(path.steps)}.${path.field.name}`);
  }

  /**
   * A field of a polymorphic parent (`What.Name`): each object it may be is joined on its own
   * (by primary key), and the field is the one that matched. A Case's name is its CaseNumber.
   */
  private polymorphicColumn(alias: string, step: RelationshipStep, field: string): Sql {
    const targets = step.polymorphic ?? [];
    const each = targets.map((target, k) => ({ target, at: `${alias}_${k}` }));
    if (field === 'Type')
      return sql`case ${sql.join(
        each.map(({ target, at }) => sql`when ${sql.ref(`${at}.Id`)} is not null then ${target.name}`),
        sql` `,
      )} end`;
    const columns = each.flatMap(({ target, at }) => {
      const name = field === 'Name' && !target.fields.some((f) => f.name === 'Name') ? 'CaseNumber' : field;
      return target.fields.some((f) => f.name === name) ? [sql.ref(`${at}.${name}`)] : [];
    });
    return columns.length === 1 ? (columns[0] as Sql) : sql`coalesce(${sql.join(columns)})`;
  }

  relationshipAliases(): Array<{ alias: string; steps: RelationshipStep[] }> {
    return [...this.joins.values()];
  }

  /** A joined parent's Id: its table's, or, for a polymorphic parent, the one that matched. */
  private parentId({ alias, steps }: { alias: string; steps: RelationshipStep[] }): Sql {
    const last = steps[steps.length - 1] as RelationshipStep;
    return last.polymorphic ? this.polymorphicColumn(alias, last, 'Id') : sql.ref(`${alias}.Id`);
  }

  private from(): Sql {
    const joins = [...this.joins.values()].map(({ alias, steps }) => {
      const last = steps[steps.length - 1] as RelationshipStep;
      const parent = this.joinAlias(steps.slice(0, -1));
      const on = sql.ref(`${parent}.${last.via.name}`);
      if (last.polymorphic)
        return sql.join(
          last.polymorphic.map(
            (target, k) =>
              sql`left join ${sql.table(target.table)} as ${sql.id(`${alias}_${k}`)} on ${sql.ref(`${alias}_${k}.Id`)} = ${on}`,
          ),
          sql` `,
        );
      return sql`left join ${sql.table(last.target.table)} as ${sql.id(alias)} on ${sql.ref(`${alias}.Id`)} = ${on}`;
    });
    const table = this.plan.object.table;
    const base = this.searchJoin
      ? sql`${sql.table(ftsTable(this.plan.object))} join ${sql.table(table)} as t on ${sql.ref('t.rowid')} = ${sql.ref(`${ftsTable(this.plan.object)}.rowid`)}`
      : sql`${sql.table(table)} as t`;
    return sql`${base} ${sql.join(joins, sql` `)}`;
  }

  private where(keyset: Sql | null): Sql {
    const parts: Sql[] = [];
    // The page's own bound goes first: where a query also bounds the sort key (SystemModstamp > …),
    // SQLite seeks on the first bound it meets, and the page's is the one that skips the rows read.
    if (keyset) parts.push(keyset);
    if (!this.plan.includeDeleted) parts.push(sql`t."IsDeleted" = 0`);
    if (this.filter) parts.push(this.filter);
    return parts.length === 0 ? sql`1 = 1` : sql.join(parts, sql` and `);
  }

  private bind(path: FieldPath, value: FieldValue): unknown {
    return toColumnValue(path.field, value);
  }

  private predicate(p: Predicate): Sql {
    switch (p.kind) {
      case 'and':
      case 'or':
        return sql`(${sql.join(
          p.items.map((i) => this.predicate(i)),
          p.kind === 'and' ? sql` and ` : sql` or `,
        )})`;
      case 'not':
        return sql`(not ${this.predicate(p.item)})`;
      case 'compare': {
        const col = this.column(p.path);
        if (p.value === null) return p.op === '=' ? sql`${col} is null` : sql`${col} is not null`;
        const text = isTextType(p.path.field.type) && typeof p.value === 'string';
        const value = this.bind(p.path, p.value);
        if (p.op === '=')
          return text ? this.dialect.ciEquals(col, p.value as string) : sql`${col} = ${value}`;
        // SOQL's != also matches records where the field is null, unlike SQL's <>.
        if (p.op === '!=') {
          const equal = text ? this.dialect.ciEquals(col, p.value as string) : sql`${col} = ${value}`;
          return sql`(${col} is null or not (${equal}))`;
        }
        return sql`${col} ${comparison(p.op)} ${value}`;
      }
      case 'in': {
        const col = this.column(p.path);
        const values = p.values.filter((v) => v !== null);
        const hasNull = values.length !== p.values.length;
        const text = isTextType(p.path.field.type);
        const member =
          values.length === 0
            ? sql`1 = 0`
            : text
              ? this.dialect.ciIn(col, values.map(String))
              : sql`${col} in (${sql.join(values.map((v) => this.bind(p.path, v)))})`;
        if (p.negate)
          return hasNull
            ? sql`(${col} is not null and not (${member}))`
            : sql`(${col} is null or not (${member}))`;
        return hasNull ? sql`(${col} is null or ${member})` : member;
      }
      case 'like':
        return this.dialect.ciLike(this.column(p.path), p.pattern);
      case 'search':
        if (this.dialect.name === 'postgres')
          return postgresMatch(this.plan.object, 't', p.fields, p.expression);
        // SQLite searches through the joined index: the search must hold for every row.
        if (p !== this.searchJoin) throw new Error('a search must be a condition every row meets');
        return sqliteJoinedMatch(this.plan.object, p.fields, p.expression);
      case 'semi': {
        // Uncorrelated: the inner query's aliases (t, j1 …) shadow the outer ones only inside it.
        const col = this.column(p.path);
        const inner = new SoqlSql(p.inner, this.dialect).selectOne();
        return p.negate ? sql`(${col} is null or ${col} not in (${inner}))` : sql`${col} in (${inner})`;
      }
      case 'range': {
        const col = this.column(p.path);
        switch (p.op) {
          case '=':
            return sql`(${col} >= ${p.start} and ${col} < ${p.end})`;
          case '!=':
            return sql`(${col} is null or ${col} < ${p.start} or ${col} >= ${p.end})`;
          case '<':
            return sql`${col} < ${p.start}`;
          case '<=':
            return sql`${col} < ${p.end}`;
          case '>':
            return sql`${col} >= ${p.end}`;
          case '>=':
            return sql`${col} >= ${p.start}`;
        }
      }
    }
  }

  private orderClause(): Sql {
    return sql.join(
      this.sortKeys.map(
        (k) =>
          sql`${k.expression} ${sql.raw(k.descending ? 'desc' : 'asc')} ${sql.raw(k.nullsFirst ? 'nulls first' : 'nulls last')}`,
      ),
    );
  }

  /**
   * Rows strictly after `after` in sort order; null-aware, for ascending and descending keys alike.
   * The first key also gets a plain range bound where one is valid, so the database can seek to
   * the page instead of scanning from the start (the OR form alone cannot use an index range).
   */
  private keysetPredicate(after: Keyset): Sql {
    const isNull = (v: unknown) => v === null || v === undefined;
    const alternatives: Sql[] = [];
    for (let i = 0; i < this.sortKeys.length; i++) {
      const equalBefore = this.sortKeys
        .slice(0, i)
        .map((k, j) =>
          isNull(after[j]) ? sql`${k.expression} is null` : sql`${k.expression} = ${after[j]}`,
        );
      const k = this.sortKeys[i] as SortKey;
      const v = after[i];
      let beyond: Sql;
      if (isNull(v)) {
        // Nulls first: everything non-null comes after; nulls last: nothing does.
        beyond = k.nullsFirst ? sql`${k.expression} is not null` : sql`1 = 0`;
      } else {
        const cmp = k.descending ? sql`${k.expression} < ${v}` : sql`${k.expression} > ${v}`;
        beyond = k.nullsFirst || !k.nillable ? cmp : sql`(${cmp} or ${k.expression} is null)`;
      }
      alternatives.push(
        equalBefore.length === 0 ? beyond : sql`(${sql.join([...equalBefore, beyond], sql` and `)})`,
      );
    }
    const predicate = sql`(${sql.join(alternatives, sql` or `)})`;
    const first = this.sortKeys[0] as SortKey;
    const v = after[0];
    // Valid when no null can follow a non-null value: the key has no nulls, or they sort first.
    if (isNull(v) || (first.nillable && !first.nullsFirst)) return predicate;
    const bound = first.descending ? sql`${first.expression} <= ${v}` : sql`${first.expression} >= ${v}`;
    return sql`(${bound} and ${predicate})`;
  }

  /** The select list: c0… for the plan's fields, r0… for joined records' ids, k0… for sort keys. */
  private selectList(): Sql {
    const items: Sql[] = [];
    this.plan.select.forEach((s, i) => {
      if (s.kind === 'field') items.push(sql`${this.column(s.path)} as ${sql.id(`c${i}`)}`);
    });
    this.relationshipAliases().forEach((join, i) =>
      items.push(sql`${this.parentId(join)} as ${sql.id(`r${i}`)}`),
    );
    this.sortKeys.forEach((k, i) => items.push(sql`${k.expression} as ${sql.id(`k${i}`)}`));
    return sql.join(items);
  }

  /** A semi-join's inner query: its one field, never null (a null would make NOT IN match nothing). */
  selectOne(): Sql {
    const [only] = this.plan.select;
    if (only?.kind !== 'field') throw new Error('a semi-join selects one field');
    const col = this.column(only.path);
    return sql`select ${col} from ${this.from()} where ${this.where(null)} and ${col} is not null`;
  }

  async page(db: StoreDb, options: PageOptions): Promise<Row[]> {
    return (await this.pageQuery(options).execute(db)).rows;
  }

  /**
   * A page as arrays (c0…, r0…, k0… by the answer's columns), for Bulk API result pages: no
   * object is made per row (arrayRows).
   */
  pageArrays(db: StoreDb, options: PageOptions): Promise<ArrayRows> {
    return arrayRows(db, this.pageQuery(options));
  }

  private pageQuery(options: PageOptions): RawBuilder<Row> {
    const keyset = options.after ? this.keysetPredicate(options.after) : null;
    const offset = options.offset > 0 ? sql` offset ${options.offset}` : sql``;
    // A search without ORDER BY answers in the index's order (Salesforce's is relevance), so the
    // index can stop at the LIMIT.
    const order =
      this.plan.unordered && this.plan.orderBy.length === 0 ? sql`` : sql` order by ${this.orderClause()}`;
    return sql<Row>`select ${this.selectList()} from ${this.from()} where ${this.where(keyset)}${order}
      limit ${options.limit}${offset}`;
  }

  keysetOf(row: Row): Keyset {
    return this.sortKeys.map((_k, i) => row[`k${i}`] ?? null);
  }

  async count(db: StoreDb): Promise<number> {
    const r = await sql<{
      n: number;
    }>`select count(*) as n from ${this.from()} where ${this.where(null)}`.execute(db);
    return Number(r.rows[0]?.n ?? 0);
  }

  /** GROUP BY and aggregate queries: a0… for the select items, in order. */
  async aggregate(db: StoreDb, limit: number): Promise<Row[]> {
    const items = this.plan.select.map((s, i) => {
      const alias = sql.id(`a${i}`);
      if (s.kind === 'children') throw new Error('subqueries are refused with aggregates');
      if (s.kind === 'field') return sql`${this.column(s.path)} as ${alias}`;
      const arg = s.path ? this.column(s.path) : sql`*`;
      switch (s.fn) {
        case 'COUNT':
          return sql`count(${arg}) as ${alias}`;
        case 'COUNT_DISTINCT':
          return sql`count(distinct ${arg}) as ${alias}`;
        default:
          return sql`${sql.raw(s.fn.toLowerCase())}(${arg}) as ${alias}`;
      }
    });
    const groupBy =
      this.plan.groupBy.length > 0
        ? sql` group by ${sql.join(this.plan.groupBy.map((g) => this.column(g)))}`
        : sql``;
    const orderBy =
      this.plan.orderBy.length > 0
        ? sql` order by ${sql.join(
            this.plan.orderBy.map(
              (o) =>
                sql`${this.sortExpression(o.path)} ${sql.raw(o.descending ? 'desc' : 'asc')} ${sql.raw(o.nullsFirst ? 'nulls first' : 'nulls last')}`,
            ),
          )}`
        : sql``;
    const r =
      await sql<Row>`select ${sql.join(items)} from ${this.from()} where ${this.where(null)}${groupBy}${orderBy}
      limit ${limit}`.execute(db);
    return r.rows;
  }
}

/** A search predicate every matching row must satisfy: the WHERE itself, or one of its top ANDs. */
function requiredSearch(where: Predicate | null): Extract<Predicate, { kind: 'search' }> | null {
  if (!where) return null;
  if (where.kind === 'search') return where;
  if (where.kind === 'and') {
    for (const item of where.items) if (item.kind === 'search') return item;
  }
  return null;
}
