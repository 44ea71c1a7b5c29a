import type { CompositeAnswer, CompositePart } from '../../clients/salesforce/composite-calls.js';
import type { SyncValue } from '../domain/decide-field.js';
import type { CrmObject } from '../domain/field-mapping.js';
import { classifyAnswer, refusalSummary, type SaveOutcome } from '../domain/crm-outcome.js';
import { categorize } from '../domain/sync-error.js';
import * as store from '../store/link-store.js';
import { appendSyncLog, type SyncLogEntry } from '../store/sync-log.js';
import type { SyncSetup } from '../sync-setup.js';
import { COLLECTION_SIZE, type PassResult } from '../sync-types.js';

/** From this many pending CRM writes on, they go as one Bulk API 2.0 job. */
const BULK_THRESHOLD = 2_000;

/** One decided CRM update, waiting to go out with others of its object. */
export interface CrmWrite {
  /** The work item the write belongs to: it is tried again if the write fails for now. */
  itemKey: string | null;
  link: store.Link;
  values: Record<string, unknown>;
  /** The link's state once the write is in, and if the CRM refuses it. */
  lastSynced: Record<string, SyncValue>;
  refusedState: Record<string, SyncValue>;
  /** What the write carries by prospect field: held back from then on if it is refused. */
  refusedValues: Record<string, SyncValue>;
  /** Values refused earlier and still held back (not part of this write). */
  stillRefused: Record<string, SyncValue>;
  /** Whom the write is about, for the sync-error list. */
  person: { name: string | null; email: string | null };
  /** What the write carries, for the sync log once the CRM has taken it. */
  log: SyncLogEntry[];
}

/** A Collections call another part of the sync sends with the writer's (Tasks), and how its answer is taken. */
export interface EnlistedCall {
  part: CompositePart;
  settle: (answer: CompositeAnswer) => Promise<void>;
}

/**
 * CRM updates in batches: held until the caller flushes, then sent 200 a Collections call, up
 * to five of those (with any enlisted calls, such as Tasks) in one Composite call — or, from
 * 2,000 of an object on, as one Bulk API 2.0 job — and each pair's link saved by its record's
 * answer. A refusal goes to the sync-error list; what failed for now is returned, by work
 * item, to be tried again.
 */
export class CrmWriter {
  private readonly pending: Record<CrmObject, CrmWrite[]> = { Lead: [], Contact: [] };
  private enlisted: EnlistedCall[] = [];

  constructor(private readonly setup: SyncSetup) {}

  add(object: CrmObject, write: CrmWrite): void {
    this.pending[object].push(write);
  }

  /** A Collections call to go out with the next flush, in the same Composite calls. */
  enlist(call: EnlistedCall): void {
    this.enlisted.push(call);
  }

  /**
   * Sends every pending write. Returns the work items whose write failed for now (a lock,
   * limits, no answer), with the reason; a failure of a write with no work item (a backfill's)
   * is thrown, to try the whole again.
   */
  async flush(result: PassResult): Promise<Map<string, string>> {
    const retry = new Map<string, string>();
    const batches: Array<{ object: CrmObject; batch: CrmWrite[] }> = [];
    for (const object of ['Lead', 'Contact'] as const) {
      const pending = this.pending[object].splice(0);
      if (pending.length >= BULK_THRESHOLD) {
        // A big backlog goes as one Bulk API 2.0 job, fewer calls than 200 records a call.
        let answers: SaveOutcome[] | Error;
        try {
          answers = await this.bulkUpdate(object, pending);
        } catch (error) {
          answers = error as Error;
        }
        await this.settle(object, pending, answers, true, result, retry);
        continue;
      }
      for (let i = 0; i < pending.length; i += COLLECTION_SIZE)
        batches.push({ object, batch: pending.slice(i, i + COLLECTION_SIZE) });
    }
    const enlisted = this.enlisted.splice(0);
    const parts: CompositePart[] = [
      ...batches.map(({ object, batch }): CompositePart => ({
        kind: 'update',
        object,
        records: batch.map((w) => ({ Id: w.link.crmId, ...w.values })),
      })),
      ...enlisted.map((call) => call.part),
    ];
    if (parts.length === 0) return retry;
    // Never thrown: a Composite call with no answer answers each of its parts with the error,
    // and those parts' items are tried again; the calls before it are settled as answered.
    const answers = await this.setup.salesforce.send(parts);
    for (const [i, { object, batch }] of batches.entries()) {
      const answer = answers[i]!;
      await this.settle(
        object,
        batch,
        answer.ok ? (answer.body as SaveOutcome[]) : answer.error,
        false,
        result,
        retry,
      );
    }
    for (const [i, call] of enlisted.entries()) await call.settle(answers[batches.length + i]!);
    return retry;
  }

