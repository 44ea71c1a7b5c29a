import { CompiledQuery, sql, type RawBuilder } from 'kysely';
import { arrayRows, type ArrayRows } from '../../store/array-rows.js';
import type { StoreDb } from '../../store/database.js';
import type { StoreDialect } from '../../store/store-dialect.js';
import {
  CREATION_FIELD,
  spreadCreation,
  type Actor,
  type FieldChange,
  type Prospect,
} from '../domain/prospect.js';
import { PROSPECT_FIELDS, FIELD_BY_NAME, type ProspectValue } from '../domain/prospect-fields.js';
import { cachedSql, statementChunks } from '../../store/compiled-statements.js';
import { comparison } from '../../store/sql-operators.js';

type Row = Record<string, unknown>;

const STORED_FIELDS = PROSPECT_FIELDS.filter((f) => f.name !== 'id');

function toColumn(value: ProspectValue): unknown {
  return typeof value === 'boolean' ? (value ? 1 : 0) : value;
}

function fromRow(row: Row): Prospect {
  const columns = Object.keys(row);
  return prospectsFromArrays({ columns, rows: [columns.map((c) => row[c])] })[0]!;
}

function fieldValue(type: string, raw: unknown): ProspectValue {
  if (raw === null || raw === undefined) return null;
  if (type === 'boolean') return raw === 1 || raw === '1' || raw === true;
  if (type === 'integer') return Number(raw);
  return raw as ProspectValue;
}

/** Prospects from rows read as arrays (arrayRows): the columns' places are found once. */
function prospectsFromArrays({ columns, rows }: ArrayRows): Prospect[] {
  const at = (column: string) => columns.indexOf(column);
  const stored = STORED_FIELDS.flatMap((f) => (at(f.column) < 0 ? [] : [{ f, cell: at(f.column) }]));
  const [id, unitId, isDeleted, custom] = ['id', 'unit_id', 'is_deleted', 'custom_fields'].map(at);
  return rows.map((row) => {
    const values: Record<string, ProspectValue> = { id: Number(row[id!]) };
    for (const { f, cell } of stored) values[f.name] = fieldValue(f.type, row[cell]);
    const customJson = row[custom!];
    if (typeof customJson === 'string')
      Object.assign(values, JSON.parse(customJson) as Record<string, ProspectValue>);
    return {
      id: Number(row[id!]),
      unitId: String(row[unitId!]),
      isDeleted: Number(row[isDeleted!]) === 1,
      values,
    };
  });
}

/** Splits v5 values into standard columns and the custom-field JSON. */
function split(values: Record<string, ProspectValue>): {
  columns: Record<string, unknown>;
  custom: Record<string, ProspectValue>;
} {
  const columns: Record<string, unknown> = {};
  const custom: Record<string, ProspectValue> = {};
  for (const [name, value] of Object.entries(values)) {
    const f = FIELD_BY_NAME.get(name);
    if (f) {
      if (f.name !== 'id') columns[f.column] = toColumn(value);
    } else custom[name] = value;
  }
  return { columns, custom };
}

const INSERT_COLUMNS = ['unit_id', ...STORED_FIELDS.map((f) => f.column), 'custom_fields', 'is_deleted'];

export async function insertProspect(
  db: StoreDb,
  unitId: string,
  values: Record<string, ProspectValue>,
): Promise<number> {
  const { columns, custom } = split(values);
  const params = [unitId, ...STORED_FIELDS.map((f) => columns[f.column] ?? null), JSON.stringify(custom), 0];
  const text = cachedSql(
    db,
    'insert-prospect',
    () => sql`insert into marketing_prospect (${sql.join(INSERT_COLUMNS.map((n) => sql.ref(n)))})
      values (${sql.join(INSERT_COLUMNS.map(() => sql`${null}`))}) returning id`,
  );
  const r = await db.executeQuery<{ id: number | string }>(CompiledQuery.raw(text, params));
  return Number(r.rows[0]?.id);
}

const ROWS_PER_INSERT = Math.floor(30_000 / INSERT_COLUMNS.length);

/**
 * Inserts many prospects with multi-row statements; returns their ids in the order given. Ids
 * are drawn from the sequence row by row in VALUES order (SQLite and PostgreSQL both number a
 * multi-row insert that way), so the returned ids sorted ascending line up with the rows even
 * though RETURNING itself promises no order.
 */
