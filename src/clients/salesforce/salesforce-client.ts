import { setTimeout as sleep } from 'node:timers/promises';
import { csvRows } from '../csv-rows.js';
import { pollWaits } from '../poll-waits.js';
import type jsforce from 'jsforce';
import * as httpApi from 'jsforce/lib/http-api.js';
import { parseBulkError, type RecordError } from './bulk-errors.js';
import { sendParts, type CompositeAnswer, type CompositePart } from './composite-calls.js';
import { soqlList } from './soql.js';

/** SOQL `IN` lists and Collections calls take 200 at a time. */
const IDS_PER_QUERY = 200;

/**
 * A call tried once more when the connection dropped under it (reset, or hung up: a kept-alive
 * socket the other side closed as the request went out). For calls that change nothing.
 */
async function onceMoreIfDropped<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    if (code !== 'ECONNRESET' && code !== 'EPIPE' && !/ECONNRESET|socket hang up/.test(message ?? ''))
      throw error;
    return call();
  }
}

/** jsforce's HTTP API with its session refresh, for a call whose headers we read. */
const { HttpApi } = httpApi;

/** One record's answer to a save, as Collections give it (Bulk results are translated to it). */
export interface SaveAnswer {
  success: boolean;
  id?: string;
  errors?: Array<Partial<RecordError> & { statusCode?: string }>;
}

/** The org's daily API requests: used so far, and the limit. */
export interface ApiUsage {
  used: number;
  limit: number;
}

/**
 * The reads and writes Handoff makes of a Salesforce org (or the embedded CRM), over jsforce:
 * records by id in as few queries as SOQL allows, the org's API usage, and Bulk API 2.0 jobs
 * answered per record. The connector, doctor and status read through it, so each of these is
 * written once.
 */
export class SalesforceClient {
  constructor(readonly conn: jsforce.Connection) {}

  get version(): string {
    return this.conn.version;
  }

  /**
   * The org's API usage: from the last answer's Sforce-Limit-Info (jsforce keeps it, no call
   * spent), or — before the first answer, or with `fresh` — from /limits.
   */
  async apiUsage(options: { fresh?: boolean } = {}): Promise<ApiUsage> {
    const seen = this.conn.limitInfo?.apiUsage;
    if (seen && !options.fresh) return { used: seen.used, limit: seen.limit };
    const limits = (await this.conn.limits()) as unknown as {
      DailyApiRequests: { Max: number; Remaining: number };
    };
    const { Max, Remaining } = limits.DailyApiRequests;
    return { used: Max - Remaining, limit: Max };
  }

  /** A query's records, every page followed (up to `maxFetch`); `recycleBin` reads deleted ones too. */
  async query<T extends Record<string, unknown>>(
    soql: string,
    options: { recycleBin?: boolean; maxFetch?: number } = {},
  ): Promise<T[]> {
    const answer = await this.conn.query<T>(soql, {
      autoFetch: true,
      scanAll: options.recycleBin ?? false,
      ...(options.maxFetch ? { maxFetch: options.maxFetch } : {}),
    });
    return answer.records;
  }

  /**
   * Every record a query matches, through one Bulk API 2.0 query job — a few calls (the job, its
   * status, a page of results per locator) however many records — page by page, as CSV rows
   * under their columns (a parent's field under its dotted name, `Account.Name`): a reader of
   * millions of records builds no object per record. The job is made before this answers, so the
   * org runs it while the caller starts other reads; the pages come from the generator it answers
   * with. The pages are read here rather than by jsforce's `bulk2.query`, whose one CSV parser
   * across every page fails once there is more than one.
   */
  async startBulkQuery(
    soql: string,
    /**
     * `pageRows`: at most this many records a result page (`maxRecords`; the org's size unless
     * set). `recycleBin`: deleted records too (`queryAll`), told by `IsDeleted`. `pollMs`: the
     * longest wait between two asks of the job's state.
     */
    options: { pollMs?: number; pageRows?: number; recycleBin?: boolean } = {},
  ): Promise<AsyncGenerator<{ columns: string[]; rows: string[][] }>> {
    const base = `/services/data/v${this.conn.version}/jobs/query`;
    // A query job changes nothing: made again when the connection dropped before its answer
    // (an orphaned job at worst), as its status is asked again.
    const job = await onceMoreIfDropped(() =>
      this.conn.request<{ id: string }>({
        method: 'POST',
        url: base,
        body: JSON.stringify({ operation: options.recycleBin ? 'queryAll' : 'query', query: soql }),
        headers: { 'Content-Type': 'application/json' },
      }),
    );
    return this.bulkQueryResults(base, job.id, soql, options);
  }

