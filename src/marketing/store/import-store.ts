import { sql } from 'kysely';
import type { StoreDb } from '../../store/database.js';

export type ImportStatus = 'Open' | 'Waiting' | 'Processing' | 'Complete';
export type ImportOperation = 'Create' | 'Update' | 'Upsert';

export interface ImportJob {
  id: number;
  unitId: string;
  operation: ImportOperation;
  status: ImportStatus;
  createdBy: string;
  /** Made by the connector: rows keyed by a CRM id get that id on the prospects they create. */
  bySync: boolean;
  createdCount: number;
  updatedCount: number;
  errorCount: number;
  resumeBatch: number;
  resumeRow: number;
  createdAt: string;
  updatedAt: string;
}

type Row = Record<string, unknown>;

function fromRow(row: Row): ImportJob {
  return {
    id: Number(row.id),
    unitId: String(row.unit_id),
    operation: row.operation as ImportOperation,
    status: row.status as ImportStatus,
    createdBy: String(row.created_by),
    bySync: Number(row.by_sync ?? 0) === 1,
    createdCount: Number(row.created_count),
    updatedCount: Number(row.updated_count),
    errorCount: Number(row.error_count),
    resumeBatch: Number(row.resume_batch),
    resumeRow: Number(row.resume_row),
    createdAt: String(row.created_at),
    updatedAt: String(row.updated_at),
  };
}

export async function insertImport(
  db: StoreDb,
  job: Pick<ImportJob, 'unitId' | 'operation' | 'status' | 'createdBy' | 'bySync' | 'createdAt'>,
): Promise<number> {
  const r = await sql<{
    id: number | string;
  }>`insert into marketing_import (unit_id, operation, status, created_by, by_sync,
      created_count, updated_count, error_count, resume_batch, resume_row, created_at, updated_at)
    values (${job.unitId}, ${job.operation}, ${job.status}, ${job.createdBy}, ${job.bySync ? 1 : 0}, 0, 0, 0, 0, 0, ${job.createdAt}, ${job.createdAt})
    returning id`.execute(db);
  return Number(r.rows[0]?.id);
}

export async function selectImport(
  db: StoreDb,
  unitId: string | null,
  id: number,
): Promise<ImportJob | undefined> {
  const r =
    unitId === null
      ? await sql<Row>`select * from marketing_import where id = ${id}`.execute(db)
      : await sql<Row>`select * from marketing_import where id = ${id} and unit_id = ${unitId}`.execute(db);
  return r.rows[0] ? fromRow(r.rows[0]) : undefined;
}

export async function selectImportsWithStatus(db: StoreDb, statuses: ImportStatus[]): Promise<ImportJob[]> {
  const r =
    await sql<Row>`select * from marketing_import where status in (${sql.join(statuses)}) order by id`.execute(
      db,
    );
  return r.rows.map(fromRow);
}

export async function setImportStatus(
  db: StoreDb,
  id: number,
  status: ImportStatus,
  at: string,
): Promise<void> {
  await sql`update marketing_import set status = ${status}, updated_at = ${at} where id = ${id}`.execute(db);
}

/** Counters and the resume point move together, in the transaction that applied the rows. */
export async function recordProgress(
  db: StoreDb,
  id: number,
  progress: { created: number; updated: number; errors: number; batch: number; row: number; at: string },
): Promise<void> {
  await sql`update marketing_import set created_count = created_count + ${progress.created},
      updated_count = updated_count + ${progress.updated}, error_count = error_count + ${progress.errors},
      resume_batch = ${progress.batch}, resume_row = ${progress.row}, updated_at = ${progress.at}
    where id = ${id}`.execute(db);
}

export async function insertBatch(db: StoreDb, importId: number, data: string): Promise<number> {
  const r = await sql<{ seq: number | string | null }>`select max(seq) as seq from marketing_import_batch
    where import_id = ${importId}`.execute(db);
  const seq = Number(r.rows[0]?.seq ?? -1) + 1;
  await sql`insert into marketing_import_batch (import_id, seq, data) values (${importId}, ${seq}, ${data})`.execute(
    db,
  );
  return seq;
}

export async function selectBatchSeqs(db: StoreDb, importId: number): Promise<number[]> {
  const r = await sql<{ seq: number | string }>`select seq from marketing_import_batch
    where import_id = ${importId} order by seq`.execute(db);
  return r.rows.map((row) => Number(row.seq));
}

export async function selectBatch(db: StoreDb, importId: number, seq: number): Promise<string> {
  const r = await sql<{ data: string }>`select data from marketing_import_batch
    where import_id = ${importId} and seq = ${seq}`.execute(db);
  return r.rows[0]?.data ?? '';
}

export async function insertErrors(db: StoreDb, importId: number, lines: string[]): Promise<void> {
  for (let i = 0; i < lines.length; i += 500) {
    const rows = lines.slice(i, i + 500).map((line) => sql`(${importId}, ${line})`);
    await sql`insert into marketing_import_error (import_id, csv) values ${sql.join(rows)}`.execute(db);
  }
}

export async function selectErrors(db: StoreDb, importId: number): Promise<string[]> {
  const r = await sql<{
    csv: string;
  }>`select csv from marketing_import_error where import_id = ${importId} order by id`.execute(db);
  return r.rows.map((row) => row.csv);
}

/** Uploaded files are not kept once applied. */
export async function deleteBatches(db: StoreDb, importId: number): Promise<void> {
  await sql`delete from marketing_import_batch where import_id = ${importId}`.execute(db);
}
