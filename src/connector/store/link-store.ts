// Over 400 lines on purpose: every table of the connector's own state beside the cursors (links, sync errors, API usage, pause, first start, saved settings, change-event gaps), each a few small queries.
import { sql } from 'kysely';
import type { Database, StoreDb } from '../../store/database.js';
import type { SyncValue } from '../domain/decide-field.js';
import { CRM_KEY_PREFIXES, type CrmObject } from '../domain/field-mapping.js';
import { errorHint } from '../domain/sync-error.js';

type Row = Record<string, unknown>;

export interface Link {
  unitId: string;
  crmObject: CrmObject;
  crmId: string;
  prospectId: number;
  /** prospect field → its value when last synced. */
  lastSynced: Record<string, SyncValue>;
  /**
   * Values the CRM refused for good (prospect field → value): not sent again until the field's
   * value changes or someone retries the error.
   */
  refused?: Record<string, SyncValue>;
  /** Both records are in their recycle bins (the deletion was synced). */
  deleted?: boolean;
  /** When the connector last saved the pair (ISO). */
  updatedAt?: string;
}

function linkFromRow(row: Row): Link {
  return {
    unitId: String(row.unit_id),
    crmObject: String(row.crm_object) as CrmObject,
    crmId: String(row.crm_id),
    prospectId: Number(row.prospect_id),
    lastSynced: JSON.parse(String(row.last_synced)) as Record<string, SyncValue>,
    ...(row.refused ? { refused: JSON.parse(String(row.refused)) as Record<string, SyncValue> } : {}),
    deleted: Number(row.deleted) === 1,
    updatedAt: String(row.updated_at),
  };
}

export async function selectLinkByCrmId(
  db: StoreDb,
  unitId: string,
  crmId: string,
): Promise<Link | undefined> {
  const r =
    await sql<Row>`select * from connector_link where unit_id = ${unitId} and crm_id = ${crmId}`.execute(db);
  return r.rows[0] ? linkFromRow(r.rows[0]) : undefined;
}

export async function selectLinkByProspect(
  db: StoreDb,
  unitId: string,
  prospectId: number,
): Promise<Link | undefined> {
  const r =
    await sql<Row>`select * from connector_link where unit_id = ${unitId} and prospect_id = ${prospectId}`.execute(
      db,
    );
  return r.rows[0] ? linkFromRow(r.rows[0]) : undefined;
}

/** The links of these CRM records, by CRM id: 500 ids a query, for a pass's many records. */
export function selectLinksByCrmIds(
  db: StoreDb,
  unitId: string,
  crmIds: readonly string[],
): Promise<Map<string, Link>> {
  return selectLinksBy(db, unitId, 'crm_id', crmIds, (link) => link.crmId);
}

/** The links of these prospects, by prospect id: 500 ids a query. */
export function selectLinksByProspectIds(
  db: StoreDb,
  unitId: string,
  prospectIds: readonly number[],
): Promise<Map<number, Link>> {
  return selectLinksBy(db, unitId, 'prospect_id', prospectIds, (link) => link.prospectId);
}

async function selectLinksBy<K extends string | number>(
  db: StoreDb,
  unitId: string,
  column: 'crm_id' | 'prospect_id',
  values: readonly K[],
  keyOf: (link: Link) => K,
): Promise<Map<K, Link>> {
  const found = new Map<K, Link>();
  const ids = [...new Set(values)];
  for (let i = 0; i < ids.length; i += 500) {
    const r = await sql<Row>`select * from connector_link where unit_id = ${unitId}
      and ${sql.ref(column)} in (${sql.join(ids.slice(i, i + 500))})`.execute(db);
    for (const row of r.rows) {
      const link = linkFromRow(row);
      found.set(keyOf(link), link);
    }
  }
  return found;
}

/**
 * Creates or replaces the link of a prospect (a relink after lead conversion replaces the CRM
 * side). Another connector process may be reading the pair meanwhile, so it never sees the link
 * missing: a pair already linked is updated in place, one statement; a new or changed pair is
 * replaced in one transaction. (Between a delete and an insert committed apart, a reader found
 * no link and made the record a second prospect.)
 */
