import { sql } from 'kysely';
import type { StoreDb } from '../../store/database.js';

export type ExportStatus = 'Waiting' | 'Processing' | 'Complete';

export interface ExportRequest {
  fields: string[];
  procedure: 'filter_by_created_at' | 'filter_by_updated_at';
  after: string | null;
  before: string | null;
  deleted: 'true' | 'false' | 'all';
  /** The unit's time zone when the export was asked for: its CSV datetimes are written in it. */
  timeZone?: string;
}

export interface ExportJob {
  id: number;
  unitId: string;
  request: ExportRequest;
  status: ExportStatus;
  rowCount: number;
  resultCount: number;
  createdAt: string;
  updatedAt: string;
}

type Row = Record<string, unknown>;

function fromRow(row: Row): ExportJob {
  return {
    id: Number(row.id),
    unitId: String(row.unit_id),
    request: JSON.parse(String(row.request)) as ExportRequest,
    status: row.status as ExportStatus,
    rowCount: Number(row.row_count),
    resultCount: Number(row.result_count),
    createdAt: String(row.created_at),
    updatedAt: String(row.updated_at),
  };
}

export async function insertExport(
  db: StoreDb,
  unitId: string,
  request: ExportRequest,
  at: string,
): Promise<number> {
  const r = await sql<{
    id: number | string;
  }>`insert into marketing_export (unit_id, request, status, row_count, result_count, created_at, updated_at)
    values (${unitId}, ${JSON.stringify(request)}, 'Waiting', 0, 0, ${at}, ${at}) returning id`.execute(db);
  return Number(r.rows[0]?.id);
}

export async function selectExport(db: StoreDb, unitId: string, id: number): Promise<ExportJob | undefined> {
  const r = await sql<Row>`select * from marketing_export where id = ${id} and unit_id = ${unitId}`.execute(
    db,
  );
  return r.rows[0] ? fromRow(r.rows[0]) : undefined;
}

export async function selectExportsWithStatus(db: StoreDb, statuses: ExportStatus[]): Promise<ExportJob[]> {
  const r =
    await sql<Row>`select * from marketing_export where status in (${sql.join(statuses)}) order by id`.execute(
      db,
    );
  return r.rows.map(fromRow);
}

export async function setExportStatus(
  db: StoreDb,
  id: number,
  status: ExportStatus,
  at: string,
): Promise<void> {
  await sql`update marketing_export set status = ${status}, updated_at = ${at} where id = ${id}`.execute(db);
}

/** A result file and the counters, together: a restart starts the export over from its last file. */
export async function appendResult(
  db: StoreDb,
  id: number,
  seq: number,
  csv: string,
  rows: number,
  at: string,
): Promise<void> {
  await sql`insert into marketing_export_result (export_id, seq, csv) values (${id}, ${seq}, ${csv})`.execute(
    db,
  );
  await sql`update marketing_export set row_count = row_count + ${rows}, result_count = ${seq + 1}, updated_at = ${at}
    where id = ${id}`.execute(db);
}

export async function clearResults(db: StoreDb, id: number): Promise<void> {
  await sql`delete from marketing_export_result where export_id = ${id}`.execute(db);
  await sql`update marketing_export set row_count = 0, result_count = 0 where id = ${id}`.execute(db);
}

export async function selectResult(db: StoreDb, id: number, seq: number): Promise<string | undefined> {
  const r = await sql<{
    csv: string;
  }>`select csv from marketing_export_result where export_id = ${id} and seq = ${seq}`.execute(db);
  return r.rows[0]?.csv;
}
