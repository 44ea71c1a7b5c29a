import { z } from 'zod';
import { HandoffError } from '../../errors/handoff-error.js';

export const JOB_STATES = [
  'Open',
  'UploadComplete',
  'InProgress',
  'JobComplete',
  'Failed',
  'Aborted',
] as const;
export type JobState = (typeof JOB_STATES)[number];

/** Which state may follow which: everything else is INVALIDJOBSTATE. */
const TRANSITIONS: Record<JobState, readonly JobState[]> = {
  Open: ['UploadComplete', 'Aborted'],
  UploadComplete: ['InProgress', 'Aborted'],
  InProgress: ['JobComplete', 'Failed', 'Aborted'],
  JobComplete: [],
  Failed: [],
  Aborted: [],
};

export function checkTransition(from: JobState, to: JobState): void {
  if (!TRANSITIONS[from].includes(to)) {
    throw new HandoffError('INVALIDJOBSTATE', `Job's state is ${from}; it cannot become ${to}`);
  }
}

export const INGEST_OPERATIONS = ['insert', 'update', 'upsert', 'delete', 'hardDelete'] as const;
export type IngestOperation = (typeof INGEST_OPERATIONS)[number];

export const COLUMN_DELIMITERS = {
  COMMA: ',',
  TAB: '\t',
  PIPE: '|',
  SEMICOLON: ';',
  CARET: '^',
  BACKQUOTE: '`',
} as const;
export type ColumnDelimiter = keyof typeof COLUMN_DELIMITERS;
export const LINE_ENDINGS = { LF: '\n', CRLF: '\r\n' } as const;
export type LineEnding = keyof typeof LINE_ENDINGS;

const delimiter = z
  .enum(Object.keys(COLUMN_DELIMITERS) as [ColumnDelimiter, ...ColumnDelimiter[]])
  .default('COMMA');
const lineEnding = z.enum(['LF', 'CRLF']).default('LF');

export const createIngestJobSchema = z
  .object({
    object: z.string().min(1),
    operation: z.enum(INGEST_OPERATIONS),
    externalIdFieldName: z.string().optional(),
    contentType: z.literal('CSV').default('CSV'),
    columnDelimiter: delimiter,
    lineEnding,
  })
  .refine((job) => job.operation !== 'upsert' || job.externalIdFieldName, {
    message: 'externalIdFieldName is required for upsert',
    path: ['externalIdFieldName'],
  });

export const createQueryJobSchema = z.object({
  operation: z.enum(['query', 'queryAll']).default('query'),
  query: z.string().min(1),
  contentType: z.literal('CSV').default('CSV'),
  columnDelimiter: delimiter,
  lineEnding,
});

/** A job as stored. */
export interface BulkJob {
  id: string;
  jobType: 'V2Ingest' | 'V2Query';
  object: string;
  operation: string;
  externalIdFieldName: string | null;
  query: string | null;
  state: JobState;
  columnDelimiter: ColumnDelimiter;
  lineEnding: LineEnding;
  apiVersion: string;
  createdById: string;
  /** The creator's `Sforce-Call-Options` client, carried into the change events of the job's writes. */
  callClient: string | null;
  createdDate: string;
  systemModstamp: string;
  recordsProcessed: number;
  recordsFailed: number;
  processingMs: number;
  errorMessage: string | null;
  columns: string[] | null;
  resumeUpload: number;
  resumeRow: number;
}

/** The job if it is of `jobType`; a job of the other kind is as missing as no job at all. */
export function jobOfType(job: BulkJob | undefined, jobType: BulkJob['jobType']): BulkJob {
  if (!job || job.jobType !== jobType)
    throw new HandoffError('NOT_FOUND', 'The requested resource does not exist');
  return job;
}

/** `Field:message:fields --`, the way Bulk API writes `sf__Error`. */
export function bulkErrorText(error: HandoffError): string {
  return `${error.code}:${error.message}:${error.fields.join(',')} --`;
}

/** A new job: what the request says, with the counters and progress of a job not yet run. */
export function newBulkJob(
  fields: Pick<
    BulkJob,
    | 'id'
    | 'jobType'
    | 'object'
    | 'operation'
    | 'externalIdFieldName'
    | 'query'
    | 'state'
    | 'columnDelimiter'
    | 'lineEnding'
    | 'apiVersion'
    | 'createdById'
    | 'callClient'
  >,
  now: string,
): BulkJob {
  return {
    ...fields,
    createdDate: now,
    systemModstamp: now,
    recordsProcessed: 0,
    recordsFailed: 0,
    processingMs: 0,
    errorMessage: null,
    columns: null,
    resumeUpload: 0,
    resumeRow: 0,
  };
}

/** A job request that fails its schema, as one INVALID_INPUT naming each problem. */
export function invalidJobRequest(error: z.ZodError): HandoffError {
  return new HandoffError(
    'INVALID_INPUT',
    error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
  );
}
