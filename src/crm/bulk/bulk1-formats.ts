import { parse as parseCsv } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import type { FieldValue } from '../domain/schema/field-def.js';
import { NULL_MARKER } from './bulk-operation.js';
import {
  AsyncApiError,
  type V1Batch,
  type V1ContentType,
  type V1Job,
  type V1JobCounts,
  type V1RowResult,
} from './bulk1-job.js';

/**
 * Bulk API 1.0 on the wire: job and batch requests read from XML or JSON, batch records from
 * CSV, JSON or XML, and every answer written in the format the client speaks. Pure.
 */

export const DATALOAD_NS = 'http://www.force.com/2009/06/asyncapi/dataload';
const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';

export type WireFormat = 'xml' | 'json';

const xmlParser = new XMLParser({
  ignoreAttributes: false,
  parseTagValue: false,
  trimValues: true,
  isArray: (name) => name === 'sObject',
});
const xmlBuilder = new XMLBuilder({ ignoreAttributes: false, suppressEmptyNode: false });

function xmlDocument(root: string, body: Record<string, unknown>): string {
  return `<?xml version="1.0" encoding="UTF-8"?>${xmlBuilder.build({ [root]: { '@_xmlns': DATALOAD_NS, ...body } }) as string}`;
}

/** A `jobInfo` request body (XML or JSON) as plain fields. */
export function readJobInfo(text: string, format: WireFormat): Record<string, unknown> {
  if (format === 'json') {
    try {
      const body: unknown = JSON.parse(text);
      if (typeof body === 'object' && body !== null && !Array.isArray(body))
        return body as Record<string, unknown>;
    } catch {
      // answered below
    }
    throw new AsyncApiError('InvalidJob', 'Unable to parse Job');
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = xmlParser.parse(text, true) as Record<string, unknown>;
  } catch {
    throw new AsyncApiError('InvalidXML', 'Unable to parse XML');
  }
  const info = parsed.jobInfo;
  if (typeof info !== 'object' || info === null) throw new AsyncApiError('InvalidJob', 'Unable to parse Job');
  return Object.fromEntries(Object.entries(info).filter(([name]) => !name.startsWith('@_')));
}

/** A batch's records: each a map of the columns as the client named them to values. */
export function readBatchRecords(text: string, contentType: V1ContentType): Array<Record<string, unknown>> {
  if (contentType === 'CSV') {
    let rows: string[][];
    try {
      rows = parseCsv(text, { bom: true, skip_empty_lines: true, relax_column_count: false }) as string[][];
    } catch (error) {
      throw new AsyncApiError('InvalidBatch', `Failed to parse CSV: ${(error as Error).message}`);
    }
    const [header, ...data] = rows;
    if (!header) return [];
    return data.map((values) => {
      const record: Record<string, unknown> = {};
      header.forEach((column, i) => {
        const value = values[i] ?? '';
        if (value !== '') record[column] = value === NULL_MARKER ? null : value;
      });
      return record;
    });
  }
  if (contentType === 'JSON') {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new AsyncApiError('InvalidBatch', 'Failed to parse JSON');
    }
    if (!Array.isArray(body) || body.some((r) => typeof r !== 'object' || r === null || Array.isArray(r)))
      throw new AsyncApiError('InvalidBatch', 'A JSON batch must be an array of records');
    return (body as Array<Record<string, unknown>>).map(({ attributes: _attributes, ...record }) => record);
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = xmlParser.parse(text, true) as Record<string, unknown>;
  } catch {
    throw new AsyncApiError('InvalidBatch', 'Failed to parse XML');
  }
  const root = parsed.sObjects as { sObject?: Array<Record<string, unknown>> } | undefined;
  if (!root || typeof root !== 'object') throw new AsyncApiError('InvalidBatch', 'Expected sObjects');
  return (root.sObject ?? []).map((element) => {
    const record: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(element)) {
      if (name.startsWith('@_') || name === 'type') continue;
      if (typeof value === 'object' && value !== null) {
        // <Phone xsi:nil="true"/> sets the field to null.
        if ((value as Record<string, unknown>)['@_xsi:nil'] === 'true') record[name] = null;
        continue;
      }
      if (value !== '') record[name] = String(value);
    }
    return record;
  });
}

/** A job as `jobInfo`: the stored job with its batch counters. */
export function writeJobInfo(job: V1Job, counts: V1JobCounts, format: WireFormat): string {
  const info = {
    id: job.id,
    operation: job.operation,
    object: job.object,
    createdById: job.createdById,
    createdDate: job.createdDate,
    systemModstamp: job.systemModstamp,
    state: job.state,
    ...(job.externalIdFieldName ? { externalIdFieldName: job.externalIdFieldName } : {}),
    concurrencyMode: job.concurrencyMode,
    contentType: job.contentType,
    numberBatchesQueued: counts.numberBatchesQueued,
    numberBatchesInProgress: counts.numberBatchesInProgress,
    numberBatchesCompleted: counts.numberBatchesCompleted,
    numberBatchesFailed: counts.numberBatchesFailed,
    numberBatchesTotal: counts.numberBatchesTotal,
    numberRecordsProcessed: counts.numberRecordsProcessed,
    numberRetries: 0,
    apiVersion: format === 'json' ? Number(job.apiVersion) : job.apiVersion,
    numberRecordsFailed: counts.numberRecordsFailed,
    totalProcessingTime: counts.totalProcessingTime,
    apiActiveProcessingTime: counts.totalProcessingTime,
    apexProcessingTime: 0,
  };
  return format === 'json' ? JSON.stringify(info) : xmlDocument('jobInfo', info);
}