export async function insertProspects(
  db: StoreDb,
  unitId: string,
  rows: Array<Record<string, ProspectValue>>,
): Promise<number[]> {
  const ids: number[] = [];
  for (const chunk of statementChunks(rows, ROWS_PER_INSERT)) {
    const text = cachedSql(db, `insert-prospects:${chunk.length}`, () => {
      const row = sql`(${sql.join(INSERT_COLUMNS.map(() => sql`${null}`))})`;
      return sql`insert into marketing_prospect (${sql.join(INSERT_COLUMNS.map((n) => sql.ref(n)))})
        values ${sql.join(chunk.map(() => row))} returning id`;
    });
    const params: unknown[] = [];
    for (const values of chunk) {
      const { columns, custom } = split(values);
      params.push(unitId, ...STORED_FIELDS.map((f) => columns[f.column] ?? null), JSON.stringify(custom), 0);
    }
    const r = await db.executeQuery<{ id: number | string }>(CompiledQuery.raw(text, params));
    ids.push(...r.rows.map((row) => Number(row.id)).sort((a, b) => a - b));
  }
  return ids;
}

/** Writes changed values; custom fields are written as the whole set `customAfter`. */
export async function updateProspect(
  db: StoreDb,
  id: number,
  values: Record<string, ProspectValue>,
  customAfter: Record<string, ProspectValue> | null,
): Promise<void> {
  const { columns } = split(values);
  const sets = Object.entries(columns).map(([column, value]) => sql`${sql.ref(column)} = ${value}`);
  if (customAfter) sets.push(sql`custom_fields = ${JSON.stringify(customAfter)}`);
  if (sets.length === 0) return;
  await sql`update marketing_prospect set ${sql.join(sets)} where id = ${id}`.execute(db);
}

export async function setDeleted(db: StoreDb, id: number, deleted: boolean, at: string): Promise<void> {
  await sql`update marketing_prospect set is_deleted = ${deleted ? 1 : 0}, deleted_at = ${deleted ? at : null},
    updated_at = ${at} where id = ${id}`.execute(db);
}

export async function selectProspect(db: StoreDb, unitId: string, id: number): Promise<Prospect | undefined> {
  const r = await sql<Row>`select * from marketing_prospect where id = ${id} and unit_id = ${unitId}`.execute(
    db,
  );
  return r.rows[0] ? fromRow(r.rows[0]) : undefined;
}

export type DeletedFilter = 'false' | 'true' | 'all';

function deletedClause(deleted: DeletedFilter): RawBuilder<unknown> {
  if (deleted === 'all') return sql``;
  return sql`and is_deleted = ${deleted === 'true' ? 1 : 0}`;
}

/** The most recently updated first (then the newest id): sorted here, not in SQL, see below. */
function sortLatestFirst(list: Prospect[]): Prospect[] {
  return list.sort((a, b) =>
    a.values.updatedAt === b.values.updatedAt
      ? b.id - a.id
      : String(b.values.updatedAt) < String(a.values.updatedAt)
        ? -1
        : 1,
  );
}

function latestFirst(rows: Row[]): Prospect[] {
  return sortLatestFirst(rows.map(fromRow));
}

/**
 * Prospects with this email (any case), the most recently updated first. The few matches are
 * sorted in memory: with an ORDER BY, SQLite would walk the unit's updated_at index instead of
 * the email index, reading every prospect of the unit.
 */
export async function selectByEmail(
  db: StoreDb,
  dialect: StoreDialect,
  unitId: string,
  email: string,
  deleted: DeletedFilter,
): Promise<Prospect[]> {
  const r = await sql<Row>`select * from marketing_prospect
    where unit_id = ${unitId} and ${dialect.ciEquals(sql.ref('email'), email)} ${deletedClause(deleted)}`.execute(
    db,
  );
  return latestFirst(r.rows);
}

/** Live prospects with any of these emails (any case), for checking a batch at once. */
export async function selectByEmails(
  db: StoreDb,
  dialect: StoreDialect,
  unitId: string,
  emails: readonly string[],
): Promise<Prospect[]> {
  if (emails.length === 0) return [];
  const out: Prospect[] = [];
  for (let i = 0; i < emails.length; i += 500) {
    const r = await sql<Row>`select * from marketing_prospect where unit_id = ${unitId} and is_deleted = 0
      and ${dialect.ciIn(sql.ref('email'), emails.slice(i, i + 500))}`.execute(db);
    out.push(...latestFirst(r.rows));
  }
  return sortLatestFirst(out);
}

