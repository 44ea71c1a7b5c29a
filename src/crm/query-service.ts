// Over 400 lines on purpose: SOQL queries, queryMore cursors, explain and Bulk query plans share one conversion of rows to wire records.
import { randomBytes } from 'node:crypto';
import { HandoffError } from '../errors/handoff-error.js';
import type { StoreDialect } from '../store/store-dialect.js';
import type { UnitOfWork } from '../store/unit-of-work.js';
import { formatDatetime } from './domain/field-values.js';
import type { FieldDef, FieldValue } from './domain/schema/field-def.js';
import type { SchemaRegistry } from './domain/schema/schema-registry.js';
import { queryColumns, type QueryColumns } from './domain/soql/query-columns.js';
import { isSearchable, scopeFields } from './domain/sosl/searchable.js';
import type { SearchExpression, SearchScope } from './domain/sosl/sosl.js';
import {
  isAggregatePlan,
  joinKey,
  type FieldPath,
  type Predicate,
  type QueryPlan,
  type RelationshipStep,
  type SelectItem,
} from './domain/soql/query-plan.js';
import { compoundValue } from './domain/soql/compound-address.js';
import { SoqlPlanner } from './domain/soql/soql-planner.js';
import { fromColumnValue, selectRecentlyViewed, stampViewed } from './store/record-store.js';
import { SoqlSql, type Keyset, type Row } from './store/soql-sql.js';

export const DEFAULT_BATCH_SIZE = 2000;
const MIN_BATCH_SIZE = 200;
const AGGREGATE_ROW_LIMIT = 2000;
/** Child rows read for one page of parents and one subquery, at most. */
const MAX_CHILD_ROWS = 200_000;
// Salesforce keeps a cursor 15 minutes after its last use; so do we, up to a bound on memory.
const LOCATOR_TTL_MS = 15 * 60_000;
const MAX_OPEN_LOCATORS = 10_000;

export type WireRecord = Record<string, unknown>;

export interface QueryResult {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
  records: WireRecord[];
}

interface Cursor {
  compiled: SoqlSql;
  after: Keyset;
  /** Rows still allowed by the query's LIMIT (Infinity when none). */
  remaining: number;
  returned: number;
  totalSize: number;
  pageSize: number;
  userId: string;
  touchedAt: number;
}

/** `Sforce-Query-Options: batchSize=N` → page size (200 to 2,000; Salesforce treats it as a hint). */
export function pageSizeFrom(header: string | undefined): number {
  const match = header ? /batchSize\s*=\s*(\d+)/i.exec(header) : null;
  if (!match) return DEFAULT_BATCH_SIZE;
  return Math.min(DEFAULT_BATCH_SIZE, Math.max(MIN_BATCH_SIZE, Number(match[1])));
}

function wireValue(f: FieldDef, raw: unknown): FieldValue {
  const value = fromColumnValue(f, raw);
  return f.type === 'datetime' && typeof value === 'string' ? formatDatetime(value) : value;
}

/** SOQL over the record tables, with Salesforce's paging: query locators and `nextRecordsUrl`. */
export class QueryService {
  private readonly planner: SoqlPlanner;
  private readonly cursors = new Map<string, Cursor>();

