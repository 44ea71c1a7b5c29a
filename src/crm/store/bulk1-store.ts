import { sql } from 'kysely';
import type { StoreDb } from '../../store/database.js';
import type {
  V1Batch,
  V1BatchState,
  V1ContentType,
  V1Job,
  V1JobCounts,
  V1JobState,
  V1Operation,
  V1RowResult,
} from '../bulk/bulk1-job.js';

interface JobRow {
  id: string;
  object: string;
  operation: string;
  external_id_field: string | null;
  content_type: string;
  concurrency_mode: string;
  state: string;
  api_version: string;
  created_by_id: string;
  call_client: string | null;
  created_date: string;
  system_modstamp: string;
}

interface BatchRow {
  id: string;
  job_id: string;
  state: string;
  state_message: string | null;
  request: string;
  results: string | null;
  records_processed: number;
  records_failed: number;
  processing_ms: number;
  created_date: string;
  system_modstamp: string;
}

function jobFromRow(row: JobRow): V1Job {
  return {
    id: row.id,
    object: row.object,
    operation: row.operation as V1Operation,
    externalIdFieldName: row.external_id_field,
    contentType: row.content_type as V1ContentType,
    concurrencyMode: row.concurrency_mode === 'Serial' ? 'Serial' : 'Parallel',
    state: row.state as V1JobState,
    apiVersion: row.api_version,
    createdById: row.created_by_id,
    callClient: row.call_client,
    createdDate: row.created_date,
    systemModstamp: row.system_modstamp,
  };
}

function batchFromRow(row: BatchRow, withRequest: boolean): V1Batch {
  return {
    id: row.id,
    jobId: row.job_id,
    state: row.state as V1BatchState,
    stateMessage: row.state_message,
    request: withRequest ? row.request : '',
    results: row.results ? (JSON.parse(row.results) as V1RowResult[]) : null,
    recordsProcessed: Number(row.records_processed),
    recordsFailed: Number(row.records_failed),
    processingMs: Number(row.processing_ms),
    createdDate: row.created_date,
    systemModstamp: row.system_modstamp,
  };
}

export async function insertJob(db: StoreDb, job: V1Job): Promise<void> {
  await sql`insert into crm_bulk1_job (id, object, operation, external_id_field, content_type, concurrency_mode,
      state, api_version, created_by_id, call_client, created_date, system_modstamp)
    values (${job.id}, ${job.object}, ${job.operation}, ${job.externalIdFieldName}, ${job.contentType},
      ${job.concurrencyMode}, ${job.state}, ${job.apiVersion}, ${job.createdById}, ${job.callClient},
      ${job.createdDate}, ${job.systemModstamp})`.execute(db);
}

export async function selectJob(db: StoreDb, id: string): Promise<V1Job | undefined> {
  const r = await sql<JobRow>`select * from crm_bulk1_job where id = ${id}`.execute(db);
  return r.rows[0] ? jobFromRow(r.rows[0]) : undefined;
}

export async function highestJobId(db: StoreDb): Promise<string | null> {
  const r = await sql<{ id: string }>`select max(id) as id from crm_bulk1_job`.execute(db);
  return r.rows[0]?.id ?? null;
}

export async function highestBatchId(db: StoreDb): Promise<string | null> {
  const r = await sql<{ id: string }>`select max(id) as id from crm_bulk1_batch`.execute(db);
  return r.rows[0]?.id ?? null;
}

export async function updateJobState(db: StoreDb, id: string, state: V1JobState, at: string): Promise<void> {
  await sql`update crm_bulk1_job set state = ${state}, system_modstamp = ${at} where id = ${id}`.execute(db);
}

export async function insertBatch(db: StoreDb, batch: V1Batch): Promise<void> {
  await sql`insert into crm_bulk1_batch (id, job_id, state, state_message, request, results, records_processed,
      records_failed, processing_ms, created_date, system_modstamp)
    values (${batch.id}, ${batch.jobId}, ${batch.state}, ${batch.stateMessage}, ${batch.request}, null,
      ${batch.recordsProcessed}, ${batch.recordsFailed}, ${batch.processingMs}, ${batch.createdDate},
      ${batch.systemModstamp})`.execute(db);
}

