import { CompiledQuery, sql, type RawBuilder } from 'kysely';
import { cachedSql } from '../../store/compiled-statements.js';
import type { StoreDb } from '../../store/database.js';
import type { StoreDialect } from '../../store/store-dialect.js';
import type { FieldDef, FieldValue, ObjectDef, RecordValues } from '../domain/schema/field-def.js';
import { isTextType } from '../domain/schema/field-def.js';
import { DELETED_AT_COLUMN } from './record-tables.js';

type Row = Record<string, unknown>;

/** Stored form of a value: booleans are 0/1 on both dialects. */
export function toColumnValue(f: FieldDef | undefined, value: FieldValue): unknown {
  if (f?.type === 'boolean') return value === null ? null : value ? 1 : 0;
  return value;
}

export function fromColumnValue(f: FieldDef, value: unknown): FieldValue {
  // A Salesforce checkbox is never null: one added to the schema reads false on older rows.
  if (f.type === 'boolean') return value === 1 || value === true || value === '1';
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return String(value);
}

function fromRow(def: ObjectDef, row: Row, fields: FieldDef[] = def.fields): RecordValues {
  const record: RecordValues = {};
  for (const f of fields) record[f.name] = fromColumnValue(f, row[f.name]);
  return record;
}

// SQLite's default limit on bound parameters is 32766; stay well under it per statement.
const MAX_PARAMETERS = 30_000;

/**
 * The SQL of a multi-row insert depends only on the table, its columns and the row count, so it
 * is compiled once per shape and reused with fresh parameters: building and compiling a
 * 15,000-parameter statement every call was a large share of a Collections write.
 */
function insertSql(db: StoreDb, def: ObjectDef, rows: number): string {
  return cachedSql(db, `insert:${def.table}:${def.fields.length}:${rows}`, () => {
    const columns = sql.join(def.fields.map((f) => sql.ref(f.name)));
    const row = sql`(${sql.join(def.fields.map(() => sql`${null}`))})`;
    const values = sql.join(Array.from({ length: rows }, () => row));
    return sql`insert into ${sql.table(def.table)} (${columns}) values ${values}`;
  });
}

export async function insertRecords(db: StoreDb, def: ObjectDef, records: RecordValues[]): Promise<void> {
  if (records.length === 0) return;
  const fields = def.fields;
  const rowsPerStatement = Math.max(1, Math.floor(MAX_PARAMETERS / fields.length));
  for (let start = 0; start < records.length; start += rowsPerStatement) {
    const chunk = records.slice(start, start + rowsPerStatement);
    const parameters: unknown[] = [];
    for (const r of chunk) for (const f of fields) parameters.push(toColumnValue(f, r[f.name] ?? null));
    await db.executeQuery(CompiledQuery.raw(insertSql(db, def, chunk.length), parameters));
  }
}

/** Each field list by name, made once (adding a field to an object gives it a new list). */
const fieldsByName = new WeakMap<readonly FieldDef[], Map<string, FieldDef>>();

function fieldNamed(def: ObjectDef, name: string): FieldDef | undefined {
  let byName = fieldsByName.get(def.fields);
  if (!byName) {
    byName = new Map(def.fields.map((f) => [f.name, f]));
    fieldsByName.set(def.fields, byName);
  }
  return byName.get(name);
}

/** An update's text, compiled once per table and set of columns (see insertSql on why). */
function updateSql(db: StoreDb, def: ObjectDef, columns: readonly string[]): string {
  return cachedSql(db, `update:${def.table}:${columns.join(',')}`, () => {
    const assignments = columns.map((name) => sql`${sql.ref(name)} = ${null}`);
    return sql`update ${sql.table(def.table)} set ${sql.join(assignments)} where "Id" = ${null}`;
  });
}

export async function updateRecord(
  db: StoreDb,
  def: ObjectDef,
  id: string,
  changes: RecordValues,
): Promise<void> {
  const columns = Object.keys(changes);
  if (columns.length === 0) return;
  const parameters = columns.map((name) => toColumnValue(fieldNamed(def, name), changes[name] ?? null));
  parameters.push(id);
  await db.executeQuery(CompiledQuery.raw(updateSql(db, def, columns), parameters));
}

export async function markDeleted(
  db: StoreDb,
  def: ObjectDef,
  ids: string[],
  at: string,
  userId: string,
): Promise<void> {
  if (ids.length === 0) return;
  await sql`update ${sql.table(def.table)}
    set "IsDeleted" = 1, ${sql.ref(DELETED_AT_COLUMN)} = ${at}, "SystemModstamp" = ${at},
        "LastModifiedDate" = ${at}, "LastModifiedById" = ${userId}
    where "Id" in (${sql.join(ids)})`.execute(db);
}

export async function purgeRecords(db: StoreDb, def: ObjectDef, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql`delete from ${sql.table(def.table)} where "Id" in (${sql.join(ids)})`.execute(db);
}

