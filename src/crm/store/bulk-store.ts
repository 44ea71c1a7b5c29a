import { sql } from 'kysely';
import type { StoreDb } from '../../store/database.js';
import type { BulkJob, ColumnDelimiter, JobState, LineEnding } from '../bulk/bulk-job.js';

interface JobRow {
  id: string;
  job_type: string;
  object: string;
  operation: string;
  external_id_field: string | null;
  query: string | null;
  state: string;
  column_delimiter: string;
  line_ending: string;
  api_version: string;
  created_by_id: string;
  call_client: string | null;
  created_date: string;
  system_modstamp: string;
  records_processed: number;
  records_failed: number;
  processing_ms: number;
  error_message: string | null;
  columns: string | null;
  resume_upload: number;
  resume_row: number;
}

function fromRow(row: JobRow): BulkJob {
  return {
    id: row.id,
    jobType: row.job_type as BulkJob['jobType'],
    object: row.object,
    operation: row.operation,
    externalIdFieldName: row.external_id_field,
    query: row.query,
    state: row.state as JobState,
    columnDelimiter: row.column_delimiter as ColumnDelimiter,
    lineEnding: row.line_ending as LineEnding,
    apiVersion: row.api_version,
    createdById: row.created_by_id,
    callClient: row.call_client,
    createdDate: row.created_date,
    systemModstamp: row.system_modstamp,
    recordsProcessed: Number(row.records_processed),
    recordsFailed: Number(row.records_failed),
    processingMs: Number(row.processing_ms),
    errorMessage: row.error_message,
    columns: row.columns ? (JSON.parse(row.columns) as string[]) : null,
    resumeUpload: Number(row.resume_upload),
    resumeRow: Number(row.resume_row),
  };
}

export async function insertJob(db: StoreDb, job: BulkJob): Promise<void> {
  await sql`insert into crm_bulk_job (id, job_type, object, operation, external_id_field, query, state,
      column_delimiter, line_ending, api_version, created_by_id, call_client, created_date, system_modstamp,
      records_processed, records_failed, processing_ms, error_message, columns, resume_upload, resume_row)
    values (${job.id}, ${job.jobType}, ${job.object}, ${job.operation}, ${job.externalIdFieldName}, ${job.query},
      ${job.state}, ${job.columnDelimiter}, ${job.lineEnding}, ${job.apiVersion}, ${job.createdById}, ${job.callClient},
      ${job.createdDate}, ${job.systemModstamp}, ${job.recordsProcessed}, ${job.recordsFailed},
      ${job.processingMs}, ${job.errorMessage}, ${job.columns ? JSON.stringify(job.columns) : null},
      ${job.resumeUpload}, ${job.resumeRow})`.execute(db);
}

export async function selectJob(db: StoreDb, id: string): Promise<BulkJob | undefined> {
  const r = await sql<JobRow>`select * from crm_bulk_job where id = ${id}`.execute(db);
  return r.rows[0] ? fromRow(r.rows[0]) : undefined;
}

export async function selectJobs(db: StoreDb, jobType: string, limit: number): Promise<BulkJob[]> {
  const r = await sql<JobRow>`select * from crm_bulk_job where job_type = ${jobType}
    order by created_date desc, id desc limit ${limit}`.execute(db);
  return r.rows.map(fromRow);
}

export async function selectJobIdsInState(db: StoreDb, states: JobState[]): Promise<string[]> {
  const r = await sql<{ id: string }>`select id from crm_bulk_job where state in (${sql.join(states)})
    order by created_date, id`.execute(db);
  return r.rows.map((row) => row.id);
}

export async function updateJob(
  db: StoreDb,
  id: string,
  changes: Partial<
    Pick<
      BulkJob,
      | 'state'
      | 'recordsProcessed'
      | 'recordsFailed'
      | 'processingMs'
      | 'errorMessage'
      | 'columns'
      | 'resumeUpload'
      | 'resumeRow'
    >
  > & { systemModstamp: string },
): Promise<void> {
  const columns: Record<string, unknown> = {
    state: changes.state,
    records_processed: changes.recordsProcessed,
    records_failed: changes.recordsFailed,
    processing_ms: changes.processingMs,
    error_message: changes.errorMessage,
    columns: changes.columns === undefined ? undefined : JSON.stringify(changes.columns),
    resume_upload: changes.resumeUpload,
    resume_row: changes.resumeRow,
    system_modstamp: changes.systemModstamp,
  };
  const sets = Object.entries(columns)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => sql`${sql.ref(k)} = ${v}`);
  await sql`update crm_bulk_job set ${sql.join(sets)} where id = ${id}`.execute(db);
}

export async function deleteJob(db: StoreDb, id: string): Promise<void> {
  await sql`delete from crm_bulk_result where job_id = ${id}`.execute(db);
  await sql`delete from crm_bulk_upload where job_id = ${id}`.execute(db);
  await sql`delete from crm_bulk_job where id = ${id}`.execute(db);
}

export async function insertUpload(db: StoreDb, jobId: string, data: string): Promise<void> {
  await sql`insert into crm_bulk_upload (job_id, seq, data)
    select ${jobId}, coalesce(max(seq), -1) + 1, ${data} from crm_bulk_upload where job_id = ${jobId}`.execute(
    db,
  );
}

export async function selectUploadSeqs(db: StoreDb, jobId: string): Promise<number[]> {
  const r = await sql<{
    seq: number;
  }>`select seq from crm_bulk_upload where job_id = ${jobId} order by seq`.execute(db);
  return r.rows.map((row) => Number(row.seq));
}

export async function selectUpload(db: StoreDb, jobId: string, seq: number): Promise<string> {
  const r = await sql<{
    data: string;
  }>`select data from crm_bulk_upload where job_id = ${jobId} and seq = ${seq}`.execute(db);
  return r.rows[0]?.data ?? '';
}

export async function deleteUploads(db: StoreDb, jobId: string): Promise<void> {
  await sql`delete from crm_bulk_upload where job_id = ${jobId}`.execute(db);
}

export type ResultKind = 'success' | 'failure' | 'unprocessed';

export async function insertResult(db: StoreDb, jobId: string, kind: ResultKind, csv: string): Promise<void> {
  if (csv === '') return;
  await sql`insert into crm_bulk_result (job_id, kind, seq, csv)
    select ${jobId}, ${kind}, coalesce(max(seq), -1) + 1, ${csv} from crm_bulk_result
    where job_id = ${jobId} and kind = ${kind}`.execute(db);
}

/** Result chunks one at a time, so a large result never sits in memory whole. */
export async function* resultChunks(db: StoreDb, jobId: string, kind: ResultKind): AsyncGenerator<string> {
  let after = -1;
  for (;;) {
    const r = await sql<{ seq: number; csv: string }>`select seq, csv from crm_bulk_result
      where job_id = ${jobId} and kind = ${kind} and seq > ${after} order by seq limit 1`.execute(db);
    const row = r.rows[0];
    if (!row) return;
    after = Number(row.seq);
    yield row.csv;
  }
}

/** Bulk jobs not yet finished, by job type and state: the job runners' backlog. */
export async function countUnfinishedJobs(
  db: StoreDb,
): Promise<Array<{ jobType: string; state: string; count: number }>> {
  const r = await sql<{ job_type: string; state: string; n: number | string }>`select job_type, state,
    count(*) as n from crm_bulk_job where state in ('Open', 'UploadComplete', 'InProgress')
    group by job_type, state`.execute(db);
  return r.rows.map((row) => ({ jobType: row.job_type, state: row.state, count: Number(row.n) }));
}