  private async *bulkQueryResults(
    base: string,
    jobId: string,
    soql: string,
    options: { pollMs?: number; pageRows?: number },
  ): AsyncGenerator<{ columns: string[]; rows: string[][] }> {
    for (const wait of pollWaits(options.pollMs ?? 250)) {
      const info = await onceMoreIfDropped(() =>
        this.conn.request<{ state: string; errorMessage?: string }>(`${base}/${jobId}`),
      );
      if (info.state === 'JobComplete') break;
      if (info.state === 'Failed' || info.state === 'Aborted')
        throw new Error(`Bulk query job ${jobId} ${info.state}: ${info.errorMessage ?? soql}`);
      await sleep(wait);
    }
    // Each page is asked for as soon as the one before it has answered (its locator comes in
    // the answer's headers), so the org prepares it while this one is parsed and read.
    const fetchPage = async (locator: string | undefined): Promise<{ csv: string; next?: string }> => {
      // Sforce-Locator, the next page's key, comes as a header: read from jsforce's own call.
      const api = new HttpApi(this.conn, { responseType: 'text/plain' });
      let next: string | undefined;
      api.on('response', (response: { headers: Record<string, string | undefined> }) => {
        next = response.headers['sforce-locator'];
      });
      const query = new URLSearchParams({
        ...(locator ? { locator } : {}),
        ...(options.pageRows ? { maxRecords: String(options.pageRows) } : {}),
      });
      const csv = await api.request<string>({
        method: 'GET',
        url: `${this.conn.instanceUrl}${base}/${jobId}/results?${query.toString()}`,
        headers: { Accept: 'text/csv' },
      });
      return { csv, next: next && next !== 'null' ? next : undefined };
    };
    let pending: Promise<{ csv: string; next?: string }> | null = onceMoreIfDropped(() =>
      fetchPage(undefined),
    );
    while (pending) {
      const page: { csv: string; next?: string } = await pending;
      const next = page.next;
      pending = next ? onceMoreIfDropped(() => fetchPage(next)) : null;
      // Met when awaited on the next turn; a consumer that stops early must not leave it unhandled.
      pending?.catch(() => undefined);
      const [columns, ...rows] = csvRows(page.csv);
      if (columns) yield { columns, rows };
    }
  }

  /**
   * Records by id, 200 ids a query; several queries go five to a Composite call (one call
   * against the limit). Missing ids are simply not in the answer.
   */
  async recordsById<T extends Record<string, unknown>>(
    object: string,
    fields: readonly string[],
    ids: readonly string[],
    options: { recycleBin?: boolean } = {},
  ): Promise<T[]> {
    const parts: CompositePart[] = [];
    for (let i = 0; i < ids.length; i += IDS_PER_QUERY)
      parts.push({
        kind: 'query',
        soql: `SELECT ${fields.join(', ')} FROM ${object} WHERE Id IN ${soqlList(ids.slice(i, i + IDS_PER_QUERY))}`,
        recycleBin: options.recycleBin ?? false,
      });
    const records: T[] = [];
    for (const answer of await this.send(parts)) {
      if (!answer.ok) throw answer.error;
      records.push(...(answer.body as { records: T[] }).records);
    }
    return records;
  }

  /**
   * Collections and query calls, five to a Composite call: each part answered in order with
   * the body its own call would have had, or its error.
   */
  send(parts: readonly CompositePart[]): Promise<CompositeAnswer[]> {
    return sendParts(this.conn, parts);
  }

  /**
   * Saves rows through one Bulk API 2.0 ingest job and answers each row as Collections would,
   * in the rows' order, matched by `matchOn` (`sf__Id`, or the external id field of an upsert).
   * A row the job did not process is a failure for now (SERVER_UNAVAILABLE), to be tried again.
   * With `blankNulls`, a null is sent as `#N/A`, Bulk's way to blank a field (an empty cell
   * leaves it as it is).
   */
  async bulkSave(
    job: { object: string; operation: 'insert' | 'update' | 'upsert'; externalIdFieldName?: string },
    rows: ReadonlyArray<Record<string, unknown>>,
    options: { matchOn: string; keyOf: (row: Record<string, unknown>) => string; blankNulls?: boolean },
  ): Promise<SaveAnswer[]> {
    const input = options.blankNulls
      ? rows.map((row) =>
          Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v === null ? '#N/A' : v])),
        )
      : rows;
    const results = await this.conn.bulk2.loadAndWaitForResults({
      ...job,
      input: input as never,
      pollInterval: 100,
      pollTimeout: 600_000,
    });
    const byKey = new Map<string, SaveAnswer>();
    const keyOf = (row: object) => String((row as Record<string, unknown>)[options.matchOn]);
    for (const ok of results.successfulResults)
      byKey.set(keyOf(ok), { success: true, id: String(ok.sf__Id) });
    for (const failed of results.failedResults)
      byKey.set(keyOf(failed), { success: false, errors: [parseBulkError(String(failed.sf__Error))] });
    return rows.map(
      (row) =>
        byKey.get(options.keyOf(row)) ?? {
          success: false,
          errors: [{ errorCode: 'SERVER_UNAVAILABLE', message: 'not processed by the bulk job' }],
        },
    );
  }
}