export async function saveLink(db: StoreDb, link: Link, at: string): Promise<void> {
  const updated = await sql`update connector_link set crm_object = ${link.crmObject},
      last_synced = ${JSON.stringify(link.lastSynced)}, refused = ${refusedColumn(link.refused)},
      deleted = ${link.deleted ? 1 : 0}, updated_at = ${at}
    where unit_id = ${link.unitId} and prospect_id = ${link.prospectId} and crm_id = ${link.crmId}`.execute(
    db,
  );
  if (Number(updated.numAffectedRows ?? 0) > 0) return;
  if (db.isTransaction) await replaceLinks(db, [link], at);
  else await db.transaction().execute((trx) => replaceLinks(trx, [link], at));
}

/** Replaces the links of these prospects and CRM records (at most 100, of one unit) by these. */
async function replaceLinks(db: StoreDb, links: readonly Link[], at: string): Promise<void> {
  const unitId = links[0]!.unitId;
  // Two deletes, not one with `prospect_id in (…) or crm_id in (…)`: SQLite answers that OR by
  // scanning all the unit's links (28 ms a statement at 100,000 links), each of these by its index.
  await sql`delete from connector_link where unit_id = ${unitId}
    and prospect_id in (${sql.join(links.map((l) => l.prospectId))})`.execute(db);
  await sql`delete from connector_link where unit_id = ${unitId}
    and crm_id in (${sql.join(links.map((l) => l.crmId))})`.execute(db);
  const rows = links.map(
    (l) =>
      sql`(${l.unitId}, ${l.crmObject}, ${l.crmId}, ${l.prospectId}, ${JSON.stringify(l.lastSynced)}, ${refusedColumn(l.refused)}, ${l.deleted ? 1 : 0}, ${at})`,
  );
  await sql`insert into connector_link (unit_id, crm_object, crm_id, prospect_id, last_synced, refused, deleted, updated_at)
    values ${sql.join(rows)}`.execute(db);
}

/** A link's refused values as stored: none is null, so the column costs nothing for most pairs. */
function refusedColumn(refused: Record<string, SyncValue> | undefined): string | null {
  return refused && Object.keys(refused).length > 0 ? JSON.stringify(refused) : null;
}

/** Forgets what the CRM refused for these records: their next try sends it again (a retry). */
export async function clearRefused(db: StoreDb, unitId: string, crmIds: readonly string[]): Promise<void> {
  if (crmIds.length === 0) return;
  await sql`update connector_link set refused = null
    where unit_id = ${unitId} and crm_id in (${sql.join([...crmIds])})`.execute(db);
}

/** Forgets a link (its CRM record was merged away). */
export async function deleteLink(db: StoreDb, unitId: string, crmId: string): Promise<void> {
  await sql`delete from connector_link where unit_id = ${unitId} and crm_id = ${crmId}`.execute(db);
}

/** Saves many links at once, as `saveLink` does each, in one transaction. */
export async function saveLinks(database: Database, links: readonly Link[], at: string): Promise<void> {
  if (links.length === 0) return;
  await database.db.transaction().execute(async (trx) => {
    for (let i = 0; i < links.length; i += 100) await replaceLinks(trx, links.slice(i, i + 100), at);
  });
}

/** Which of these CRM ids are linked. */
export async function selectLinkedCrmIds(
  db: StoreDb,
  unitId: string,
  crmIds: readonly string[],
): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < crmIds.length; i += 500) {
    const chunk = crmIds.slice(i, i + 500);
    const r = await sql<Row>`select crm_id from connector_link where unit_id = ${unitId}
      and crm_id in (${sql.join(chunk)})`.execute(db);
    for (const row of r.rows) found.add(String(row.crm_id));
  }
  return found;
}

