import { z } from 'zod';

/** Bulk API 1.0's jobs and batches, as stored and as the wire names them. */

export const V1_OPERATIONS = [
  'insert',
  'update',
  'upsert',
  'delete',
  'hardDelete',
  'query',
  'queryAll',
] as const;
export type V1Operation = (typeof V1_OPERATIONS)[number];
export type V1JobState = 'Open' | 'Closed' | 'Aborted' | 'Failed';
export type V1BatchState = 'Queued' | 'InProgress' | 'Completed' | 'Failed' | 'NotProcessed';
export type V1ContentType = 'CSV' | 'JSON' | 'XML';

export interface V1Job {
  id: string;
  object: string;
  operation: V1Operation;
  externalIdFieldName: string | null;
  contentType: V1ContentType;
  concurrencyMode: 'Parallel' | 'Serial';
  state: V1JobState;
  apiVersion: string;
  createdById: string;
  callClient: string | null;
  createdDate: string;
  systemModstamp: string;
}

/** One row's answer, kept until its result file is read. */
export interface V1RowResult {
  id: string | null;
  success: boolean;
  created: boolean;
  errors: Array<{ statusCode: string; message: string; fields: string[] }>;
}

export interface V1Batch {
  id: string;
  jobId: string;
  state: V1BatchState;
  stateMessage: string | null;
  /** The batch as sent: CSV, JSON or XML records, or a query's SOQL. */
  request: string;
  /** Ingest: a result per row, in order; a query: null (its result is read from the store). */
  results: V1RowResult[] | null;
  recordsProcessed: number;
  recordsFailed: number;
  processingMs: number;
  createdDate: string;
  systemModstamp: string;
}

/** The job counters jobInfo reports, from its batches. */
export interface V1JobCounts {
  numberBatchesQueued: number;
  numberBatchesInProgress: number;
  numberBatchesCompleted: number;
  numberBatchesFailed: number;
  numberBatchesTotal: number;
  numberRecordsProcessed: number;
  numberRecordsFailed: number;
  totalProcessingTime: number;
}

export function isQuery(operation: string): boolean {
  return operation === 'query' || operation === 'queryAll';
}

/**
 * The `jobInfo` of a create: operation, object, and the options Salesforce takes. Names are
 * case-sensitive as on Salesforce; `hardDelete` and `queryAll` keep their capitals.
 */
export const createJobSchema = z.object({
  operation: z.enum(V1_OPERATIONS),
  object: z.string().min(1),
  externalIdFieldName: z.string().optional(),
  concurrencyMode: z.enum(['Parallel', 'Serial']).default('Parallel'),
  contentType: z.enum(['CSV', 'JSON', 'XML']).default('XML'),
  assignmentRuleId: z.string().optional(),
});

/** A state change's `jobInfo`. */
export const jobStateSchema = z.object({ state: z.enum(['Closed', 'Aborted']) });

/** Bulk API 1.0's error codes (AsyncApiException), with the HTTP status each answers. */
export const ASYNC_ERRORS = {
  InvalidSessionId: 400,
  InvalidJob: 400,
  InvalidBatch: 400,
  InvalidJobState: 400,
  InvalidEntity: 400,
  InvalidOperation: 400,
  InvalidXML: 400,
  ClientInputError: 400,
  ExceededQuota: 400,
  InvalidUrl: 404,
  InternalServerError: 500,
} as const;
export type AsyncErrorCode = keyof typeof ASYNC_ERRORS;

/** An AsyncApiException: `<error><exceptionCode>…</exceptionCode><exceptionMessage>…` on the wire. */
export class AsyncApiError extends Error {
  constructor(
    readonly code: AsyncErrorCode,
    message: string,
  ) {
    super(message);
  }

  get status(): number {
    return ASYNC_ERRORS[this.code];
  }
}
