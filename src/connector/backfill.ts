import { stringify } from 'csv-stringify/sync';
import type jsforce from 'jsforce';
import type { AccountEngagementClient, ProspectRecord } from '../clients/account-engagement/ae-client.js';
import type { Database } from '../store/database.js';
import { isShared } from './domain/change-priority.js';
import { syncValue } from './domain/decide-field.js';
import { crmFieldValue } from './domain/derived-fields.js';
import { crmIdField, type CrmObject } from './domain/field-mapping.js';
import * as store from './store/link-store.js';
import * as queue from './store/work-queue.js';
import type { SyncEngine } from './sync-engine.js';
import { emptyPassResult, type CrmRecord, type PassResult } from './sync-types.js';
import { soqlString } from '../clients/salesforce/soql.js';

/** CRM records read and imported at a time: one import batch, a resumable step. */
const CHUNK = 10_000;

export interface BackfillProgress {
  object: CrmObject;
  /** Records of the object looked at so far (this run and earlier ones), and in all. */
  done: number;
  total: number;
  /** Prospects made or found by CRM id through imports, and linked. */
  linked: number;
  /** Records matched to an existing prospect by email: queued for the sync to link. */
  queued: number;
  /** Records left alone: no email, or outside the data-sharing rule. */
  skipped: number;
}

export interface BackfillResult extends PassResult {
  linked: number;
  skipped: number;
  /** Calls the backfill made to the marketing API. */
  marketingCalls: number;
}

export interface BackfillOptions {
  database: Database;
  crm: jsforce.Connection;
  marketing: AccountEngagementClient;
  unitId: string;
  engine: SyncEngine;
  now: () => Date;
  onProgress?: (progress: BackfillProgress) => void;
  /** Records a step (default 10,000). */
  chunkSize?: number;
}

/**
 * The initial sync of everything already in the CRM: every Lead and Contact without a prospect
 * gets one, through v5 imports (10,000 rows a batch) rather than one call a record, and is
 * linked; records whose email already has an unlinked prospect are queued for the sync, which
 * links them by email as it does new records. Assigned prospects without a CRM record are queued
 * as hand-offs. A cursor (the last CRM id done) is saved after each chunk, so a stopped
 * backfill goes on where it stopped; a chunk done twice matches on its CRM ids, never doubling.
 */
export async function backfill(options: BackfillOptions): Promise<BackfillResult> {
  const { database, unitId, now } = options;
  const result: BackfillResult = {
    ...emptyPassResult(),
    linked: 0,
    skipped: 0,
    marketingCalls: 0,
  };
  const callsBefore = options.marketing.callsSent;
  // The regular capture starts from here if it never ran: what changes during the backfill
  // is the sync's, what was there before is the backfill's.
  for (const side of ['Lead', 'Contact', 'marketing']) {
    const name = `${unitId}:${side}`;
    if (!(await store.selectCursor(database.db, name)))
      await store.saveCursor(database.db, name, now().toISOString());
  }
  const byEmail = await unlinkedProspectsByEmail(options, result);
  for (const object of ['Lead', 'Contact'] as const) await backfillObject(options, object, byEmail, result);
  result.marketingCalls = options.marketing.callsSent - callsBefore;
  await store.markBackfillDone(database.db, unitId, now().toISOString());
  return result;
}

/**
 * Every prospect not linked yet, by email (lower case), read once through v5 paging; assigned
 * ones without a CRM record are queued as hand-offs on the way.
 */
async function unlinkedProspectsByEmail(
  options: BackfillOptions,
  result: BackfillResult,
): Promise<Map<string, number>> {
  const { database, unitId, marketing, engine, now } = options;
  const prospects = await marketing.prospectsUpdatedSince('1970-01-01T00:00:00.000Z', [
    'id',
    'email',
    'assignedToId',
    'salesforceId',
  ]);
  const linked = await store.selectLinkedProspectIds(database.db, unitId);
  const byEmail = new Map<string, number>();
  const handoffs: queue.NewWorkItem[] = [];
  for (const p of prospects) {
    if (linked.has(p.id) || p.isDeleted === true) continue;
    if (typeof p.email === 'string' && !p.salesforceId) byEmail.set(p.email.toLowerCase(), p.id);
    if (p.assignedToId && !p.salesforceId && engine.rules.createLeads === 'assigned')
      handoffs.push({ key: `prospect:${p.id}`, priority: queue.PRIORITY.handoff, payload: null });
  }
  await queue.enqueue(database, unitId, handoffs, now().toISOString());
  result.queued += handoffs.length;
  return byEmail;
}

