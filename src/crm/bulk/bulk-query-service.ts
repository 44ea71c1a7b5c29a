import { HandoffError } from '../../errors/handoff-error.js';
import type { Database } from '../../store/database.js';
import type { CallContext } from '../domain/call-context.js';
import type { FieldValue } from '../domain/schema/field-def.js';
import type { QueryService } from '../query-service.js';
import * as store from '../store/bulk-store.js';
import type { Keyset } from '../store/soql-sql.js';
import {
  checkTransition,
  COLUMN_DELIMITERS,
  createQueryJobSchema,
  invalidJobRequest,
  jobOfType,
  LINE_ENDINGS,
  newBulkJob,
  type BulkJob,
} from './bulk-job.js';

/** Rows a results page holds when the caller does not say (Salesforce sizes pages by bytes). */
export const DEFAULT_PAGE_ROWS = 50_000;
const MAX_PAGE_ROWS = 200_000;
/** Rows read from the store at a time while a page is written. */
const CHUNK_ROWS = 2_000;

interface Deps {
  database: Database;
  queries: QueryService;
  allocateJobId: () => string;
  now: () => Date;
  onError?: (error: unknown) => void;
}

/**
 * A locator is the keyset of the last row served and how many rows came before it, so any page
 * can be read again, in any process, and the query's LIMIT still holds across pages.
 */
interface Locator {
  after: Keyset;
  served: number;
}

function encodeLocator(locator: Locator): string {
  return Buffer.from(JSON.stringify(locator), 'utf8').toString('base64url');
}

function decodeLocator(locator: string): Locator {
  try {
    const value = JSON.parse(Buffer.from(locator, 'base64url').toString('utf8')) as Partial<Locator>;
    if (Array.isArray(value.after) && Number.isInteger(value.served) && (value.served ?? -1) >= 0)
      return { after: value.after, served: value.served! };
  } catch {
    // fall through
  }
  throw new HandoffError('INVALID_QUERY_LOCATOR', 'invalid query locator');
}

function csvField(value: FieldValue): string {
  if (value === null) return '';
  // Every value quoted, quotes doubled: what Bulk API writes and any CSV reader takes. (Most
  // values hold no quote: looked for first, as a replace per cell cost more than the rest.)
  const text = String(value);
  return text.includes('"') ? `"${text.replace(/"/g, '""')}"` : `"${text}"`;
}

/**
 * Bulk API 2.0 query jobs over the same SOQL engine as REST. Results are computed page by page
 * when read, so memory stays flat however large the result.
 */
export class BulkQueryService {
  constructor(private readonly deps: Deps) {}

  private get db() {
    return this.deps.database.db;
  }

  private now(): string {
    return this.deps.now().toISOString();
  }

  /** Completes query jobs a previous process left unfinished. */
  async start(): Promise<void> {
    for (const id of await store.selectJobIdsInState(this.db, ['UploadComplete', 'InProgress'])) {
      const job = await store.selectJob(this.db, id);
      if (job?.jobType === 'V2Query') void this.run(job);
    }
  }

  async create(ctx: CallContext, apiVersion: string, body: unknown): Promise<BulkJob> {
    const parsed = createQueryJobSchema.safeParse(body);
    if (!parsed.success) throw invalidJobRequest(parsed.error);
    const request = parsed.data;
    // A bad query is refused now, as Salesforce does, not when the job runs.
    const plan = this.deps.queries.planForBulk(request.query, request.operation === 'queryAll');
    const job = newBulkJob(
      {
        id: this.deps.allocateJobId(),
        jobType: 'V2Query',
        object: plan.object.name,
        operation: request.operation,
        externalIdFieldName: null,
        query: request.query,
        state: 'UploadComplete',
        columnDelimiter: request.columnDelimiter,
        lineEnding: request.lineEnding,
        apiVersion,
        createdById: ctx.userId,
        callClient: ctx.origin?.client ?? null,
      },
      this.now(),
    );
    await store.insertJob(this.db, job);
    void this.run(job);
    return job;
  }

