import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify/sync';
import { HandoffError, isHandoffError } from '../../errors/handoff-error.js';
import type { Database } from '../../store/database.js';
import { JobRunner } from '../../store/job-runner.js';
import type { UnitOfWork } from '../../store/unit-of-work.js';
import type { CallContext } from '../domain/call-context.js';
import { IdAllocator } from '../domain/record-id.js';
import type { FieldDef, ObjectDef } from '../domain/schema/field-def.js';
import type { SchemaRegistry } from '../domain/schema/schema-registry.js';
import type { RecordService } from '../record-service.js';
import * as store from '../store/bulk-store.js';
import { applyBulkOperation, checkExternalIdField, columnFields, csvInput } from './bulk-operation.js';
import {
  bulkErrorText,
  checkTransition,
  COLUMN_DELIMITERS,
  createIngestJobSchema,
  invalidJobRequest,
  jobOfType,
  LINE_ENDINGS,
  newBulkJob,
  type BulkJob,
  type JobState,
} from './bulk-job.js';

const JOB_PREFIX = '750';
/** Rows applied per transaction: large enough to be fast, small enough to keep memory flat. */
const CHUNK_ROWS = 2000;

/**
 * An upload in 64 KiB pieces: handed over whole, the parser would turn every row of a 100 MB
 * upload into arrays at once; in pieces, it keeps pace with the chunks being applied.
 */
function* slices(data: string, size = 64 * 1024): Generator<string> {
  for (let i = 0; i < data.length; i += size) yield data.slice(i, i + size);
}

export type ResultKind = 'successfulResults' | 'failedResults' | 'unprocessedrecords';

interface Deps {
  database: Database;
  unitOfWork: UnitOfWork;
  records: RecordService;
  schema: SchemaRegistry;
  now: () => Date;
  onError?: (error: unknown) => void;
}

/**
 * Bulk API 2.0 ingest jobs: CSV uploaded in batches, applied in the background with the same
 * rules as REST, with per-row successful, failed and unprocessed results.
 */
export class BulkIngestService {
  private readonly ids = new IdAllocator();
  private readonly runner: JobRunner<BulkJob>;

  constructor(private readonly deps: Deps) {
    // One ingest job at a time, oldest first; a restart resumes from the store.
    this.runner = new JobRunner(
      async () => {
        const [next] = await store.selectJobIdsInState(this.db, ['UploadComplete', 'InProgress']);
        const job = next ? await store.selectJob(this.db, next) : undefined;
        return job?.jobType === 'V2Ingest' ? job : undefined;
      },
      (job) => this.process(job),
      deps.onError,
    );
  }

  private get db() {
    return this.deps.database.db;
  }

  private now(): string {
    return this.deps.now().toISOString();
  }

  /** Seeds job ids and resumes jobs a previous process left queued or in progress. */
  async start(): Promise<void> {
    const jobs = await store.selectJobs(this.db, 'V2Ingest', 1);
    const query = await store.selectJobs(this.db, 'V2Query', 1);
    const highest =
      [jobs[0]?.id, query[0]?.id]
        .filter((id): id is string => !!id)
        .sort()
        .pop() ?? null;
    this.ids.seed(JOB_PREFIX, highest);
    this.runner.kick();
  }

  allocateJobId(): string {
    return this.ids.allocate(JOB_PREFIX);
  }

  /** Job ids continue past this one (Bulk API 1.0 jobs take theirs from the same sequence). */
  seedJobId(highest: string | null): void {
    this.ids.seed(JOB_PREFIX, highest);
  }

  async create(ctx: CallContext, apiVersion: string, body: unknown): Promise<BulkJob> {
    const parsed = createIngestJobSchema.safeParse(body);
    if (!parsed.success) throw invalidJobRequest(parsed.error);
    const request = parsed.data;
    const def = this.deps.records.objectDefForType(request.object);
    if (request.operation === 'upsert')
      checkExternalIdField(this.deps.schema, def, request.externalIdFieldName ?? null);
    const job = newBulkJob(
      {
        id: this.allocateJobId(),
        jobType: 'V2Ingest',
        object: def.name,
        operation: request.operation,
        externalIdFieldName: request.externalIdFieldName ?? null,
        query: null,
        state: 'Open',
        columnDelimiter: request.columnDelimiter,
        lineEnding: request.lineEnding,
        apiVersion,
        createdById: ctx.userId,
        callClient: ctx.origin?.client ?? null,
      },
      this.now(),
    );
    await store.insertJob(this.db, job);
    return job;
  }