/** One step of a backfill: a chunk of CRM records, and the pairs its import made (once done). */
interface Step {
  records: CrmRecord[];
  queued: number;
  skipped: number;
  /** The import's pairs to decide and link; resolves once the import is read back. */
  imported: Promise<ImportedPairs>;
}

async function backfillObject(
  options: BackfillOptions,
  object: CrmObject,
  byEmail: Map<string, number>,
  result: BackfillResult,
): Promise<void> {
  const { database, unitId, crm, engine, now } = options;
  const cursorName = `${unitId}:backfill:${object}`;
  const after = (await store.selectCursor(database.db, cursorName)) ?? '';
  if (after === 'done') return;
  // Converted Leads are their Contacts now. SOQL reads '' as null: the first step has no Id bound.
  const conditions = (bound: string) =>
    [bound, object === 'Lead' ? 'IsConverted = false' : ''].filter(Boolean).join(' AND ');
  const where = (bound: string) => (conditions(bound) ? `WHERE ${conditions(bound)}` : '');
  const total = (await crm.query(`SELECT COUNT() FROM ${object} ${where('')}`)).totalSize;
  let done = after
    ? (await crm.query(`SELECT COUNT() FROM ${object} ${where(`Id <= ${soqlString(after)}`)}`)).totalSize
    : 0;
  const progress = { object, done, total, linked: 0, queued: 0, skipped: 0 };
  options.onProgress?.({ ...progress });
  const fields = engine.fields.crm(object);
  const chunk = options.chunkSize ?? CHUNK;
  const sinceName = `${unitId}:backfill-since:${object}`;
  const since = await store.selectCursor(database.db, sinceName);
  const readBack: ReadBack = {
    since: since ?? null,
    // An earlier run stopped: its last import may have written rows this run imports again.
    earlierRun: since !== undefined,
    save: (at) => store.saveCursor(database.db, sinceName, at),
  };
  /**
   * The import before this one: imports go one at a time, each read back on its own, and none
   * starts after one has failed (the run is ending with that failure).
   */
  let lastImport: Promise<unknown> = Promise.resolve();

  /** Reads the chunk after `bound`, queues its email matches and starts its import. */
  const prepare = async (bound: string): Promise<Step | null> => {
    const records = (
      await crm.query<CrmRecord>(
        `SELECT ${fields.join(', ')} FROM ${object} ${where(bound ? `Id > ${soqlString(bound)}` : '')} ORDER BY Id LIMIT ${chunk}`,
        { autoFetch: true, maxFetch: chunk },
      )
    ).records;
    if (records.length === 0) return null;
    const linked = await store.selectLinkedCrmIds(
      database.db,
      unitId,
      records.map((r) => r.Id),
    );
    const toImport: CrmRecord[] = [];
    const toQueue: queue.NewWorkItem[] = [];
    let skipped = 0;
    for (const record of records) {
      const email = typeof record.Email === 'string' ? record.Email.toLowerCase() : '';
      if (linked.has(record.Id)) continue;
      if (!email || !isShared(record, engine.rules.sharing)) {
        skipped += 1;
      } else if (byEmail.has(email)) {
        // An existing prospect: the sync links by email, as for any new record.
        byEmail.delete(email);
        toQueue.push({ key: `${object}:${record.Id}`, priority: queue.PRIORITY.change, payload: record });
      } else {
        toImport.push(record);
      }
    }
    await queue.enqueue(database, unitId, toQueue, now().toISOString());
    const imported = lastImport.then(() =>
      toImport.length > 0
        ? importChunk(options, object, toImport, readBack, result)
        : { pairs: [], refused: [] },
    );
    // Met when its step is awaited; a step left in flight by a failure must not count as unhandled.
    imported.catch(() => undefined);
    lastImport = imported;
    return { records, queued: toQueue.length, skipped, imported };
  };

  // Steps overlap: while one step's pairs are decided and written back to the CRM, the next
  // chunk is read and imported. The cursor moves only once a step is linked, so a stop redoes
  // at most the steps in flight, which match their prospects by CRM id.
  let step = await prepare(after);
  while (step) {
    const next = prepare(step.records[step.records.length - 1]!.Id);
    // Its failure is met when it is awaited below; until then it must not count as unhandled.
    next.catch(() => undefined);
    const { pairs, refused } = await step.imported;
    await engine.reconcilePairs(pairs, result);
    result.errors.push(...refused);
    progress.linked += pairs.length;
    progress.queued += step.queued;
    progress.skipped += step.skipped;
    await store.saveCursor(database.db, cursorName, step.records[step.records.length - 1]!.Id);
    done += step.records.length;
    progress.done = done;
    options.onProgress?.({ ...progress });
    step = await next;
  }
  await store.saveCursor(database.db, cursorName, 'done');
  result.linked += progress.linked;
  result.queued += progress.queued;
  result.skipped += progress.skipped;
}