  private async run(job: BulkJob): Promise<void> {
    const started = Date.now();
    try {
      if (job.state === 'UploadComplete') {
        checkTransition('UploadComplete', 'InProgress');
        await store.updateJob(this.db, job.id, { state: 'InProgress', systemModstamp: this.now() });
      }
      const plan = this.deps.queries.planForBulk(job.query ?? '', job.operation === 'queryAll');
      const rows = await this.deps.queries.countRows(plan);
      const latest = await store.selectJob(this.db, job.id);
      if (!latest || latest.state !== 'InProgress') return; // aborted or deleted meanwhile
      await store.updateJob(this.db, job.id, {
        state: 'JobComplete',
        recordsProcessed: rows,
        processingMs: Date.now() - started,
        systemModstamp: this.now(),
      });
    } catch (error) {
      this.deps.onError?.(error);
      await store
        .updateJob(this.db, job.id, {
          state: 'Failed',
          errorMessage: error instanceof HandoffError ? error.message : 'The query could not be run',
          systemModstamp: this.now(),
        })
        .catch(() => undefined);
    }
  }

  async get(id: string): Promise<BulkJob> {
    return jobOfType(await store.selectJob(this.db, id), 'V2Query');
  }

  list(): Promise<BulkJob[]> {
    return store.selectJobs(this.db, 'V2Query', 1000);
  }

  async abort(id: string, body: unknown): Promise<BulkJob> {
    if ((body as { state?: unknown } | undefined)?.state !== 'Aborted') {
      throw new HandoffError('INVALID_INPUT', 'state must be Aborted');
    }
    const job = await this.get(id);
    checkTransition(job.state, 'Aborted');
    await store.updateJob(this.db, id, { state: 'Aborted', systemModstamp: this.now() });
    return this.get(id);
  }

  async delete(id: string): Promise<void> {
    const job = await this.get(id);
    if (job.state === 'InProgress') throw new HandoffError('INVALIDJOBSTATE', `Job's state is ${job.state}`);
    await store.deleteJob(this.db, id);
  }

  /** One page of results as CSV, with the count and the locator of the next page ('null' at the end). */
  async results(
    id: string,
    options: { locator?: string; maxRecords?: number },
  ): Promise<{ csv: string; count: number; locator: string }> {
    const job = await this.get(id);
    if (job.state !== 'JobComplete') {
      throw new HandoffError('JOB_NOT_COMPLETE', `Job is not complete: its state is ${job.state}`);
    }
    const plan = this.deps.queries.planForBulk(job.query ?? '', job.operation === 'queryAll');
    const from = options.locator ? decodeLocator(options.locator) : { after: null, served: 0 };
    const left = (plan.limit ?? Number.POSITIVE_INFINITY) - from.served;
    const max = Math.min(
      Math.max(1, options.maxRecords ?? DEFAULT_PAGE_ROWS),
      MAX_PAGE_ROWS,
      Math.max(0, left),
    );
    const delimiter = COLUMN_DELIMITERS[job.columnDelimiter];
    const eol = LINE_ENDINGS[job.lineEnding];
    // The page is read and written a chunk at a time: each chunk's rows are garbage before the
    // next is read, so a 50,000-row page never holds 50,000 rows' objects at once (held across a
    // whole page, they outlived the young generation and cost full collections).
    const parts: string[] = [];
    let after = from.after;
    let count = 0;
    let next: Keyset | null = null;
    do {
      const chunk = await this.deps.queries.flatPage(
        plan,
        after,
        Math.max(1, Math.min(CHUNK_ROWS, max - count)),
      );
      if (parts.length === 0) parts.push(chunk.columns.map((c) => `"${c}"`).join(delimiter) + eol);
      if (max === 0) break;
      const lines = chunk.rows.map((row) => row.map(csvField).join(delimiter));
      if (lines.length > 0) parts.push(lines.join(eol) + eol);
      count += chunk.rows.length;
      after = next = chunk.next;
    } while (next && count < max);
    const served = from.served + count;
    return {
      csv: parts.join(''),
      count,
      locator:
        next && served < (plan.limit ?? Number.POSITIVE_INFINITY)
          ? encodeLocator({ after: next, served })
          : 'null',
    };
  }
}