  async get(id: string): Promise<BulkJob> {
    return jobOfType(await store.selectJob(this.db, id), 'V2Ingest');
  }

  list(): Promise<BulkJob[]> {
    return store.selectJobs(this.db, 'V2Ingest', 1000);
  }

  async upload(id: string, csv: string): Promise<void> {
    const job = await this.get(id);
    if (job.state !== 'Open')
      throw new HandoffError(
        'INVALIDJOBSTATE',
        `Job's state is ${job.state}; data can only be uploaded while it is Open`,
      );
    // An empty upload is taken, as Salesforce takes it: the job then completes with 0 records.
    await store.insertUpload(this.db, id, csv);
  }

  async setState(id: string, body: unknown): Promise<BulkJob> {
    const state = (body as { state?: unknown } | undefined)?.state;
    if (state !== 'UploadComplete' && state !== 'Aborted') {
      throw new HandoffError('INVALID_INPUT', 'state must be UploadComplete or Aborted');
    }
    const job = await this.get(id);
    checkTransition(job.state, state);
    if (state === 'UploadComplete' && (await store.selectUploadSeqs(this.db, id)).length === 0) {
      throw new HandoffError('INVALIDJOBSTATE', 'No data was uploaded for this job');
    }
    await this.transition(id, job.state, state);
    if (state === 'UploadComplete') this.runner.kick();
    return this.get(id);
  }

  async delete(id: string): Promise<void> {
    const job = await this.get(id);
    if (job.state === 'Open' || job.state === 'InProgress') {
      throw new HandoffError(
        'INVALIDJOBSTATE',
        `Job's state is ${job.state}; only a closed, finished or aborted job can be deleted`,
      );
    }
    await store.deleteJob(this.db, id);
  }

  private async transition(
    id: string,
    from: JobState,
    to: JobState,
    extra: { errorMessage?: string } = {},
  ): Promise<void> {
    checkTransition(from, to);
    await store.updateJob(this.db, id, { state: to, systemModstamp: this.now(), ...extra });
  }

  /** A result file as CSV: the header, then the rows chunk by chunk. */
  async *results(id: string, kind: ResultKind): AsyncGenerator<string> {
    const job = await this.get(id);
    const delimiter = COLUMN_DELIMITERS[job.columnDelimiter];
    const eol = LINE_ENDINGS[job.lineEnding];
    const columns = job.columns ?? [];
    const prefix =
      kind === 'successfulResults'
        ? ['sf__Id', 'sf__Created']
        : kind === 'failedResults'
          ? ['sf__Id', 'sf__Error']
          : [];
    yield stringify([[...prefix, ...columns]], { delimiter, record_delimiter: eol, quoted: true });
    const stored =
      kind === 'successfulResults' ? 'success' : kind === 'failedResults' ? 'failure' : 'unprocessed';
    yield* store.resultChunks(this.db, id, stored);
  }

  /** Resolves when no job is being processed (tests and shutdown wait on it). */
  idle(): Promise<void> {
    return this.runner.idle();
  }

  close(): Promise<void> {
    return this.runner.close();
  }

  private async process(job: BulkJob): Promise<void> {
    const started = Date.now();
    if (job.state === 'UploadComplete') await this.transition(job.id, 'UploadComplete', 'InProgress');
    try {
      const def = this.deps.records.objectDefForType(job.object);
      const ctx: CallContext = {
        userId: job.createdById,
        autoAssign: false,
        origin: { api: 'bulkapi', version: job.apiVersion, client: job.callClient ?? undefined },
      };
      const seqs = await store.selectUploadSeqs(this.db, job.id);
      let current = (await store.selectJob(this.db, job.id)) as BulkJob;
      for (const seq of seqs.filter((s) => s >= current.resumeUpload)) {
        current = await this.processUpload(current, def, ctx, seq);
        if (this.runner.stopping) return;
        const latest = await store.selectJob(this.db, job.id);
        if (!latest || latest.state === 'Aborted') return;
      }
      await store.deleteUploads(this.db, job.id);
      await store.updateJob(this.db, job.id, {
        state: 'JobComplete',
        processingMs: current.processingMs + (Date.now() - started),
        systemModstamp: this.now(),
      });
    } catch (error) {
      if (!isHandoffError(error)) this.deps.onError?.(error);
      const message = isHandoffError(error) ? error.message : 'The job could not be processed';
      await store.updateJob(this.db, job.id, {
        state: 'Failed',
        errorMessage: message,
        systemModstamp: this.now(),
      });
    }
  }