/** A batch; its request text only when asked (it may be megabytes). */
export async function selectBatch(
  db: StoreDb,
  jobId: string,
  id: string,
  withRequest = false,
): Promise<V1Batch | undefined> {
  const r = await sql<BatchRow>`select * from crm_bulk1_batch where id = ${id} and job_id = ${jobId}`.execute(
    db,
  );
  return r.rows[0] ? batchFromRow(r.rows[0], withRequest) : undefined;
}

export async function selectBatches(db: StoreDb, jobId: string): Promise<V1Batch[]> {
  const r = await sql<BatchRow>`select id, job_id, state, state_message, '' as request, null as results,
      records_processed, records_failed, processing_ms, created_date, system_modstamp
    from crm_bulk1_batch where job_id = ${jobId} order by created_date, id`.execute(db);
  return r.rows.map((row) => batchFromRow(row, false));
}

/** The oldest queued batch of a job that is not aborted: the next to process. */
export async function nextQueuedBatch(db: StoreDb): Promise<V1Batch | undefined> {
  const r = await sql<BatchRow>`select b.* from crm_bulk1_batch b join crm_bulk1_job j on j.id = b.job_id
    where b.state in ('Queued', 'InProgress') and j.state in ('Open', 'Closed')
    order by b.created_date, b.id limit 1`.execute(db);
  return r.rows[0] ? batchFromRow(r.rows[0], true) : undefined;
}

export async function updateBatch(
  db: StoreDb,
  id: string,
  changes: {
    state: V1BatchState;
    stateMessage?: string | null;
    results?: V1RowResult[] | null;
    recordsProcessed?: number;
    recordsFailed?: number;
    processingMs?: number;
  },
  at: string,
): Promise<void> {
  await sql`update crm_bulk1_batch set state = ${changes.state},
      state_message = ${changes.stateMessage ?? null},
      results = ${changes.results ? JSON.stringify(changes.results) : null},
      records_processed = ${changes.recordsProcessed ?? 0},
      records_failed = ${changes.recordsFailed ?? 0},
      processing_ms = ${changes.processingMs ?? 0},
      system_modstamp = ${at}
    where id = ${id}`.execute(db);
}

/** An aborted job's batches not yet processed are not processed at all. */
export async function markUnprocessed(db: StoreDb, jobId: string, at: string): Promise<void> {
  await sql`update crm_bulk1_batch set state = 'NotProcessed', state_message = 'Job was aborted', system_modstamp = ${at}
    where job_id = ${jobId} and state = 'Queued'`.execute(db);
}

export async function jobCounts(db: StoreDb, jobId: string): Promise<V1JobCounts> {
  const r = await sql<{ state: string; n: number; processed: number; failed: number; ms: number }>`
    select state, count(*) as n, coalesce(sum(records_processed), 0) as processed,
      coalesce(sum(records_failed), 0) as failed, coalesce(sum(processing_ms), 0) as ms
    from crm_bulk1_batch where job_id = ${jobId} group by state`.execute(db);
  const counts: V1JobCounts = {
    numberBatchesQueued: 0,
    numberBatchesInProgress: 0,
    numberBatchesCompleted: 0,
    numberBatchesFailed: 0,
    numberBatchesTotal: 0,
    numberRecordsProcessed: 0,
    numberRecordsFailed: 0,
    totalProcessingTime: 0,
  };
  for (const row of r.rows) {
    const n = Number(row.n);
    if (row.state === 'Queued') counts.numberBatchesQueued += n;
    if (row.state === 'InProgress') counts.numberBatchesInProgress += n;
    if (row.state === 'Completed') counts.numberBatchesCompleted += n;
    if (row.state === 'Failed') counts.numberBatchesFailed += n;
    counts.numberBatchesTotal += n;
    counts.numberRecordsProcessed += Number(row.processed);
    counts.numberRecordsFailed += Number(row.failed);
    counts.totalProcessingTime += Number(row.ms);
  }
  return counts;
}
