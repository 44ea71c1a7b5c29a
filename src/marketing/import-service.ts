import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import type { Database } from '../store/database.js';
import { JobRunner } from '../store/job-runner.js';
import type { UnitOfWork } from '../store/unit-of-work.js';
import type { BusinessUnitService } from './business-units.js';
import { isMarketingError, MarketingError } from './domain/marketing-error.js';
import type { Actor, Prospect } from './domain/prospect.js';
import { coerceProspectValue, type ProspectFieldType, type ProspectValue } from './domain/prospect-fields.js';
import type { BusinessUnit } from './domain/business-unit.js';
import type { ProspectService } from './prospect-service.js';
import * as store from './store/import-store.js';

export type { ImportJob, ImportOperation, ImportStatus } from './store/import-store.js';

export interface ImportServiceDeps {
  database: Database;
  unitOfWork: UnitOfWork;
  prospects: ProspectService;
  units: BusinessUnitService;
  now: () => Date;
  onError?: (error: unknown) => void;
}

/** Rows applied per transaction: large enough to be fast, small enough to resume cheaply. */
const ROWS_PER_TRANSACTION = 2_000;
export const MAX_BATCH_BYTES = 10 * 1024 * 1024;

/** What a CSV column means: a prospect field to write, or a key to find the prospect by. */
type Column =
  | { kind: 'field'; field: { name: string; type: ProspectFieldType; maxLength?: number } }
  | { kind: 'id' }
  | { kind: 'crmId'; name: string }
  | { kind: 'ignored' };

interface ParsedRow {
  values: Record<string, ProspectValue>;
  id?: string;
  crmId?: string;
}

const CRM_ID_COLUMNS = new Set(['salesforceId', 'crm_fid', 'salesforceLeadId', 'salesforceContactId']);

/**
 * v5 imports: CSV batches (≤ 10 MB each) uploaded to an Open import, applied in the
 * background once it is Ready — create, update or upsert, each row found by `id`, CRM id or
 * email. Rows go in large transactions with their progress, so a restart resumes where it
 * stopped; a bad row becomes an error line, never a failed import.
 */
export class ImportService {
  private readonly runner: JobRunner<store.ImportJob>;

  constructor(private readonly deps: ImportServiceDeps) {
    this.runner = new JobRunner(
      async () => (await store.selectImportsWithStatus(this.db, ['Processing', 'Waiting']))[0],
      (job) => this.process(job),
      deps.onError,
    );
  }

  private get db() {
    return this.deps.database.db;
  }

  /** Picks up imports a previous process left waiting or half done. */
  async start(): Promise<void> {
    if ((await store.selectImportsWithStatus(this.db, ['Waiting', 'Processing'])).length > 0)
      this.runner.kick();
  }

  close(): Promise<void> {
    return this.runner.close();
  }

  async create(unitId: string, actor: Actor, operation: store.ImportOperation): Promise<store.ImportJob> {
    const id = await store.insertImport(this.db, {
      unitId,
      operation,
      status: 'Open',
      createdBy: actor.id ?? '',
      bySync: actor.type === 'sync',
      createdAt: this.deps.now().toISOString(),
    });
    return (await store.selectImport(this.db, unitId, id))!;
  }

  async get(unitId: string, id: number): Promise<store.ImportJob> {
    const job = await store.selectImport(this.db, unitId, id);
    if (!job) throw new MarketingError(404);
    return job;
  }

  async addBatch(unitId: string, id: number, csv: string): Promise<void> {
    const job = await this.get(unitId, id);
    if (job.status !== 'Open')
      throw new MarketingError(
        62,
        `Import ${id} is ${job.status}: batches can be added only while it is Open`,
      );
    if (Buffer.byteLength(csv) > MAX_BATCH_BYTES)
      throw new MarketingError(62, 'An import batch may be at most 10 MB');
    if (csv.trim() === '') throw new MarketingError(62, 'The import file is empty');
    await store.insertBatch(this.db, id, csv);
  }