/** Removes recycle-bin records deleted before `before`; returns how many went. */
export async function purgeDeletedBefore(db: StoreDb, def: ObjectDef, before: string): Promise<number> {
  const r = await sql`delete from ${sql.table(def.table)}
    where "IsDeleted" = 1 and ${sql.ref(DELETED_AT_COLUMN)} < ${before}`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

export async function markUndeleted(
  db: StoreDb,
  def: ObjectDef,
  id: string,
  at: string,
  userId: string,
): Promise<void> {
  await sql`update ${sql.table(def.table)}
    set "IsDeleted" = 0, ${sql.ref(DELETED_AT_COLUMN)} = null, "SystemModstamp" = ${at},
        "LastModifiedDate" = ${at}, "LastModifiedById" = ${userId}
    where "Id" = ${id}`.execute(db);
}

/** Records by id, deleted ones included (callers decide what a deleted record means). */
export async function selectByIds(db: StoreDb, def: ObjectDef, ids: string[]): Promise<RecordValues[]> {
  if (ids.length === 0) return [];
  const r = await sql<Row>`select * from ${sql.table(def.table)} where "Id" in (${sql.join(ids)})`.execute(
    db,
  );
  return r.rows.map((row) => fromRow(def, row));
}

/** Live records whose `field` equals one of `values` (case-insensitively for text), for unique and duplicate checks. */
export async function selectByFieldValues(
  db: StoreDb,
  dialect: StoreDialect,
  def: ObjectDef,
  f: FieldDef,
  values: string[],
): Promise<Array<{ id: string; value: FieldValue }>> {
  if (values.length === 0) return [];
  const column: RawBuilder<unknown> = sql.ref(f.name);
  const match = isTextType(f.type) ? dialect.ciIn(column, values) : sql`${column} in (${sql.join(values)})`;
  const r = await sql<Row>`select "Id", ${column} from ${sql.table(def.table)}
    where ${match} and "IsDeleted" = 0`.execute(db);
  return r.rows.map((row) => ({ id: String(row.Id), value: fromColumnValue(f, row[f.name]) }));
}

export async function selectExistingIds(db: StoreDb, def: ObjectDef, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const r = await sql<{ Id: string }>`select "Id" from ${sql.table(def.table)}
    where "Id" in (${sql.join(ids)}) and "IsDeleted" = 0`.execute(db);
  return new Set(r.rows.map((row) => row.Id));
}

export async function selectHighestId(db: StoreDb, def: ObjectDef): Promise<string | null> {
  const r = await sql<{ id: string | null }>`select max("Id") as id from ${sql.table(def.table)}`.execute(db);
  return r.rows[0]?.id ?? null;
}

export async function selectUpdatedIds(
  db: StoreDb,
  def: ObjectDef,
  start: string,
  end: string,
  limit: number,
): Promise<string[]> {
  const r = await sql<{ Id: string }>`select "Id" from ${sql.table(def.table)}
    where "SystemModstamp" >= ${start} and "SystemModstamp" < ${end} and "IsDeleted" = 0
    order by "SystemModstamp", "Id" limit ${limit}`.execute(db);
  return r.rows.map((row) => row.Id);
}

export async function selectDeleted(
  db: StoreDb,
  def: ObjectDef,
  start: string,
  end: string,
  limit: number,
): Promise<Array<{ id: string; deletedDate: string }>> {
  const r = await sql<{
    Id: string;
    deleted_at: string;
  }>`select "Id", ${sql.ref(DELETED_AT_COLUMN)} as deleted_at
    from ${sql.table(def.table)}
    where ${sql.ref(DELETED_AT_COLUMN)} >= ${start} and ${sql.ref(DELETED_AT_COLUMN)} < ${end} and "IsDeleted" = 1
    order by ${sql.ref(DELETED_AT_COLUMN)}, "Id" limit ${limit}`.execute(db);
  return r.rows.map((row) => ({ id: row.Id, deletedDate: row.deleted_at }));
}

export async function selectEarliestDeletion(db: StoreDb, def: ObjectDef): Promise<string | null> {
  const r = await sql<{ at: string | null }>`select min(${sql.ref(DELETED_AT_COLUMN)}) as at
    from ${sql.table(def.table)} where "IsDeleted" = 1`.execute(db);
  return r.rows[0]?.at ?? null;
}

export async function selectActiveUserIds(db: StoreDb, userTable: string): Promise<string[]> {
  const r = await sql<{ Id: string }>`select "Id" from ${sql.table(userTable)}
    where "IsActive" = 1 and "IsDeleted" = 0 order by "Id"`.execute(db);
  return r.rows.map((row) => row.Id);
}

/**
 * Stamps records viewed (LastViewedDate and LastReferencedDate) or referenced
 * (LastReferencedDate): what `FOR VIEW` / `FOR REFERENCE` and a record page do. Not a change:
 * SystemModstamp stays, and no change event is published, as on Salesforce.
 */
export async function stampViewed(
  db: StoreDb,
  def: ObjectDef,
  ids: string[],
  at: string,
  how: 'VIEW' | 'REFERENCE',
): Promise<void> {
  const has = (name: string) => def.fields.some((f) => f.name === name);
  if (ids.length === 0 || !has('LastReferencedDate')) return;
  const assignments = [sql`"LastReferencedDate" = ${at}`];
  if (how === 'VIEW' && has('LastViewedDate')) assignments.push(sql`"LastViewedDate" = ${at}`);
  await sql`update ${sql.table(def.table)} set ${sql.join(assignments)}
    where "Id" in (${sql.join(ids)})`.execute(db);
}

/** An object's most recently viewed live records, newest first: their id, name and when. */
export async function selectRecentlyViewed(
  db: StoreDb,
  def: ObjectDef,
  limit: number,
): Promise<Array<{ id: string; name: string | null; viewedAt: string }>> {
  if (!def.fields.some((f) => f.name === 'LastViewedDate')) return [];
  const name = def.fields.some((f) => f.name === 'Name') ? sql.ref('Name') : sql`null`;
  const r = await sql<{ Id: string; name: string | null; viewed: string }>`select "Id", ${name} as name,
      "LastViewedDate" as viewed from ${sql.table(def.table)}
    where "LastViewedDate" is not null and "IsDeleted" = 0
    order by "LastViewedDate" desc, "Id" desc limit ${limit}`.execute(db);
  return r.rows.map((row) => ({ id: row.Id, name: row.name, viewedAt: String(row.viewed) }));
}
