import { isHandoffError } from '../../errors/handoff-error.js';
import type { Database } from '../../store/database.js';
import { JobRunner } from '../../store/job-runner.js';
import type { UnitOfWork } from '../../store/unit-of-work.js';
import type { CallContext } from '../domain/call-context.js';
import { IdAllocator } from '../domain/record-id.js';
import type { ObjectDef } from '../domain/schema/field-def.js';
import type { SchemaRegistry } from '../domain/schema/schema-registry.js';
import type { QueryService } from '../query-service.js';
import type { RecordService } from '../record-service.js';
import * as store from '../store/bulk1-store.js';
import { applyBulkOperation, checkExternalIdField, columnFields } from './bulk-operation.js';
import {
  AsyncApiError,
  createJobSchema,
  isQuery,
  jobStateSchema,
  type V1Batch,
  type V1ContentType,
  type V1Job,
  type V1JobCounts,
  type V1RowResult,
} from './bulk1-job.js';
import { QueryResultWriter, readBatchRecords } from './bulk1-formats.js';

const BATCH_PREFIX = '751';
const RESULT_PREFIX = '752';
/** Records a batch may hold, as on Salesforce. */
const MAX_BATCH_RECORDS = 10_000;
/** Rows applied per transaction. */
const CHUNK_ROWS = 2_000;
/** Rows a query result is read from the store at a time, so memory stays flat. */
const RESULT_PAGE_ROWS = 10_000;

interface Deps {
  database: Database;
  unitOfWork: UnitOfWork;
  records: RecordService;
  schema: SchemaRegistry;
  queries: QueryService;
  /** Job ids, from the same sequence as Bulk API 2.0's. */
  allocateJobId: () => string;
  seedJobId: (highest: string | null) => void;
  now: () => Date;
  onError?: (error: unknown) => void;
}

/**
 * Bulk API 1.0: jobs take batches of CSV, JSON or XML records (or a query's SOQL), processed in
 * the background in the order they came, through the same operations as Bulk API 2.0 and REST
 * (bulk-operation.ts). A batch's results are a row per record, in order.
 */
export class Bulk1Service {
  private readonly ids = new IdAllocator();
  private readonly runner: JobRunner<V1Batch>;

  constructor(private readonly deps: Deps) {
    this.runner = new JobRunner(
      () => store.nextQueuedBatch(this.db),
      (batch) => this.process(batch),
      deps.onError,
    );
  }

  private get db() {
    return this.deps.database.db;
  }

  private now(): string {
    return this.deps.now().toISOString();
  }

  /** Seeds ids and resumes batches a previous process left queued or in progress. */
  async start(): Promise<void> {
    this.deps.seedJobId(await store.highestJobId(this.db));
    this.ids.seed(BATCH_PREFIX, await store.highestBatchId(this.db));
    this.runner.kick();
  }

  idle(): Promise<void> {
    return this.runner.idle();
  }

  close(): Promise<void> {
    return this.runner.close();
  }