/** A link without its synced state: which records it pairs. */
export type LinkKey = Pick<Link, 'crmObject' | 'crmId' | 'prospectId' | 'deleted'> & {
  /** The connector saved the pair at or after the `since` it was read with. */
  savedSince?: true;
};

/**
 * Every link of the unit without its synced state, 5,000 a query in CRM id order: a verify's
 * whole set, kept small (a million links fit in memory; their states are read where they differ).
 * Links saved at or after `since` are marked: a verify that started reading the records then
 * may hold a pair's records from before the sync moved or made it.
 */
export async function selectLinkKeys(db: StoreDb, unitId: string, since: string): Promise<LinkKey[]> {
  const keys: LinkKey[] = [];
  for (let after = ''; ;) {
    const r = await sql<Row>`select crm_object, crm_id, prospect_id, deleted, updated_at from connector_link
      where unit_id = ${unitId} and crm_id > ${after} order by crm_id limit 5000`.execute(db);
    for (const row of r.rows)
      keys.push({
        crmObject: String(row.crm_object) as CrmObject,
        crmId: String(row.crm_id),
        prospectId: Number(row.prospect_id),
        deleted: Number(row.deleted) === 1,
        ...(String(row.updated_at) >= since ? { savedSince: true as const } : {}),
      });
    if (r.rows.length < 5000) return keys;
    after = keys[keys.length - 1]!.crmId;
  }
}

/** Every linked prospect id of the unit. */
export async function selectLinkedProspectIds(db: StoreDb, unitId: string): Promise<Set<number>> {
  const r = await sql<Row>`select prospect_id from connector_link where unit_id = ${unitId}`.execute(db);
  return new Set(r.rows.map((row) => Number(row.prospect_id)));
}

export async function countLinks(db: StoreDb, unitId: string): Promise<number> {
  const r = await sql<Row>`select count(*) as n from connector_link where unit_id = ${unitId}`.execute(db);
  return Number(r.rows[0]?.n ?? 0);
}

/**
 * Linked pairs by CRM object: a range of the unique index on the CRM id a prefix, so no row is
 * read (grouping by object or by prefix reads them all: ten times slower at a million).
 */
export async function countLinksByObject(db: StoreDb, unitId: string): Promise<Record<CrmObject, number>> {
  const counts: Record<CrmObject, number> = { Lead: 0, Contact: 0 };
  for (const [prefix, object] of Object.entries(CRM_KEY_PREFIXES)) {
    // The prefix's last character, one up: the first id past the prefix.
    const past = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    const r = await sql<Row>`select count(*) as n from connector_link
      where unit_id = ${unitId} and crm_id >= ${prefix} and crm_id < ${past}`.execute(db);
    counts[object] += Number(r.rows[0]?.n ?? 0);
  }
  return counts;
}

export async function selectCursor(db: StoreDb, name: string): Promise<string | undefined> {
  const r = await sql<Row>`select value from connector_cursor where name = ${name}`.execute(db);
  return r.rows[0] ? String(r.rows[0].value) : undefined;
}

export async function saveCursor(db: StoreDb, name: string, value: string): Promise<void> {
  await sql`insert into connector_cursor (name, value) values (${name}, ${value})
    on conflict (name) do update set value = excluded.value`.execute(db);
}

// ---- sync errors ------------------------------------------------------------------------------

export interface SyncError {
  id: number;
  unitId: string;
  /** The side that refused the write. */
  side: 'crm' | 'marketing';
  crmObject: CrmObject;
  crmId: string | null;
  prospectId: number | null;
  fields: string[];
  category: string;
  code: string | null;
  message: string;
  /** What the refused write carried (field → value). */
  values: Record<string, unknown>;
  /** What to do about it (by its category). */
  hint: string;
  /** Whom it concerns, as the records said when it was refused. */
  person: { name: string | null; email: string | null };
  /** How many times the write was refused for this reason (a retry refused again counts). */
  tries: number;
  /** open → retry (asked for) → resolved (a later write went through) or skipped. */
  state: 'open' | 'retry' | 'resolved' | 'skipped';
  /** Since when it stands: the first refusal for this reason. */
  createdAt: string;
  updatedAt: string;
}