/** Prospects linked to a CRM record (the FID: a Lead or Contact id), the most recently updated first. */
export async function selectByCrmId(db: StoreDb, unitId: string, crmId: string): Promise<Prospect[]> {
  // The unit in each branch of the OR (see selectByCrmIds).
  const r = await sql<Row>`select * from marketing_prospect
    where is_deleted = 0
      and ((unit_id = ${unitId} and salesforce_id = ${crmId})
        or (unit_id = ${unitId} and salesforce_lead_id = ${crmId})
        or (unit_id = ${unitId} and salesforce_contact_id = ${crmId}))`.execute(db);
  return latestFirst(r.rows);
}

/** Live prospects carrying any of these CRM ids (as CRM, Lead or Contact id), 500 ids a query. */
export async function selectByCrmIds(
  db: StoreDb,
  unitId: string,
  crmIds: readonly string[],
): Promise<Prospect[]> {
  const out: Row[] = [];
  for (let i = 0; i < crmIds.length; i += 500) {
    const ids = sql.join(crmIds.slice(i, i + 500));
    // The unit in each branch of the OR: so SQLite searches each id column's index. With
    // `unit_id = ? and (… or …)` and no ANALYZE statistics it scans every prospect of the unit.
    const r = await sql<Row>`select * from marketing_prospect
      where is_deleted = 0
        and ((unit_id = ${unitId} and salesforce_id in (${ids}))
          or (unit_id = ${unitId} and salesforce_lead_id in (${ids}))
          or (unit_id = ${unitId} and salesforce_contact_id in (${ids})))`.execute(db);
    out.push(...r.rows);
  }
  return latestFirst(out);
}

export interface ProspectQuery {
  unitId: string;
  deleted: DeletedFilter;
  /** Column comparisons, already validated: [column, operator, value]. */
  where: Array<[string, '>' | '<' | '>=' | '<=' | '=', ProspectValue]>;
  orderColumn: string;
  descending: boolean;
  /** Keyset position: the last row of the previous page. */
  after?: { key: ProspectValue; id: number };
  limit: number;
  /** Rows to skip (v3/v4 paging); v5 pages by `after` instead. */
  offset?: number;
  /** Read only these v5 fields (and the keys), not the whole row: a v5 page names its fields. */
  fields?: readonly string[];
}

/** The columns that hold `fields`, with the ones every read needs. */
function selectedColumns(fields: readonly string[] | undefined, orderColumn: string): RawBuilder<unknown> {
  if (!fields) return sql`*`;
  const columns = new Set(['id', 'unit_id', 'is_deleted', orderColumn]);
  for (const name of fields) {
    const field = FIELD_BY_NAME.get(name);
    if (field) columns.add(field.column);
    else if (name !== 'isDeleted') columns.add('custom_fields');
  }
  return sql.join([...columns].map((c) => sql.ref(c)));
}

function filterConditions(
  dialect: StoreDialect,
  q: Omit<ProspectQuery, 'orderColumn' | 'descending' | 'limit'>,
): RawBuilder<unknown>[] {
  const conditions: RawBuilder<unknown>[] = [sql`unit_id = ${q.unitId}`];
  if (q.deleted !== 'all') conditions.push(sql`is_deleted = ${q.deleted === 'true' ? 1 : 0}`);
  for (const [column, op, value] of q.where) {
    // Emails match without regard to case, as everywhere in the engine.
    if (column === 'email' && op === '=' && typeof value === 'string')
      conditions.push(dialect.ciEquals(sql.ref(column), value));
    else conditions.push(sql`${sql.ref(column)} ${comparison(op)} ${toColumn(value)}`);
  }
  return conditions;
}

/** How many prospects match a query's filters. */
export async function countProspects(
  db: StoreDb,
  dialect: StoreDialect,
  q: Omit<ProspectQuery, 'orderColumn' | 'descending' | 'limit'>,
): Promise<number> {
  const r = await sql<{ n: number | string }>`select count(*) as n from marketing_prospect
    where ${sql.join(filterConditions(dialect, q), sql` and `)}`.execute(db);
  return Number(r.rows[0]?.n ?? 0);
}

/** A UTC instant as the engine writes it: compared as text, it compares as time. */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * The query's filters without its lower bounds on the order column that the keyset has passed
 * (the last row read is beyond them), so the keyset's is the only lower bound and each page is a
 * seek: given two, SQLite scans from the query's own, each page further from where it starts.
 * Only bounds the key provably passes are dropped: numbers, or instants in the engine's form.
 */
function withoutPassedBounds(q: ProspectQuery): ProspectQuery['where'] {
  const key = q.after?.key;
  if (q.descending || q.orderColumn === 'id' || key === null || key === undefined) return q.where;
  const passes = (op: string, bound: ProspectValue) => {
    const comparable =
      (typeof key === 'number' && typeof bound === 'number') ||
      (typeof key === 'string' && typeof bound === 'string' && INSTANT.test(key) && INSTANT.test(bound));
    return comparable && (op === '>' ? key > bound! : op === '>=' && key >= bound!);
  };
  return q.where.filter(([column, op, bound]) => !(column === q.orderColumn && passes(op, bound)));
}

