import { sql, type RawBuilder } from 'kysely';
import type { StoreDb } from '../../store/database.js';
import type { ProspectValue } from '../domain/prospect-fields.js';
import type { CollectionDef } from './collection-defs.js';
import { comparison } from '../../store/sql-operators.js';

export interface CollectionRecord {
  id: number;
  isDeleted: boolean;
  values: Record<string, ProspectValue>;
}

type Row = Record<string, unknown>;

function fromRow(def: CollectionDef, row: Row): CollectionRecord {
  const values: Record<string, ProspectValue> = {};
  for (const f of def.fields) {
    const raw = row[f.column];
    if (raw === null || raw === undefined) values[f.name] = null;
    else if (f.type === 'boolean') values[f.name] = Number(raw) === 1 || raw === true;
    else if (f.type === 'integer' || f.type === 'id') values[f.name] = Number(raw);
    else values[f.name] = raw as ProspectValue;
  }
  return { id: Number(row.id), isDeleted: Number(row.is_deleted) === 1, values };
}

function column(def: CollectionDef, name: string): string {
  const f = def.fields.find((x) => x.name === name);
  if (!f) throw new Error(`${def.name} has no field ${name}`);
  return f.column;
}

const toColumn = (v: ProspectValue) => (typeof v === 'boolean' ? (v ? 1 : 0) : v);

export async function insertRecord(
  db: StoreDb,
  def: CollectionDef,
  unitId: string,
  values: Record<string, ProspectValue>,
): Promise<number> {
  const entries = Object.entries(values).filter(([name]) => name !== 'id');
  const columns = ['unit_id', ...entries.map(([name]) => column(def, name)), 'is_deleted'];
  const params = [unitId, ...entries.map(([, v]) => toColumn(v)), 0];
  const r = await sql<{
    id: number | string;
  }>`insert into ${sql.table(def.table)} (${sql.join(columns.map((c) => sql.ref(c)))})
    values (${sql.join(params.map((p) => sql`${p}`))}) returning id`.execute(db);
  return Number(r.rows[0]?.id);
}

export async function updateRecord(
  db: StoreDb,
  def: CollectionDef,
  id: number,
  values: Record<string, ProspectValue>,
): Promise<void> {
  const sets = Object.entries(values).map(([name, v]) => sql`${sql.ref(column(def, name))} = ${toColumn(v)}`);
  if (sets.length === 0) return;
  await sql`update ${sql.table(def.table)} set ${sql.join(sets)} where id = ${id}`.execute(db);
}

export async function setDeleted(db: StoreDb, def: CollectionDef, id: number, at: string): Promise<void> {
  await sql`update ${sql.table(def.table)} set is_deleted = 1, updated_at = ${at} where id = ${id}`.execute(
    db,
  );
}

export async function selectRecord(
  db: StoreDb,
  def: CollectionDef,
  unitId: string,
  id: number,
): Promise<CollectionRecord | undefined> {
  const r =
    await sql<Row>`select * from ${sql.table(def.table)} where id = ${id} and unit_id = ${unitId}`.execute(
      db,
    );
  return r.rows[0] ? fromRow(def, r.rows[0]) : undefined;
}

/** Live records whose `fields` equal `values` (a uniqueness check). */
export async function selectMatching(
  db: StoreDb,
  def: CollectionDef,
  unitId: string,
  match: Record<string, ProspectValue>,
): Promise<CollectionRecord[]> {
  const conditions: RawBuilder<unknown>[] = [sql`unit_id = ${unitId}`, sql`is_deleted = 0`];
  for (const [name, value] of Object.entries(match))
    conditions.push(sql`${sql.ref(column(def, name))} = ${toColumn(value)}`);
  const r =
    await sql<Row>`select * from ${sql.table(def.table)} where ${sql.join(conditions, sql` and `)}`.execute(
      db,
    );
  return r.rows.map((row) => fromRow(def, row));
}

export interface CollectionQuery {
  unitId: string;
  deleted: 'true' | 'false' | 'all';
  where: Array<[string, '>' | '<' | '>=' | '<=' | '=', ProspectValue]>;
  afterId: number;
  descending: boolean;
  limit: number;
  offset?: number;
}

function queryConditions(q: Omit<CollectionQuery, 'descending' | 'limit'>): RawBuilder<unknown>[] {
  const conditions: RawBuilder<unknown>[] = [sql`unit_id = ${q.unitId}`];
  if (q.deleted !== 'all') conditions.push(sql`is_deleted = ${q.deleted === 'true' ? 1 : 0}`);
  for (const [col, op, value] of q.where)
    conditions.push(sql`${sql.ref(col)} ${comparison(op)} ${toColumn(value)}`);
  return conditions;
}

/** How many records match a query's filters (v3/v4 report it as total_results). */
export async function countRecords(
  db: StoreDb,
  def: CollectionDef,
  q: Omit<CollectionQuery, 'descending' | 'limit' | 'afterId'>,
): Promise<number> {
  const r = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(def.table)}
    where ${sql.join(queryConditions({ ...q, afterId: 0 }), sql` and `)}`.execute(db);
  return Number(r.rows[0]?.n ?? 0);
}

/** A page in id order (keyset on id, or offset for v3/v4). */
export async function queryRecords(
  db: StoreDb,
  def: CollectionDef,
  q: CollectionQuery,
): Promise<CollectionRecord[]> {
  const conditions: RawBuilder<unknown>[] = [sql`unit_id = ${q.unitId}`];
  if (q.deleted !== 'all') conditions.push(sql`is_deleted = ${q.deleted === 'true' ? 1 : 0}`);
  for (const [col, op, value] of q.where)
    conditions.push(sql`${sql.ref(col)} ${comparison(op)} ${toColumn(value)}`);
  if (q.afterId > 0) conditions.push(q.descending ? sql`id < ${q.afterId}` : sql`id > ${q.afterId}`);
  const r = await sql<Row>`select * from ${sql.table(def.table)} where ${sql.join(conditions, sql` and `)}
    order by id ${sql.raw(q.descending ? 'desc' : 'asc')} limit ${q.limit} offset ${q.offset ?? 0}`.execute(
    db,
  );
  return r.rows.map((row) => fromRow(def, row));
}