  /** Open → Waiting: queued for processing. */
  async submit(unitId: string, id: number): Promise<store.ImportJob> {
    const job = await this.get(unitId, id);
    if (job.status !== 'Open') throw new MarketingError(62, `Import ${id} is already ${job.status}`);
    if ((await store.selectBatchSeqs(this.db, id)).length === 0) {
      throw new MarketingError(62, `Import ${id} has no batches to process`);
    }
    await store.setImportStatus(this.db, id, 'Waiting', this.deps.now().toISOString());
    this.runner.kick();
    return this.get(unitId, id);
  }

  /** The rows that failed, as CSV: the row's columns and an `error` column. */
  async errors(unitId: string, id: number): Promise<string> {
    await this.get(unitId, id);
    return (await store.selectErrors(this.db, id)).join('');
  }

  /** Resolves once no import is waiting (tests and shutdown). */
  idle(): Promise<void> {
    return this.runner.idle();
  }

  private async process(job: store.ImportJob): Promise<void> {
    const at = () => this.deps.now().toISOString();
    if (job.status === 'Waiting') await store.setImportStatus(this.db, job.id, 'Processing', at());
    const unit = this.deps.units.get(job.unitId);
    // The connector's imports show in history as the sync's changes.
    const actor: Actor = { type: job.bySync ? 'sync' : 'import', id: String(job.id) };
    for (const seq of await store.selectBatchSeqs(this.db, job.id)) {
      if (seq < job.resumeBatch || !unit) continue;
      const records = parse(await store.selectBatch(this.db, job.id, seq), {
        bom: true,
        skip_empty_lines: true,
        relax_column_count: true,
      }) as string[][];
      const [header, ...rows] = records;
      if (!header) continue;
      const columns = await this.columns(job.unitId, header);
      let start = seq === job.resumeBatch ? job.resumeRow : 0;
      while (start < rows.length) {
        if (this.runner.stopping) return;
        const chunk = rows.slice(start, start + ROWS_PER_TRANSACTION);
        const end = start + chunk.length;
        await this.deps.unitOfWork.run(async (db) => {
          const outcome = await this.applyChunk(unit, actor, job.operation, columns, chunk);
          const errors = outcome.errors.map(({ row, error }) =>
            stringify([[...header.map((_, i) => row[i] ?? ''), error.message]]),
          );
          if (errors.length > 0) await store.insertErrors(db, job.id, errors);
          await store.recordProgress(db, job.id, {
            created: outcome.created,
            updated: outcome.updated,
            errors: errors.length,
            batch: seq,
            row: end,
            at: at(),
          });
        });
        start = end;
      }
      job = { ...job, resumeBatch: seq + 1, resumeRow: 0 };
    }
    await store.setImportStatus(this.db, job.id, 'Complete', at());
    await store.deleteBatches(this.db, job.id);
  }

  private async columns(unitId: string, header: string[]): Promise<Column[]> {
    const out: Column[] = [];
    for (const raw of header) {
      const name = raw.trim();
      if (name === 'id') out.push({ kind: 'id' });
      else if (CRM_ID_COLUMNS.has(name)) out.push({ kind: 'crmId', name });
      else {
        const field =
          (await this.deps.prospects.resolveField(unitId, name, 'v5')) ??
          (await this.deps.prospects.resolveField(unitId, name, 'legacy'));
        out.push(
          field && !field.readOnly && !field.syncOnly ? { kind: 'field', field } : { kind: 'ignored' },
        );
      }
    }
    return out;
  }

  /** A row's values and keys, read with the columns' field rules (sync: no lookups per cell). */
  private parseRow(columns: Column[], row: string[], timeZone: string, bySync: boolean): ParsedRow {
    const values: Record<string, ProspectValue> = {};
    const parsed: ParsedRow = { values };
    columns.forEach((column, i) => {
      const cell = (row[i] ?? '').trim();
      // An empty cell leaves the field as it is: imports never blank a value.
      if (cell === '') return;
      if (column.kind === 'field')
        values[column.field.name] = coerceProspectValue(column.field, cell, timeZone);
      else if (column.kind === 'id') parsed.id = cell;
      else if (column.kind === 'crmId') {
        parsed.crmId = cell;
        // The connector links what it imports: the CRM id is written, as its own writes may.
        if (bySync) values[column.name === 'crm_fid' ? 'salesforceId' : column.name] = cell;
      }
    });
    return parsed;
  }

