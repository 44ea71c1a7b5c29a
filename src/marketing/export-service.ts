import { setImmediate as nextTurn } from 'node:timers/promises';
import { FIELD_BY_NAME, type ProspectValue } from './domain/prospect-fields.js';
import { v5Datetime } from './domain/unit-time.js';
import type { Database } from '../store/database.js';
import { JobRunner } from '../store/job-runner.js';
import { MarketingError } from './domain/marketing-error.js';
import type { ProspectQuery } from './store/prospect-store.js';
import type { ProspectService } from './prospect-service.js';
import * as store from './store/export-store.js';

export type { ExportJob, ExportRequest } from './store/export-store.js';

export interface ExportServiceDeps {
  database: Database;
  prospects: ProspectService;
  now: () => Date;
  onError?: (error: unknown) => void;
}

/** Rows per result file; each file is a CSV with its own header. */
const ROWS_PER_RESULT = 100_000;
/** Prospects read at a time; a divisor of ROWS_PER_RESULT, so a file ends on a page. */
const PAGE = 5_000;

function csvCell(value: unknown, isDatetime: boolean, timeZone: string): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (isDatetime && typeof value === 'string') return v5Datetime(value, timeZone);
  return quoted(String(value));
}

/**
 * A CSV cell, quoted only when it must be (a comma, quote or line break in it), as csv-stringify
 * writes it; written here because an export writes millions of cells and a general-purpose
 * stringifier cost several times the rest of the export's work.
 */
function quoted(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * v5 exports: prospects created or updated in a range, written in the background to CSV result
 * files that are read back by reference. The export reads the live table page by page (by id),
 * so memory stays flat whatever the size.
 */
export class ExportService {
  private readonly runner: JobRunner<store.ExportJob>;

  constructor(private readonly deps: ExportServiceDeps) {
    this.runner = new JobRunner(
      async () => (await store.selectExportsWithStatus(this.db, ['Processing', 'Waiting']))[0],
      (job) => this.process(job),
      deps.onError,
    );
  }

  private get db() {
    return this.deps.database.db;
  }

  async start(): Promise<void> {
    if ((await store.selectExportsWithStatus(this.db, ['Waiting', 'Processing'])).length > 0)
      this.runner.kick();
  }

  close(): Promise<void> {
    return this.runner.close();
  }

  async create(unitId: string, request: store.ExportRequest): Promise<store.ExportJob> {
    const id = await store.insertExport(this.db, unitId, request, this.deps.now().toISOString());
    this.runner.kick();
    return this.get(unitId, id);
  }

  async get(unitId: string, id: number): Promise<store.ExportJob> {
    const job = await store.selectExport(this.db, unitId, id);
    if (!job) throw new MarketingError(404);
    return job;
  }

  async result(unitId: string, id: number, seq: number): Promise<string> {
    const job = await this.get(unitId, id);
    if (job.status !== 'Complete')
      throw new MarketingError(404, `Export ${id} is ${job.status}: its results are not ready`);
    const csv = await store.selectResult(this.db, id, seq);
    if (csv === undefined) throw new MarketingError(404);
    return csv;
  }

  idle(): Promise<void> {
    return this.runner.idle();
  }

  private async process(job: store.ExportJob): Promise<void> {
    const at = () => this.deps.now().toISOString();
    // A restarted export starts over: its partial files are dropped first.
    await store.clearResults(this.db, job.id);
    await store.setExportStatus(this.db, job.id, 'Processing', at());
    const { request } = job;
    const column = request.procedure === 'filter_by_created_at' ? 'created_at' : 'updated_at';
    const range: ProspectQuery['where'] = [];
    if (request.after) range.push([column, '>', request.after]);
    if (request.before) range.push([column, '<', request.before]);
    // Creation dates never change, so an export by them is read in their index's order,
    // (created_at, id), from the last row read: each page is a seek (the store drops the range's
    // lower bound once the keyset has passed it), where ordering by id made every page sort the
    // whole range again. Update dates move while an export runs (a prospect updated meanwhile
    // would be read twice), so those are read in id order.
    const byCreation = column === 'created_at';
    let last: { key: ProspectValue; id: number } | undefined;
    const position = (): Pick<ProspectQuery, 'where' | 'orderColumn' | 'after'> =>
      byCreation
        ? { where: range, orderColumn: column, after: last }
        : { where: [...range, ['id', '>', last?.id ?? 0]], orderColumn: 'id' };
    let seq = 0;
    // Each page of prospects is written as CSV text at once, so only text waits for a file.
    let chunks: string[] = [];
    let rows = 0;
    const flush = async () => {
      if (rows === 0 && seq > 0) return;
      const header = request.fields.map(quoted).join(',') + '\n';
      await store.appendResult(this.db, job.id, seq, header + chunks.join(''), rows, at());
      seq += 1;
      chunks = [];
      rows = 0;
    };
    const timeZone = request.timeZone ?? 'UTC';
    const datetimes = request.fields.map((f) => FIELD_BY_NAME.get(f)?.type === 'datetime');
    for (;;) {
      if (this.runner.stopping) return;
      const page = await this.deps.prospects.query({
        unitId: job.unitId,
        deleted: request.deleted,
        ...position(),
        descending: false,
        limit: PAGE,
        fields: request.fields,
      });
      let text = '';
      for (const prospect of page)
        text +=
          request.fields
            .map((f, i) =>
              csvCell(f === 'isDeleted' ? prospect.isDeleted : prospect.values[f], datetimes[i]!, timeZone),
            )
            .join(',') + '\n';
      chunks.push(text);
      rows += page.length;
      if (rows >= ROWS_PER_RESULT) await flush();
      if (page.length < PAGE) break;
      const end = page.at(-1)!;
      last = { key: end.values.createdAt ?? null, id: end.id };
      // The store answers at once (better-sqlite3 is synchronous): without a turn of the event
      // loop here, a large export would hold every other request of the process until it ends.
      await nextTurn();
    }
    await flush();
    await store.setExportStatus(this.db, job.id, 'Complete', at());
  }
}