  constructor(
    private readonly deps: {
      schema: SchemaRegistry;
      dialect: StoreDialect;
      unitOfWork: UnitOfWork;
      now?: () => Date;
    },
  ) {
    this.planner = new SoqlPlanner(deps.schema);
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  async query(
    soql: string,
    options: { includeDeleted: boolean; pageSize: number; userId: string; apiVersion: string },
  ): Promise<QueryResult> {
    const plan = this.planner.plan(soql, { includeDeleted: options.includeDeleted, now: this.now() });
    const compiled = new SoqlSql(plan, this.deps.dialect);
    const db = this.deps.unitOfWork.current();
    const limit = plan.limit ?? Infinity;

    if (plan.countOnly) {
      const total = Math.max(0, Math.min((await compiled.count(db)) - plan.offset, limit));
      return { totalSize: total, done: true, records: [] };
    }
    if (isAggregatePlan(plan)) {
      const rows = await compiled.aggregate(db, Math.min(limit, AGGREGATE_ROW_LIMIT));
      return { totalSize: rows.length, done: true, records: rows.map((r) => this.aggregateRecord(plan, r)) };
    }

    const first = Math.min(options.pageSize, limit);
    // One row more than the page tells whether another page exists without counting. A page
    // that reaches the LIMIT is the last, whatever else matches: Salesforce answers done:true
    // there, and clients (jsforce's and nforce's autoFetch) re-run a query left done:false.
    const rows = await compiled.page(db, { after: null, limit: first + 1, offset: plan.offset });
    const more = rows.length > first && first < limit;
    const pageRows = rows.length > first ? rows.slice(0, first) : rows;
    const totalSize = more
      ? Math.min(Math.max(0, (await compiled.count(db)) - plan.offset), limit)
      : pageRows.length;
    const result: QueryResult = {
      totalSize,
      done: !more,
      records: await this.records(compiled, pageRows, options.apiVersion),
    };
    if (plan.viewStamp) {
      // The keyset ends with the record's Id, whatever the query selected.
      const ids = pageRows.map((row) => String(compiled.keysetOf(row).at(-1)));
      await stampViewed(db, plan.object, ids, this.now().toISOString(), plan.viewStamp);
    }
    const last = pageRows[pageRows.length - 1];
    if (more && last) {
      const locator = this.openCursor({
        compiled,
        after: compiled.keysetOf(last),
        remaining: limit - pageRows.length,
        returned: pageRows.length,
        totalSize,
        pageSize: options.pageSize,
        userId: options.userId,
        touchedAt: Date.now(),
      });
      result.nextRecordsUrl = this.nextUrl(
        options.apiVersion,
        options.includeDeleted,
        locator,
        pageRows.length,
      );
    }
    return result;
  }

  /**
   * The records among `ids` a query matches, deleted ones too, as the query selects them: which
   * changed records a PushTopic notifies of, and with what. The query's own LIMIT is not applied.
   */
  async matchingAmong(soql: string, ids: readonly string[], apiVersion: string): Promise<WireRecord[]> {
    if (ids.length === 0) return [];
    const plan = this.planner.plan(soql, { includeDeleted: true, now: this.now() });
    const idField = plan.object.fields.find((f) => f.name === 'Id');
    if (!idField) return [];
    const among: Predicate = {
      kind: 'in',
      path: { steps: [], field: idField },
      values: [...ids],
      negate: false,
    };
    const narrowed: QueryPlan = {
      ...plan,
      where: plan.where ? { kind: 'and', items: [among, plan.where] } : among,
      limit: null,
      offset: 0,
    };
    const compiled = new SoqlSql(narrowed, this.deps.dialect);
    const rows = await compiled.page(this.deps.unitOfWork.current(), {
      after: null,
      limit: ids.length,
      offset: 0,
    });
    return this.records(compiled, rows, apiVersion);
  }

  /**
   * Recently viewed records (`FOR VIEW`), newest first: of one object, or of every object that
   * keeps LastViewedDate.
   */
  async recentlyViewed(
    limit: number,
    objectName?: string,
  ): Promise<Array<{ type: string; id: string; name: string | null }>> {
    const db = this.deps.unitOfWork.current();
    const objects = objectName
      ? [this.deps.schema.object(objectName)].filter((d) => d !== undefined)
      : this.deps.schema.allObjects();
    const found: Array<{ type: string; id: string; name: string | null; viewedAt: string }> = [];
    for (const def of objects)
      for (const r of await selectRecentlyViewed(db, def, limit)) found.push({ type: def.name, ...r });
    found.sort((a, b) => (a.viewedAt < b.viewedAt ? 1 : a.viewedAt > b.viewedAt ? -1 : 0));
    return found.slice(0, limit).map(({ type, id, name }) => ({ type, id, name }));
  }

  /**
   * The rows of one object of a search: `SELECT {fields} FROM {object} {clauses}` with the
   * search as one more condition, at most `limit` rows (or the clauses' own LIMIT if smaller).
   */
  async searchRows(
    returning: { object: string; fields: string | null; clauses: string },
    search: { scope: SearchScope; expression: SearchExpression },
    limit: number,
    apiVersion: string,
  ): Promise<WireRecord[]> {
    const soql = `SELECT ${returning.fields ?? 'Id'} FROM ${returning.object} ${returning.clauses}`;
    const plan = this.planner.plan(soql, { includeDeleted: false, now: this.now() });
    if (!isSearchable(plan.object))
      throw new HandoffError('INVALID_TYPE', `entity type ${plan.object.name} does not support search`);
    if (isAggregatePlan(plan) || plan.countOnly)
      throw new HandoffError('MALFORMED_SEARCH', 'Aggregate functions are not supported in a search');
    const fields = scopeFields(plan.object, search.scope);
    const rowLimit = Math.min(limit, plan.limit ?? Infinity);
    if (fields.length === 0 || rowLimit <= 0) return [];
    const match: Predicate = { kind: 'search', fields, expression: search.expression };
    const compiled = new SoqlSql(
      {
        ...plan,
        where: plan.where ? { kind: 'and', items: [match, plan.where] } : match,
        unordered: plan.orderBy.length === 0,
      },
      this.deps.dialect,
    );
    const db = this.deps.unitOfWork.current();
    const rows = await compiled.page(db, { after: null, limit: rowLimit, offset: plan.offset });
    return this.records(compiled, rows, apiVersion);
  }

  /**
   * `query?explain=`: the plan Salesforce's optimizer would report, from real counts — the rows
   * the query matches and the object's rows. An Id lookup leads with the index; anything else
   * is reported as the table scan it is here.
   */
  async explain(soql: string): Promise<{ plans: Array<Record<string, unknown>>; sourceQuery: string }> {
    const plan = this.planner.plan(soql, { includeDeleted: false, now: this.now() });
    const db = this.deps.unitOfWork.current();
    const matching = await new SoqlSql({ ...plan, limit: null, offset: 0 }, this.deps.dialect).count(db);
    const all = await new SoqlSql({ ...plan, where: null, limit: null, offset: 0 }, this.deps.dialect).count(
      db,
    );
    const byId =
      plan.where !== null &&
      (plan.where.kind === 'compare' || plan.where.kind === 'in') &&
      plan.where.path.steps.length === 0 &&
      plan.where.path.field.name === 'Id';
    return {
      plans: [
        {
          cardinality: Math.min(matching, plan.limit ?? Infinity),
          fields: byId ? ['Id'] : [],
          leadingOperationType: byId ? 'Index' : 'TableScan',
          notes: [],
          relativeCost: all === 0 ? 0 : Math.round((matching / all) * 1000) / 1000,
          sobjectCardinality: all,
          sobjectType: plan.object.name,
        },
      ],
      sourceQuery: soql,
    };
  }

  /** The columns a query would answer (`columns=true`), without running it. */
  columns(soql: string, includeDeleted: boolean): QueryColumns {
    return queryColumns(this.planner.plan(soql, { includeDeleted, now: this.now() }));
  }

  /** The next page of an open query. Locators look like `01g…-2000` (cursor id, rows so far). */
  async more(
    locator: string,
    options: { userId: string; apiVersion: string; includeDeleted: boolean },
  ): Promise<QueryResult> {
    const [id] = locator.split('-');
    const cursor = id ? this.cursors.get(id) : undefined;
    if (!cursor || cursor.userId !== options.userId || Date.now() - cursor.touchedAt > LOCATOR_TTL_MS) {
      if (id) this.cursors.delete(id);
      throw new HandoffError('INVALID_QUERY_LOCATOR', 'invalid query locator');
    }
    cursor.touchedAt = Date.now();
    const size = Math.min(cursor.pageSize, cursor.remaining);
    const rows = await cursor.compiled.page(this.deps.unitOfWork.current(), {
      after: cursor.after,
      limit: size + 1,
      offset: 0,
    });
    const more = rows.length > size && size < cursor.remaining;
    const pageRows = rows.length > size ? rows.slice(0, size) : rows;
    cursor.returned += pageRows.length;
    cursor.remaining -= pageRows.length;
    const last = pageRows[pageRows.length - 1];
    const result: QueryResult = {
      totalSize: cursor.totalSize,
      done: !more,
      records: await this.records(cursor.compiled, pageRows, options.apiVersion),
    };
    if (more && last && id) {
      cursor.after = cursor.compiled.keysetOf(last);
      result.nextRecordsUrl = this.nextUrl(options.apiVersion, options.includeDeleted, id, cursor.returned);
    } else if (id) {
      this.cursors.delete(id);
    }
    return result;
  }

  /** Plans a query for a Bulk API query job: checked now, run later page by page. */
  planForBulk(soql: string, includeDeleted: boolean): QueryPlan {
    const plan = this.planner.plan(soql, { includeDeleted, now: this.now() });
    if (isAggregatePlan(plan) || plan.countOnly) {
      throw new HandoffError('INVALID_INPUT', 'Aggregate queries are not supported by Bulk API query jobs');
    }
    if (plan.select.some((s) => s.kind === 'children')) {
      throw new HandoffError('INVALID_INPUT', 'Nested queries are not supported by Bulk API query jobs');
    }
    if (plan.select.some((s) => s.kind === 'field' && s.compound)) {
      throw new HandoffError(
        'FUNCTIONALITY_NOT_ENABLED',
        'Selecting compound data not supported in Bulk Query',
      );
    }
    return plan;
  }

  async countRows(plan: QueryPlan): Promise<number> {
    const total = await new SoqlSql(plan, this.deps.dialect).count(this.deps.unitOfWork.current());
    return Math.max(0, Math.min(total - plan.offset, plan.limit ?? Infinity));
  }

  /**
   * One page of a query job's results as flat rows (`Owner.Name` columns): up to `maxRecords`
   * rows after `after`, and the keyset to continue from (null on the last page).
   */
  async flatPage(
    plan: QueryPlan,
    after: Keyset | null,
    maxRecords: number,
  ): Promise<{ columns: string[]; rows: FieldValue[][]; next: Keyset | null }> {
    const compiled = new SoqlSql(plan, this.deps.dialect);
    const answer = await compiled.pageArrays(this.deps.unitOfWork.current(), {
      after,
      limit: maxRecords + 1,
      offset: after ? 0 : plan.offset,
    });
    const more = answer.rows.length > maxRecords;
    const pageRows = more ? answer.rows.slice(0, maxRecords) : answer.rows;
    const at = (alias: string) => answer.columns.indexOf(alias);
    const fields = plan.select.flatMap((s, i) =>
      s.kind === 'field' ? [{ field: s.path.field, cell: at(`c${i}`) }] : [],
    );
    const columns = plan.select.flatMap((s) =>
      s.kind === 'field' ? [[...s.path.steps.map((step) => step.name), s.path.field.name].join('.')] : [],
    );
    const values = pageRows.map((row) => fields.map(({ field, cell }) => fromColumnValue(field, row[cell])));
    const last = pageRows[pageRows.length - 1];
    const next =
      more && last ? compiled.keysetOf(Object.fromEntries(answer.columns.map((c, i) => [c, last[i]]))) : null;
    return { columns, rows: values, next };
  }

  private nextUrl(apiVersion: string, includeDeleted: boolean, id: string, returned: number): string {
    return `/services/data/v${apiVersion}/${includeDeleted ? 'queryAll' : 'query'}/${id}-${returned}`;
  }

  private openCursor(cursor: Cursor): string {
    if (this.cursors.size >= MAX_OPEN_LOCATORS) {
      const now = Date.now();
      for (const [key, c] of this.cursors) if (now - c.touchedAt > LOCATOR_TTL_MS) this.cursors.delete(key);
      // Still full: the oldest cursor gives way, as Salesforce closes old cursors past its limit.
      if (this.cursors.size >= MAX_OPEN_LOCATORS) {
        const oldest = this.cursors.keys().next().value;
        if (oldest) this.cursors.delete(oldest);
      }
    }
    const id = `01g${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x').slice(0, 15)}`;
    this.cursors.set(id, cursor);
    return id;
  }

  /** A page's rows as the wire gives them, each with its subqueries' child records. */
  private async records(compiled: SoqlSql, rows: Row[], apiVersion: string): Promise<WireRecord[]> {
    const { plan } = compiled;
    const children = new Map<number, Map<unknown, WireRecord[]>>();
    const idKey = `k${compiled.sortKeys.length - 1}`;
    for (const [i, item] of plan.select.entries()) {
      if (item.kind !== 'children' || rows.length === 0) continue;
      children.set(
        i,
        await this.childRecords(
          item,
          rows.map((r) => r[idKey]),
          apiVersion,
        ),
      );
    }
    return rows.map((r) => this.record(plan, compiled, r, apiVersion, children));
  }

  /**
   * The child records of a page of parents, for one subquery: one query for the whole page
   * (the link field IN the parents' ids), grouped by parent, each parent's LIMIT applied.
   */
  private async childRecords(
    item: Extract<SelectItem, { kind: 'children' }>,
    parentIds: unknown[],
    apiVersion: string,
  ): Promise<Map<unknown, WireRecord[]>> {
    const link: FieldPath = { steps: [], field: item.link };
    const within: Predicate = { kind: 'in', path: link, values: parentIds.map(String), negate: false };
    const plan: QueryPlan = {
      ...item.plan,
      // The link travels as a last, unseen column: the child plan's own select says what is shown.
      select: [...item.plan.select, { kind: 'field', path: link }],
      where: item.plan.where ? { kind: 'and', items: [within, item.plan.where] } : within,
      limit: null,
      offset: 0,
    };
    const compiled = new SoqlSql(plan, this.deps.dialect);
    const perParent = item.plan.limit ?? Infinity;
    const rows = await compiled.page(this.deps.unitOfWork.current(), {
      after: null,
      limit: Math.min(MAX_CHILD_ROWS, parentIds.length * Math.min(perParent, MAX_CHILD_ROWS)),
      offset: 0,
    });
    const linkColumn = `c${plan.select.length - 1}`;
    const byParent = new Map<unknown, WireRecord[]>();
    for (const row of rows) {
      const list = byParent.get(row[linkColumn]) ?? [];
      if (list.length >= perParent) continue;
      list.push(this.record(item.plan, compiled, row, apiVersion));
      byParent.set(row[linkColumn], list);
    }
    return byParent;
  }

  private record(
    plan: QueryPlan,
    compiled: SoqlSql,
    row: Row,
    apiVersion: string,
    children?: Map<number, Map<unknown, WireRecord[]>>,
  ): WireRecord {
    const base = `/services/data/v${apiVersion}/sobjects`;
    // The last sort key is always the record's Id (the tie-breaker, or the caller's own ORDER BY Id).
    const rootId = row[`k${compiled.sortKeys.length - 1}`];
    const out: WireRecord = {
      attributes: { type: plan.object.name, url: `${base}/${plan.object.name}/${String(rootId ?? '')}` },
    };
    const joinIds = new Map(
      compiled.relationshipAliases().map(({ steps }, i) => [joinKey(steps), row[`r${i}`]]),
    );
    /** Compound addresses selected, by name: their parts' values by key. */
    const compounds: Record<string, Record<string, unknown>> = {};
    plan.select.forEach((s, i) => {
      if (s.kind === 'children') {
        // A parent with no children has null, not an empty list (as Salesforce answers).
        const list = children?.get(i)?.get(rootId);
        out[s.name] = list ? { totalSize: list.length, done: true, records: list } : null;
        return;
      }
      if (s.kind !== 'field') return;
      let target = out;
      let reachable = true;
      for (let depth = 0; depth < s.path.steps.length; depth++) {
        const step = s.path.steps[depth];
        if (!step) break;
        const parentId = joinIds.get(joinKey(s.path.steps.slice(0, depth + 1)));
        if (parentId === null || parentId === undefined) {
          target[step.name] = null;
          reachable = false;
          break;
        }
        let next = target[step.name] as WireRecord | null | undefined;
        if (!next) {
          const type = this.parentType(step, parentId);
          next = { attributes: { type, url: `${base}/${type}/${String(parentId)}` } };
          target[step.name] = next;
        }
        target = next;
      }
      if (!reachable) return;
      if (s.compound) {
        // Its place among the fields is where the query named it; its value once all parts are in.
        if (!(s.compound.name in compounds)) out[s.compound.name] = null;
        const holder = (compounds[s.compound.name] ??= {});
        holder[s.compound.key] = wireValue(s.path.field, row[`c${i}`]);
      } else {
        target[s.path.field.name] = wireValue(s.path.field, row[`c${i}`]);
      }
    });
    for (const [name, parts] of Object.entries(compounds)) out[name] = compoundValue(parts);
    return out;
  }

  /** A parent's object: the relationship's, or for a polymorphic one, the one its id names. */
  private parentType(step: RelationshipStep, parentId: unknown): string {
    if (!step.polymorphic) return step.target.name;
    const prefix = String(parentId).slice(0, 3);
    return step.polymorphic.find((t) => t.keyPrefix === prefix)?.name ?? step.target.name;
  }

  private aggregateRecord(plan: QueryPlan, row: Row): WireRecord {
    const out: WireRecord = { attributes: { type: 'AggregateResult' } };
    plan.select.forEach((s, i) => {
      const raw = row[`a${i}`];
      if (s.kind === 'children') return;
      if (s.kind === 'field') {
        out[s.path.field.name] = wireValue(s.path.field, raw);
      } else if (s.path && (s.fn === 'MIN' || s.fn === 'MAX')) {
        out[s.alias] = wireValue(s.path.field, raw);
      } else {
        out[s.alias] = raw === null || raw === undefined ? null : Number(raw);
      }
    });
    return out;
  }
}