function batchFields(batch: V1Batch): Record<string, unknown> {
  return {
    id: batch.id,
    jobId: batch.jobId,
    state: batch.state,
    ...(batch.stateMessage ? { stateMessage: batch.stateMessage } : {}),
    createdDate: batch.createdDate,
    systemModstamp: batch.systemModstamp,
    numberRecordsProcessed: batch.recordsProcessed,
    numberRecordsFailed: batch.recordsFailed,
    totalProcessingTime: batch.processingMs,
    apiActiveProcessingTime: batch.processingMs,
    apexProcessingTime: 0,
  };
}

export function writeBatchInfo(batch: V1Batch, format: WireFormat): string {
  return format === 'json'
    ? JSON.stringify(batchFields(batch))
    : xmlDocument('batchInfo', batchFields(batch));
}

export function writeBatchList(batches: V1Batch[], format: WireFormat): string {
  const list = batches.map(batchFields);
  return format === 'json'
    ? JSON.stringify({ batchInfo: list })
    : xmlDocument('batchInfoList', { batchInfo: list });
}

/** `Code:message:fields --`, the way Bulk results write an error. */
function errorText(error: V1RowResult['errors'][number]): string {
  return `${error.statusCode}:${error.message}:${error.fields.join(',')} --`;
}

/** An ingest batch's results, a row per record in the order sent, in the job's content type. */
export function writeIngestResults(results: V1RowResult[], contentType: V1ContentType): string {
  if (contentType === 'CSV') {
    return stringify(
      [
        ['Id', 'Success', 'Created', 'Error'],
        ...results.map((r) => [
          r.id ?? '',
          String(r.success),
          String(r.created),
          r.errors.map(errorText).join(' '),
        ]),
      ],
      { quoted: true, record_delimiter: '\n' },
    );
  }
  if (contentType === 'JSON') {
    return JSON.stringify(
      results.map((r) => ({ success: r.success, created: r.created, id: r.id, errors: r.errors })),
    );
  }
  return xmlDocument('results', {
    result: results.map((r) => ({
      ...(r.errors.length > 0
        ? {
            errors: r.errors.map((e) => ({ fields: e.fields, message: e.message, statusCode: e.statusCode })),
          }
        : {}),
      id: r.id ?? '',
      success: r.success,
      created: r.created,
    })),
  });
}

/** A query batch's result ids. */
export function writeResultList(ids: string[], contentType: V1ContentType): string {
  return contentType === 'JSON' ? JSON.stringify(ids) : xmlDocument('result-list', { result: ids });
}

/** How an answer in this content type is labelled. */
export function mediaType(contentType: V1ContentType | WireFormat): string {
  if (contentType === 'CSV') return 'text/csv; charset=UTF-8';
  if (contentType === 'JSON' || contentType === 'json') return 'application/json; charset=UTF-8';
  return 'application/xml; charset=UTF-8';
}

/** An AsyncApiException. */
export function writeError(code: string, message: string, format: WireFormat): string {
  return format === 'json'
    ? JSON.stringify({ exceptionCode: code, exceptionMessage: message })
    : xmlDocument('error', { exceptionCode: code, exceptionMessage: message });
}

/** Query results, page by page: the first page opens the file, the last closes it. */
export class QueryResultWriter {
  private first = true;

  constructor(
    private readonly contentType: V1ContentType,
    private readonly object: string,
    private readonly columns: string[],
  ) {}

  open(): string {
    if (this.contentType === 'CSV')
      return stringify([this.columns], { quoted: true, record_delimiter: '\n' });
    if (this.contentType === 'JSON') return '[';
    return `<?xml version="1.0" encoding="UTF-8"?><queryResult xmlns="${DATALOAD_NS}" xmlns:xsi="${XSI_NS}">`;
  }

  rows(rows: FieldValue[][]): string {
    if (rows.length === 0) return '';
    if (this.contentType === 'CSV')
      return stringify(
        rows.map((row) => row.map((v) => (v === null ? '' : String(v)))),
        { quoted: true, record_delimiter: '\n' },
      );
    if (this.contentType === 'JSON') {
      const text = rows.map((row) => JSON.stringify(this.nested(row))).join(',');
      const out = this.first ? text : `,${text}`;
      this.first = false;
      return out;
    }
    return rows
      .map((row) => {
        const record = this.nested(row);
        delete record.attributes;
        return xmlBuilder.build({
          records: { '@_xsi:type': 'sObject', type: this.object, ...xmlRecord(record) },
        }) as string;
      })
      .join('');
  }

  close(): string {
    if (this.contentType === 'CSV') return '';
    if (this.contentType === 'JSON') return ']';
    return '</queryResult>';
  }

  /** A flat row (`Owner.Name` columns) as a record with its relationships nested. */
  private nested(row: FieldValue[]): Record<string, unknown> {
    const record: Record<string, unknown> = { attributes: { type: this.object } };
    this.columns.forEach((column, i) => {
      const path = column.split('.');
      let target = record;
      for (const step of path.slice(0, -1)) {
        if (typeof target[step] !== 'object' || target[step] === null) target[step] = {};
        target = target[step] as Record<string, unknown>;
      }
      target[path.at(-1)!] = row[i] ?? null;
    });
    return record;
  }
}

/** A record for the XML writer: nulls as `xsi:nil`. */
function xmlRecord(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(record).map(([name, value]) => [
      name,
      value === null
        ? { '@_xsi:nil': 'true' }
        : typeof value === 'object'
          ? xmlRecord(value as Record<string, unknown>)
          : value,
    ]),
  );
}