/** What a new refusal says; the rest (id, state, tries, times) the store keeps. */
export type NewSyncError = Omit<
  SyncError,
  'id' | 'state' | 'createdAt' | 'updatedAt' | 'tries' | 'values' | 'person' | 'hint'
> &
  Partial<Pick<SyncError, 'values' | 'person'>>;

function errorFromRow(row: Row): SyncError {
  return {
    id: Number(row.id),
    unitId: String(row.unit_id),
    side: String(row.side) as SyncError['side'],
    crmObject: String(row.crm_object) as CrmObject,
    crmId: row.crm_id === null ? null : String(row.crm_id),
    prospectId: row.prospect_id === null ? null : Number(row.prospect_id),
    fields: row.fields ? (JSON.parse(String(row.fields)) as string[]) : [],
    category: String(row.category),
    code: row.code === null ? null : String(row.code),
    message: String(row.message),
    hint: errorHint(String(row.category)),
    values: row.refused_values ? (JSON.parse(String(row.refused_values)) as Record<string, unknown>) : {},
    person: row.person
      ? (JSON.parse(String(row.person)) as SyncError['person'])
      : { name: null, email: null },
    tries: Number(row.tries ?? 1),
    state: String(row.state) as SyncError['state'],
    createdAt: String(row.created_at),
    updatedAt: String(row.updated_at),
  };
}

/** The record's unresolved errors on a side (by CRM id, or by prospect id for a Lead not made). */
function unresolvedOf(error: Pick<SyncError, 'unitId' | 'side' | 'crmId' | 'prospectId'>) {
  return sql`unit_id = ${error.unitId} and side = ${error.side} and state in ('open', 'retry')
    and ${error.crmId !== null ? sql`crm_id = ${error.crmId}` : sql`crm_id is null and prospect_id = ${error.prospectId}`}`;
}

/**
 * Records a refused write. Refused again for the same reason (a retry, or a changed value the
 * rule still refuses), the record's error stays the same one — its id and since — with its
 * count of tries up; for another reason it replaces the earlier error. Returns the error's id.
 */
export async function recordSyncError(db: StoreDb, error: NewSyncError, at: string): Promise<number> {
  const values = JSON.stringify(error.values ?? {});
  const person = JSON.stringify(error.person ?? { name: null, email: null });
  const r =
    await sql<Row>`update connector_sync_error set state = 'open', updated_at = ${at}, tries = tries + 1,
      fields = ${JSON.stringify(error.fields)}, refused_values = ${values}, person = ${person}
    where ${unresolvedOf(error)} and code is not distinct from ${error.code} and message = ${error.message}
    returning id`.execute(db);
  if (r.rows[0]) return Number(r.rows[0].id);
  await sql`update connector_sync_error set state = 'skipped', updated_at = ${at} where ${unresolvedOf(error)}`.execute(
    db,
  );
  const inserted =
    await sql<Row>`insert into connector_sync_error (unit_id, side, crm_object, crm_id, prospect_id, fields, category, code, message, state, created_at, updated_at, refused_values, person, tries)
    values (${error.unitId}, ${error.side}, ${error.crmObject}, ${error.crmId}, ${error.prospectId}, ${JSON.stringify(error.fields)},
      ${error.category}, ${error.code}, ${error.message}, 'open', ${at}, ${at}, ${values}, ${person}, 1)
    returning id`.execute(db);
  return Number(inserted.rows[0]!.id);
}

/**
 * The standing error of a Lead that could not be made for a prospect: the values it carried and the
 * fields the CRM named, so a prospect that changes in other ways is not sent again with them.
 */