  async createJob(ctx: CallContext, apiVersion: string, info: Record<string, unknown>): Promise<V1Job> {
    const parsed = createJobSchema.safeParse(info);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = String(issue?.path[0] ?? '');
      if (field === 'operation')
        throw new AsyncApiError('InvalidJob', `Invalid operation: ${String(info.operation ?? '')}`);
      throw new AsyncApiError('InvalidJob', `Invalid ${field || 'job'}: ${issue?.message ?? ''}`);
    }
    const request = parsed.data;
    const def = this.objectDef(request.object);
    if (request.operation === 'upsert') {
      if (!request.externalIdFieldName)
        throw new AsyncApiError('InvalidJob', 'External ID field is required for upsert');
      try {
        checkExternalIdField(this.deps.schema, def, request.externalIdFieldName);
      } catch {
        throw new AsyncApiError('InvalidJob', `External ID field not found: ${request.externalIdFieldName}`);
      }
    }
    const at = this.now();
    const job: V1Job = {
      id: this.deps.allocateJobId(),
      object: def.name,
      operation: request.operation,
      externalIdFieldName: request.operation === 'upsert' ? (request.externalIdFieldName ?? null) : null,
      contentType: request.contentType,
      concurrencyMode: request.concurrencyMode,
      state: 'Open',
      apiVersion,
      createdById: ctx.userId,
      callClient: ctx.origin?.client ?? null,
      createdDate: at,
      systemModstamp: at,
    };
    await store.insertJob(this.db, job);
    return job;
  }

  private objectDef(name: string): ObjectDef {
    const def = this.deps.schema.object(name);
    if (!def) throw new AsyncApiError('InvalidEntity', `Entity '${name}' is not supported by the Bulk API.`);
    return def;
  }

  async job(id: string): Promise<V1Job> {
    const job = await store.selectJob(this.db, id);
    if (!job) throw new AsyncApiError('InvalidJob', `Invalid job id: ${id}`);
    return job;
  }

  counts(id: string): Promise<V1JobCounts> {
    return store.jobCounts(this.db, id);
  }

  /** Closes a job (no more batches) or aborts it (batches not yet processed never are). */
  async changeState(id: string, info: Record<string, unknown>): Promise<V1Job> {
    const parsed = jobStateSchema.safeParse(info);
    if (!parsed.success) throw new AsyncApiError('InvalidJob', `Invalid state: ${String(info.state ?? '')}`);
    const job = await this.job(id);
    const to = parsed.data.state;
    const allowed = to === 'Closed' ? job.state === 'Open' : job.state === 'Open' || job.state === 'Closed';
    if (!allowed) throw new AsyncApiError('InvalidJobState', `Job is ${job.state}; it cannot become ${to}`);
    const at = this.now();
    await store.updateJobState(this.db, id, to, at);
    if (to === 'Aborted') await store.markUnprocessed(this.db, id, at);
    return this.job(id);
  }

  /** Takes a batch while its job is open; it is processed in the background, in order. */
  async addBatch(jobId: string, request: string, contentType: V1ContentType | null): Promise<V1Batch> {
    const job = await this.job(jobId);
    if (job.state !== 'Open')
      throw new AsyncApiError('InvalidJobState', `Job is ${job.state}; it takes no batches`);
    // An empty batch is refused as Salesforce refuses it (jsforce's load of [] expects this).
    if (request.trim() === '')
      throw new AsyncApiError('ClientInputError', 'Failed to read request: the batch is empty');
    if (contentType && !isQuery(job.operation) && contentType !== job.contentType)
      throw new AsyncApiError(
        'InvalidBatch',
        `The batch's content type (${contentType}) is not the job's (${job.contentType})`,
      );
    const at = this.now();
    const batch: V1Batch = {
      id: this.ids.allocate(BATCH_PREFIX),
      jobId,
      state: 'Queued',
      stateMessage: null,
      request,
      results: null,
      recordsProcessed: 0,
      recordsFailed: 0,
      processingMs: 0,
      createdDate: at,
      systemModstamp: at,
    };
    await store.insertBatch(this.db, batch);
    this.runner.kick();
    return batch;
  }

  async batch(jobId: string, batchId: string, withRequest = false): Promise<V1Batch> {
    await this.job(jobId);
    const batch = await store.selectBatch(this.db, jobId, batchId, withRequest);
    if (!batch) throw new AsyncApiError('InvalidBatch', `Invalid batch id: ${batchId}`);
    return batch;
  }

  async batches(jobId: string): Promise<V1Batch[]> {
    await this.job(jobId);
    return store.selectBatches(this.db, jobId);
  }

  /** A completed batch's results: per row (ingest), or its result ids (query). */
  async results(
    jobId: string,
    batchId: string,
  ): Promise<{ job: V1Job; rows: V1RowResult[] } | { job: V1Job; resultIds: string[] }> {
    const job = await this.job(jobId);
    const batch = await this.batch(jobId, batchId);
    if (batch.state !== 'Completed' && !(batch.state === 'Failed' && batch.results))
      throw new AsyncApiError('InvalidBatch', `Batch not completed: its state is ${batch.state}`);
    if (isQuery(job.operation)) return { job, resultIds: [resultIdOf(batch.id)] };
    return { job, rows: batch.results ?? [] };
  }

  /** A query batch's result file, written page by page as it is read. */
  async *queryResult(jobId: string, batchId: string, resultId: string): AsyncGenerator<string> {
    const job = await this.job(jobId);
    const batch = await this.batch(jobId, batchId, true);
    if (!isQuery(job.operation) || batch.state !== 'Completed' || resultId !== resultIdOf(batch.id))
      throw new AsyncApiError('InvalidBatch', `Invalid result id: ${resultId}`);
    const plan = this.deps.queries.planForBulk(batch.request.trim(), job.operation === 'queryAll');
    // The query's own LIMIT bounds the file; pages are read up to what is left of it.
    let left = plan.limit ?? Number.POSITIVE_INFINITY;
    let page = await this.deps.queries.flatPage(plan, null, Math.min(RESULT_PAGE_ROWS, left));
    const writer = new QueryResultWriter(job.contentType, plan.object.name, page.columns);
    yield writer.open();
    for (;;) {
      yield writer.rows(page.rows);
      left -= page.rows.length;
      if (!page.next || left <= 0) break;
      page = await this.deps.queries.flatPage(plan, page.next, Math.min(RESULT_PAGE_ROWS, left));
    }
    yield writer.close();
  }

  private async process(queued: V1Batch): Promise<void> {
    const started = Date.now();
    const job = await this.job(queued.jobId);
    await store.updateBatch(this.db, queued.id, { state: 'InProgress' }, this.now());
    try {
      if (isQuery(job.operation)) {
        const plan = this.deps.queries.planForBulk(queued.request.trim(), job.operation === 'queryAll');
        const rows = await this.deps.queries.countRows(plan);
        await store.updateBatch(
          this.db,
          queued.id,
          { state: 'Completed', recordsProcessed: rows, processingMs: Date.now() - started },
          this.now(),
        );
        return;
      }
      const results = await this.ingest(job, queued);
      const failed = results.filter((r) => !r.success).length;
      await store.updateBatch(
        this.db,
        queued.id,
        {
          state: 'Completed',
          results,
          recordsProcessed: results.length,
          recordsFailed: failed,
          processingMs: Date.now() - started,
        },
        this.now(),
      );
    } catch (error) {
      if (!(error instanceof AsyncApiError) && !isHandoffError(error)) this.deps.onError?.(error);
      const message =
        error instanceof AsyncApiError
          ? `${error.code} : ${error.message}`
          : isHandoffError(error)
            ? `InvalidBatch : ${error.message}`
            : 'InternalServerError : the batch could not be processed';
      await store.updateBatch(
        this.db,
        queued.id,
        { state: 'Failed', stateMessage: message, processingMs: Date.now() - started },
        this.now(),
      );
    }
  }

  /** An ingest batch: its records by the job's operation, 2,000 a transaction. */
  private async ingest(job: V1Job, batch: V1Batch): Promise<V1RowResult[]> {
    const records = readBatchRecords(batch.request, job.contentType);
    if (records.length > MAX_BATCH_RECORDS)
      throw new AsyncApiError('InvalidBatch', `Records in batch exceeded the ${MAX_BATCH_RECORDS} allowed`);
    const def = this.objectDef(job.object);
    // Every column any record names must be a field; the column names become the fields' own.
    const columns = [...new Set(records.flatMap((r) => Object.keys(r)))];
    const fields = columnFields(this.deps.schema, def, columns);
    const nameOf = new Map(columns.map((c, i) => [c, fields[i]!.name]));
    const inputs = records.map((r) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [nameOf.get(k)!, v])),
    );
    const ctx: CallContext = {
      userId: job.createdById,
      autoAssign: false,
      origin: { api: 'bulkapi', version: job.apiVersion, client: job.callClient ?? undefined },
    };
    const results: V1RowResult[] = [];
    for (let i = 0; i < inputs.length; i += CHUNK_ROWS) {
      const chunk = inputs.slice(i, i + CHUNK_ROWS);
      const saved = await this.deps.unitOfWork.run(() =>
        applyBulkOperation(this.deps.records, this.deps.schema, job, def, ctx, chunk),
      );
      for (const r of saved) {
        results.push({
          id: r.id,
          success: r.success,
          // Inserts always create; upserts say which rows they created; other operations never do.
          created: r.success && (job.operation === 'insert' || r.created === true),
          errors: r.errors.map((e) => ({ statusCode: e.code, message: e.message, fields: e.fields })),
        });
      }
    }
    return results;
  }
}

/** A query batch's one result file is named after the batch. */
function resultIdOf(batchId: string): string {
  return `${RESULT_PREFIX}${batchId.slice(RESULT_PREFIX.length)}`;
}