  private async processUpload(job: BulkJob, def: ObjectDef, ctx: CallContext, seq: number): Promise<BulkJob> {
    const data = await store.selectUpload(this.db, job.id, seq);
    const parser = Readable.from(slices(data)).pipe(
      parse({
        delimiter: COLUMN_DELIMITERS[job.columnDelimiter],
        record_delimiter: LINE_ENDINGS[job.lineEnding],
        bom: true,
        skip_empty_lines: true,
      }),
    );
    let fields: FieldDef[] | null = null;
    let row = 0;
    let chunk: string[][] = [];
    let state = job;
    for await (const record of parser as AsyncIterable<string[]>) {
      if (!fields) {
        fields = columnFields(this.deps.schema, def, record);
        const header = fields.map((f) => f.name);
        if (state.columns && state.columns.join() !== header.join()) {
          throw new HandoffError('INVALID_INPUT', 'Every upload of a job must have the same columns');
        }
        state = { ...state, columns: header };
        continue;
      }
      row++;
      if (seq === state.resumeUpload && row <= state.resumeRow) continue;
      chunk.push(record);
      if (chunk.length >= CHUNK_ROWS) {
        state = await this.applyChunk(state, def, fields, ctx, chunk, seq, row);
        chunk = [];
        // The store answers at once (better-sqlite3 is synchronous) and the parser's stream
        // never waits for I/O: without a turn of the event loop here, a million-row job held
        // every other request of the server for its whole run (72 s), its status polls too.
        await nextTurn();
      }
    }
    if (fields && chunk.length > 0) state = await this.applyChunk(state, def, fields, ctx, chunk, seq, row);
    await store.updateJob(this.db, job.id, {
      resumeUpload: seq + 1,
      resumeRow: 0,
      systemModstamp: this.now(),
      ...(state.columns ? { columns: state.columns } : {}),
    });
    return { ...state, resumeUpload: seq + 1, resumeRow: 0 };
  }

  /** One chunk: its writes, its result rows and the resume point commit together. */
  private async applyChunk(
    job: BulkJob,
    def: ObjectDef,
    fields: FieldDef[],
    ctx: CallContext,
    rows: string[][],
    seq: number,
    rowsDone: number,
  ): Promise<BulkJob> {
    return this.deps.unitOfWork.run(async (db) => {
      const inputs = rows.map((values) => csvInput(fields, values));
      const results = await applyBulkOperation(this.deps.records, this.deps.schema, job, def, ctx, inputs);
      const delimiter = COLUMN_DELIMITERS[job.columnDelimiter];
      const eol = LINE_ENDINGS[job.lineEnding];
      const options = { delimiter, record_delimiter: eol, quoted: true } as const;
      const success: string[][] = [];
      const failure: string[][] = [];
      results.forEach((r, i) => {
        const original = rows[i] ?? [];
        // Inserts always create; upserts say which rows they created; other operations never do.
        const created = job.operation === 'insert' || r.created === true;
        if (r.success) success.push([r.id ?? '', String(created), ...original]);
        else failure.push([r.id ?? '', r.errors.map(bulkErrorText).join(' '), ...original]);
      });
      await store.insertResult(db, job.id, 'success', success.length > 0 ? stringify(success, options) : '');
      await store.insertResult(db, job.id, 'failure', failure.length > 0 ? stringify(failure, options) : '');
      const next = {
        recordsProcessed: job.recordsProcessed + rows.length,
        recordsFailed: job.recordsFailed + failure.length,
        resumeUpload: seq,
        resumeRow: rowsDone,
        columns: job.columns ?? [],
      };
      await store.updateJob(db, job.id, { ...next, systemModstamp: this.now() });
      return { ...job, ...next };
    });
  }
}