  /** Takes one call's answers (or the error it got instead): links saved, refusals listed. */
  private async settle(
    object: CrmObject,
    batch: CrmWrite[],
    answers: SaveOutcome[] | Error,
    bulk: boolean,
    result: PassResult,
    retry: Map<string, string>,
  ): Promise<void> {
    const { crm, database, unitId, now } = this.setup.options;
    if (answers instanceof Error) {
      // No answer (5xx, timeout, limits): every item of the call is tried again later, and
      // decided afresh then, so a write the CRM did apply is not sent twice.
      for (const write of batch) {
        if (write.itemKey) retry.set(write.itemKey, answers.message);
        else throw answers;
      }
      result.errors.push({ side: 'crm', record: `${object} ×${batch.length}`, message: answers.message });
      return;
    }
    const at = now().toISOString();
    // The links by the answers, saved together (a bulk job answers thousands).
    const saves: store.Link[] = [];
    const written: string[] = [];
    const log: SyncLogEntry[] = [];
    const apiCall = bulk
      ? `Bulk API 2.0 ingest job (update ${object}, ${batch.length} records)`
      : `PATCH /services/data/v${crm.version}/composite/sobjects`;
    for (const [i, write] of batch.entries()) {
      const answer = answers[i];
      const outcome = classifyAnswer(answer);
      if (outcome === 'written') {
        result.writesToCrm += 1;
        // The record's error stands while a refused value is still held back.
        if (Object.keys(write.stillRefused).length === 0) written.push(write.link.crmId);
        saves.push({ ...write.link, lastSynced: write.lastSynced, refused: write.stillRefused });
        for (const entry of write.log) log.push({ ...entry, apiCall });
      } else if (outcome === 'refused') {
        // Refused: those fields stay unsynced, the values are held back (not sent again
        // until they change), and the refusal goes to the sync-error list until someone
        // retries it.
        const message = await this.recordRefusal(write.link, answer!, {
          fields: Object.keys(write.values),
          values: write.values,
          person: write.person,
        });
        result.errors.push({ side: 'crm', record: `${object} ${write.link.crmId}`, message });
        saves.push({
          ...write.link,
          lastSynced: write.refusedState,
          refused: { ...write.stillRefused, ...write.refusedValues },
        });
      } else {
        // Locked row, limits: nothing saved, so the item's next try decides and writes again.
        const message = answer?.errors?.[0]?.message ?? 'no answer';
        if (write.itemKey) retry.set(write.itemKey, message);
        result.errors.push({ side: 'crm', record: `${object} ${write.link.crmId}`, message });
      }
    }
    await store.resolveSyncErrors(database.db, unitId, written, at);
    await store.saveLinks(database, saves, at);
    await appendSyncLog(database, unitId, log, at);
  }

  /** Puts a CRM refusal on the sync-error list; returns its message. */
  async recordRefusal(
    at: { crmObject: CrmObject; crmId: string | null; prospectId: number | null },
    answer: SaveOutcome,
    write: {
      fields?: string[];
      values: Record<string, unknown>;
      person: { name: string | null; email: string | null };
    },
  ): Promise<string> {
    const { database, unitId, now } = this.setup.options;
    const refusal = refusalSummary(answer, write.fields ?? []);
    await store.recordSyncError(
      database.db,
      {
        unitId,
        side: 'crm',
        ...at,
        ...refusal,
        category: categorize(refusal.code),
        values: write.values,
        person: write.person,
      },
      now().toISOString(),
    );
    return refusal.message;
  }

  /**
   * Updates through a Bulk API 2.0 ingest job, answered per record as Collections would be: a
   * record the job did not process counts as a failure for now, to be tried again.
   */
  private bulkUpdate(object: CrmObject, batch: CrmWrite[]): Promise<SaveOutcome[]> {
    return this.setup.salesforce.bulkSave(
      { object, operation: 'update' },
      batch.map((w) => ({ Id: w.link.crmId, ...w.values })),
      // A null blanks the field (an empty cell would leave it as it is).
      { matchOn: 'Id', keyOf: (row) => String(row.Id), blankNulls: true },
    );
  }
}