export async function refusedLead(
  db: StoreDb,
  unitId: string,
  prospectId: number,
): Promise<{ values: Record<string, unknown>; fields: string[] } | undefined> {
  // The latest word on it: open or skipped holds the values back; a retry asked, or a Lead
  // made since (resolved), does not.
  const r = await sql<Row>`select refused_values, fields, state from connector_sync_error
    where unit_id = ${unitId} and side = 'crm' and crm_id is null and prospect_id = ${prospectId}
    order by id desc limit 1`.execute(db);
  const row = r.rows[0];
  if (!row?.refused_values || !['open', 'skipped'].includes(String(row.state))) return undefined;
  return {
    values: JSON.parse(String(row.refused_values)) as Record<string, unknown>,
    fields: row.fields ? (JSON.parse(String(row.fields)) as string[]) : [],
  };
}

/** Writes to these records went through: their unresolved errors are resolved. */
export async function resolveSyncErrors(
  db: StoreDb,
  unitId: string,
  crmIds: readonly string[],
  at: string,
): Promise<void> {
  for (let i = 0; i < crmIds.length; i += 500) {
    await sql`update connector_sync_error set state = 'resolved', updated_at = ${at}
      where unit_id = ${unitId} and crm_id in (${sql.join(crmIds.slice(i, i + 500))}) and state in ('open', 'retry')`.execute(
      db,
    );
  }
}

/** Records whose retry was asked and has now been worked without a new refusal: resolved. */
export async function resolveRetriedErrors(
  db: StoreDb,
  unitId: string,
  recordIds: readonly string[],
  at: string,
): Promise<void> {
  if (recordIds.length === 0) return;
  const prospectIds = recordIds.filter((id) => /^\d+$/.test(id)).map(Number);
  await sql`update connector_sync_error set state = 'resolved', updated_at = ${at}
    where unit_id = ${unitId} and state = 'retry'
      and (crm_id in (${sql.join([...recordIds])}) or prospect_id in (${sql.join(prospectIds.length ? prospectIds : [-1])}))`.execute(
    db,
  );
}

export async function selectSyncErrors(
  db: StoreDb,
  unitId: string,
  states: ReadonlyArray<SyncError['state']>,
  limit?: number,
): Promise<SyncError[]> {
  const r = await sql<Row>`select * from connector_sync_error where unit_id = ${unitId}
    and state in (${sql.join([...states])}) order by id${limit === undefined ? sql`` : sql` limit ${limit}`}`.execute(
    db,
  );
  return r.rows.map(errorFromRow);
}