  /**
   * Applies a chunk of rows: rows found by id or CRM id, and rows whose email matches, are
   * updated one by one; the rest are created together in one batch. A row whose email repeats
   * a row created earlier in the chunk updates that prospect, as it would in row order.
   */
  private async applyChunk(
    unit: BusinessUnit,
    actor: Actor,
    operation: store.ImportOperation,
    columns: Column[],
    rows: string[][],
  ): Promise<{ created: number; updated: number; errors: Array<{ row: string[]; error: MarketingError }> }> {
    const { prospects } = this.deps;
    const errors: Array<{ row: string[]; error: MarketingError }> = [];
    let created = 0;
    let updated = 0;
    const fail = (row: string[], error: unknown) => {
      if (!isMarketingError(error)) throw error;
      errors.push({ row, error });
    };

    const parsed: Array<{ row: string[]; data: ParsedRow }> = [];
    for (const row of rows) {
      try {
        parsed.push({ row, data: this.parseRow(columns, row, unit.timeZone, actor.type === 'sync') });
      } catch (error) {
        fail(row, error);
      }
    }
    const emailOf = (data: ParsedRow) => (typeof data.values.email === 'string' ? data.values.email : '');
    const matches =
      operation === 'Create'
        ? new Map<string, Prospect>()
        : await prospects.latestByEmails(
            unit.id,
            parsed
              .filter((p) => p.data.id === undefined && p.data.crmId === undefined)
              .map((p) => emailOf(p.data))
              .filter(Boolean),
          );
    // Rows keyed by CRM id: looked up together, one query for the chunk rather than one a row.
    const crmMatches =
      operation === 'Create'
        ? new Map<string, Prospect>()
        : await prospects.latestByCrmIds(
            unit.id,
            parsed
              .filter((p) => p.data.id === undefined && p.data.crmId !== undefined)
              .map((p) => p.data.crmId!),
          );

    const toCreate: Array<{ row: string[]; data: ParsedRow }> = [];
    const later: Array<{ row: string[]; data: ParsedRow }> = [];
    const creating = new Set<string>();
    for (const item of parsed) {
      const { row, data } = item;
      try {
        let match: Prospect | undefined;
        if (operation !== 'Create') {
          if (data.id !== undefined) {
            if (!/^\d{1,15}$/.test(data.id)) throw new MarketingError(3);
            match = await prospects.read(unit.id, Number(data.id));
            if (match.isDeleted) throw new MarketingError(219);
          } else if (data.crmId !== undefined) {
            match = crmMatches.get(data.crmId);
          } else {
            match = matches.get(emailOf(data).toLowerCase());
            if (!match && creating.has(emailOf(data).toLowerCase())) {
              later.push(item);
              continue;
            }
          }
        }
        if (match) {
          await prospects.update(unit, actor, match.id, data.values);
          updated++;
        } else if (operation === 'Update') {
          throw new MarketingError(3, 'No prospect matches this row');
        } else {
          if (operation === 'Upsert') creating.add(emailOf(data).toLowerCase());
          toCreate.push(item);
        }
      } catch (error) {
        fail(row, error);
      }
    }

    const results = await prospects.createMany(
      unit,
      actor,
      toCreate.map((item) => item.data.values),
    );
    const createdByEmail = new Map<string, Prospect>();
    results.forEach((result, i) => {
      if (isMarketingError(result)) return fail(toCreate[i]!.row, result);
      created++;
      createdByEmail.set(String(result.values.email).toLowerCase(), result);
    });
    for (const { row, data } of later) {
      const target = createdByEmail.get(emailOf(data).toLowerCase());
      try {
        if (!target) throw new MarketingError(3, 'No prospect matches this row');
        await prospects.update(unit, actor, target.id, data.values);
        updated++;
      } catch (error) {
        fail(row, error);
      }
    }
    return { created, updated, errors };
  }
}