/** The live prospect carrying this CRM id, by the v3/v4 fid read (the unit answers in one of them). */
async function findByCrmId(
  marketing: AccountEngagementClient,
  crmId: string,
  fields: string[],
): Promise<ProspectRecord | undefined> {
  let found: { id: number } | undefined;
  try {
    found = await marketing.prospectByFid(crmId, 4);
  } catch {
    found = await marketing.prospectByFid(crmId, 3);
  }
  if (!found) return undefined;
  const prospect = await marketing.readProspect(found.id, fields);
  return prospect.isDeleted === true ? undefined : prospect;
}

interface ImportedPairs {
  pairs: Pair[];
  /** What the import refused, as sync errors. */
  refused: BackfillResult['errors'];
}

type Pair = Parameters<SyncEngine['reconcilePairs']>[0][number];

/** Where an object's imports are read back from, besides each import's own start. */
interface ReadBack {
  /** When the object's first import began, by the marketing engine's clock (kept in a cursor). */
  since: string | null;
  /** Whether an earlier run may have imported rows of this run's first steps; cleared once read. */
  earlierRun: boolean;
  save(at: string): Promise<void>;
}

/**
 * One import of the records (upsert keyed by the CRM id, which the connector's imports also
 * write), then the prospects it made read back by their CRM ids: the pairs to link, each to be
 * decided as the sync would (the score and grade going back to the CRM).
 */
async function importChunk(
  options: BackfillOptions,
  object: CrmObject,
  records: CrmRecord[],
  readBack: ReadBack,
  result: BackfillResult,
): Promise<ImportedPairs> {
  const { unitId, marketing, engine } = options;
  const mappings = engine.mappings[object].filter((m) => m.direction !== 'marketing-to-crm');
  const idColumn = crmIdField(object);
  // Every prospect is made with its record's email, whichever way the email mapping goes.
  const fields = [...new Set(['email', ...mappings.map((m) => m.prospectField)])];
  const header = ['salesforceId', idColumn, ...fields];
  const crmFieldOf = (field: string) =>
    mappings.find((m) => m.prospectField === field)?.crmField ?? (field === 'email' ? 'Email' : field);
  const rows = records.map((record) => [
    record.Id,
    record.Id,
    ...fields.map((field) => syncValue(crmFieldValue(record, crmFieldOf(field))) ?? ''),
  ]);
  const job = await marketing.startImport(stringify([header, ...rows]), 'Upsert');
  if (readBack.since === null) {
    readBack.since = job.createdAt;
    await readBack.save(job.createdAt);
  }
  const finished = await marketing.waitForImport(job.id, 50);
  result.created += finished.createdCount;
  // The import's own clock says where to read from: every row it wrote is updated since.
  const readFields = [...engine.fields.prospect(), 'salesforceId'];
  const byCrmId = new Map<string, ProspectRecord>();
  const keep = (written: ProspectRecord[]) => {
    for (const p of written) if (typeof p.salesforceId === 'string') byCrmId.set(p.salesforceId, p);
  };
  keep(await marketing.prospectsUpdatedSince(job.createdAt, readFields));
  // Rows this import matched with nothing to change: a stopped run's last import wrote them (it
  // runs beside the step before it, so a stop usually leaves one done and not linked). Read
  // once from the object's first import, where a lookup each would cost two calls a row.
  if (readBack.earlierRun && readBack.since && records.some((r) => !byCrmId.has(r.Id))) {
    readBack.earlierRun = false;
    keep(await marketing.prospectsUpdatedSince(readBack.since, readFields));
  }
  const pairs: Pair[] = [];
  for (const record of records) {
    // Still not found: a row the import refused, or one written before the object's first
    // import began (a record matched on a first start). Found by its CRM id, one call each.
    const prospect =
      byCrmId.get(record.Id) ?? (await findByCrmId(marketing, record.Id, engine.fields.prospect()));
    if (!prospect) continue;
    pairs.push({
      link: { unitId, crmObject: object, crmId: record.Id, prospectId: prospect.id, lastSynced: {} },
      record,
      prospect,
    });
  }
  const refused = records.length - pairs.length;
  // A row the import refused (in a unit with one prospect per email, an email another linked
  // prospect has): left unlinked, and said.
  const errors: BackfillResult['errors'] =
    refused > 0
      ? [
          {
            side: 'marketing',
            record: `${object} ×${refused}`,
            message: `import ${job.id} refused ${refused} rows; GET /api/v5/imports/${job.id}/errors lists them`,
          },
        ]
      : [];
  return { pairs, refused: errors };
}