/** Asks for another try of open errors (all, or the given ids). */
export async function markForRetry(
  db: StoreDb,
  unitId: string,
  ids: number[] | 'all',
  at: string,
): Promise<number> {
  const which = ids === 'all' ? sql`` : sql` and id in (${sql.join(ids.length ? ids : [-1])})`;
  const r = await sql`update connector_sync_error set state = 'retry', updated_at = ${at}
    where unit_id = ${unitId} and state = 'open'${which}`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

/**
 * Gives up on open errors (all, or by id): the record stays as it is, its refused values held
 * back, until one of them changes.
 */
export async function skipSyncErrors(
  db: StoreDb,
  unitId: string,
  ids: number[] | 'all',
  at: string,
): Promise<number> {
  const which = ids === 'all' ? sql`` : sql` and id in (${sql.join(ids.length ? ids : [-1])})`;
  const r = await sql`update connector_sync_error set state = 'skipped', updated_at = ${at}
    where unit_id = ${unitId} and state in ('open', 'retry')${which}`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

/** A backfill's progress is its cursors: without them the next one starts at the beginning. */
export async function forgetBackfill(db: StoreDb, unitId: string): Promise<void> {
  await sql`delete from connector_cursor where name like ${`${unitId}:backfill:%`} or name like ${`${unitId}:backfill-since:%`}`.execute(
    db,
  );
}

export async function selectCursors(
  db: StoreDb,
  prefix: string,
): Promise<Array<{ name: string; value: string }>> {
  const r =
    await sql<Row>`select name, value from connector_cursor where name like ${`${prefix}%`} order by name`.execute(
      db,
    );
  return r.rows.map((row) => ({ name: String(row.name).slice(prefix.length), value: String(row.value) }));
}

export async function countSyncErrorsByCategory(
  db: StoreDb,
  unitId: string,
): Promise<Record<string, number>> {
  const r = await sql<Row>`select category, count(*) as n from connector_sync_error
    where unit_id = ${unitId} and state in ('open', 'retry') group by category`.execute(db);
  return Object.fromEntries(r.rows.map((row) => [String(row.category), Number(row.n)]));
}

// ---- API usage ---------------------------------------------------------------------------------

export interface ApiUsage {
  used: number;
  limit: number;
  /** The connector's share of the limit. */
  share: number;
  at: string;
}

/** The CRM API usage a connector last saw, beside the cursors. */
export async function saveApiUsage(db: StoreDb, unitId: string, usage: ApiUsage): Promise<void> {
  await saveCursor(db, `${unitId}#crm-api`, JSON.stringify(usage));
}

export async function selectApiUsage(db: StoreDb, unitId: string): Promise<ApiUsage | undefined> {
  const saved = await selectCursor(db, `${unitId}#crm-api`);
  return saved ? (JSON.parse(saved) as ApiUsage) : undefined;
}

// ---- pause -------------------------------------------------------------------------------------

/** Pause and resume are a flag beside the cursors: one row per paused unit. */
export async function isPaused(db: StoreDb, unitId: string): Promise<boolean> {
  return (await selectCursor(db, `${unitId}#paused`)) === 'true';
}

export async function setPaused(db: StoreDb, unitId: string, paused: boolean): Promise<void> {
  await saveCursor(db, `${unitId}#paused`, paused ? 'true' : 'false');
}

// ---- saved settings ----------------------------------------------------------------------------

/** The mappings and rules saved from the console (JSON), kept beside the cursors. */
export function selectSavedSettings(db: StoreDb, unitId: string): Promise<string | undefined> {
  return selectCursor(db, `${unitId}#settings`);
}

export function saveSettings(db: StoreDb, unitId: string, settings: string): Promise<void> {
  return saveCursor(db, `${unitId}#settings`, settings);
}

// ---- first start and backfill ------------------------------------------------------------------

/** Nothing captured and nothing linked yet for the unit: the connector has never run. */
export async function isFirstStart(db: StoreDb, unitId: string): Promise<boolean> {
  if ((await selectCursor(db, `${unitId}:Lead`)) !== undefined) return false;
  if ((await selectCursor(db, `${unitId}#first-start`)) !== undefined) return false;
  const r = await sql<Row>`select 1 as one from connector_link where unit_id = ${unitId} limit 1`.execute(db);
  return r.rows.length === 0;
}

/** When the connector first started: records made before then need a backfill. */
export async function markFirstStart(db: StoreDb, unitId: string, at: string): Promise<void> {
  await saveCursor(db, `${unitId}#first-start`, at);
}

export async function markBackfillDone(db: StoreDb, unitId: string, at: string): Promise<void> {
  await saveCursor(db, `${unitId}#backfill-done`, at);
}

/**
 * Whether records made before the connector's first start still wait for a backfill, and when
 * the last backfill finished.
 */
export async function selectBackfillState(
  db: StoreDb,
  unitId: string,
): Promise<{ needed: boolean; doneAt: string | null }> {
  const [firstStart, doneAt] = await Promise.all([
    selectCursor(db, `${unitId}#first-start`),
    selectCursor(db, `${unitId}#backfill-done`),
  ]);
  return { needed: firstStart !== undefined && doneAt === undefined, doneAt: doneAt ?? null };
}

// ---- change-event gaps -------------------------------------------------------------------------

/** The last time change events were lost (JSON of the gap), for status. */
export async function saveChangeEventGap(db: StoreDb, unitId: string, gap: object): Promise<void> {
  await saveCursor(db, `${unitId}#change-event-gap`, JSON.stringify(gap));
}

export async function selectChangeEventGap<T>(db: StoreDb, unitId: string): Promise<T | null> {
  const saved = await selectCursor(db, `${unitId}#change-event-gap`);
  return saved ? (JSON.parse(saved) as T) : null;
}