/** One page of a query, in (order column, id) order so paging never skips or repeats. */
export async function queryProspects(
  db: StoreDb,
  dialect: StoreDialect,
  q: ProspectQuery,
): Promise<Prospect[]> {
  const conditions = filterConditions(dialect, { ...q, where: withoutPassedBounds(q) });
  const order = q.descending ? sql.raw('desc') : sql.raw('asc');
  const col = sql.ref(q.orderColumn);
  if (q.after) {
    const cmp = sql.raw(q.descending ? '<' : '>');
    if (q.orderColumn === 'id') conditions.push(sql`id ${cmp} ${q.after.id}`);
    else if (q.after.key === null) {
      // Nulls sort first ascending: past the null block only ids move on, then any value.
      conditions.push(
        q.descending
          ? sql`(${col} is null and id < ${q.after.id})`
          : sql`((${col} is null and id > ${q.after.id}) or ${col} is not null)`,
      );
    } else {
      conditions.push(
        q.descending
          ? sql`(${col} < ${toColumn(q.after.key)} or (${col} = ${toColumn(q.after.key)} and id < ${q.after.id}) or ${col} is null)`
          : // The plain bound first: the OR form alone is no index range, so each page would
            // scan from the start of the order (an export of a million prospects, 200 times).
            sql`${col} >= ${toColumn(q.after.key)} and (${col} > ${toColumn(q.after.key)} or (${col} = ${toColumn(q.after.key)} and id > ${q.after.id}))`,
      );
    }
  }
  const orderBy = q.orderColumn === 'id' ? sql`id ${order}` : sql`${col} ${order}, id ${order}`;
  // Read as arrays: pages of thousands of wide rows (v5 queries, exports) cost half as much.
  const answer = await arrayRows(
    db,
    sql`select ${selectedColumns(q.fields, q.orderColumn)} from marketing_prospect
    where ${sql.join(conditions, sql` and `)}
    order by ${orderBy} limit ${q.limit} offset ${q.offset ?? 0}`,
  );
  return prospectsFromArrays(answer);
}

const CHANGE_COLUMNS = 8;
const CHANGES_PER_STATEMENT = 500;

export async function insertChanges(db: StoreDb, unitId: string, changes: FieldChange[]): Promise<void> {
  const text = (v: ProspectValue) => (v === null ? null : String(v));
  for (const chunk of statementChunks(changes, CHANGES_PER_STATEMENT)) {
    const statement = cachedSql(db, `insert-changes:${chunk.length}`, () => {
      const row = sql`(${sql.join(Array.from({ length: CHANGE_COLUMNS }, () => sql`${null}`))})`;
      return sql`insert into marketing_prospect_change
        (unit_id, prospect_id, field, old_value, new_value, changed_at, actor_type, actor_id)
        values ${sql.join(chunk.map(() => row))}`;
    });
    const params: unknown[] = [];
    for (const c of chunk) {
      params.push(
        unitId,
        c.prospectId,
        c.field,
        text(c.oldValue),
        text(c.newValue),
        c.changedAt,
        c.actor.type,
        c.actor.id ?? null,
      );
    }
    await db.executeQuery(CompiledQuery.raw(statement, params));
  }
}

export interface StoredChange {
  id: number;
  field: string;
  oldValue: string | null;
  newValue: string | null;
  changedAt: string;
  actor: Actor;
}

export async function selectChanges(
  db: StoreDb,
  unitId: string,
  prospectId: number,
): Promise<StoredChange[]> {
  const r = await sql<Row>`select * from marketing_prospect_change
    where unit_id = ${unitId} and prospect_id = ${prospectId} order by id`.execute(db);
  return r.rows.flatMap((row) => {
    const base = {
      id: Number(row.id),
      changedAt: String(row.changed_at),
      actor: { type: row.actor_type as Actor['type'], id: (row.actor_id as string | null) ?? null },
    };
    if (row.field === CREATION_FIELD)
      return spreadCreation(String(row.new_value)).map(({ field, value }) => ({
        ...base,
        field,
        oldValue: null,
        newValue: value === null ? null : String(value),
      }));
    return [
      {
        ...base,
        field: String(row.field),
        oldValue: (row.old_value as string | null) ?? null,
        newValue: (row.new_value as string | null) ?? null,
      },
    ];
  });
}
