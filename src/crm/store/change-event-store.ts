import { sql } from 'kysely';
import type { StoreDb } from '../../store/database.js';
import type { StoreDialect } from '../../store/store-dialect.js';

export interface StoredChangeEvent {
  replayId: number;
  entity: string;
  /** The event body as JSON text: header and values, without the replay id. */
  payload: string;
}

export interface NewChangeEvent {
  entity: string;
  commitMs: number;
  payload: string;
}

// Arbitrary, fixed: the advisory lock that orders change-event commits on PostgreSQL.
const COMMIT_ORDER_LOCK = 724_310_001;
const ROWS_PER_STATEMENT = 2_000;

/** Appends events inside the writer's transaction; replay ids follow insertion (and commit) order. */
export async function insertChangeEvents(
  db: StoreDb,
  dialect: StoreDialect,
  events: NewChangeEvent[],
): Promise<void> {
  if (events.length === 0) return;
  const lock = dialect.transactionLock(COMMIT_ORDER_LOCK);
  if (lock) await lock.execute(db);
  for (let start = 0; start < events.length; start += ROWS_PER_STATEMENT) {
    const chunk = events.slice(start, start + ROWS_PER_STATEMENT);
    const rows = chunk.map((e) => sql`(${e.entity}, ${e.commitMs}, ${e.payload})`);
    await sql`insert into crm_change_event (entity, commit_ms, payload) values ${sql.join(rows)}`.execute(db);
  }
}

/** Events after `replayId`, oldest first, of the given entities (all when null). */
export async function selectChangeEventsAfter(
  db: StoreDb,
  replayId: number,
  entities: readonly string[] | null,
  limit: number,
): Promise<StoredChangeEvent[]> {
  const filter = entities === null ? sql`` : sql`and entity in (${sql.join(entities.map((e) => sql`${e}`))})`;
  const r = await sql<{ replay_id: number | string; entity: string; payload: string }>`
    select replay_id, entity, payload from crm_change_event
    where replay_id > ${replayId} ${filter}
    order by replay_id limit ${limit}`.execute(db);
  return r.rows.map((row) => ({ replayId: Number(row.replay_id), entity: row.entity, payload: row.payload }));
}

/**
 * The oldest and newest retained replay ids (0 and 0 before the first event). Two subqueries:
 * SQLite reads a lone min() or max() off the index's end, but both in one select scan the table.
 */
export async function selectReplayBounds(db: StoreDb): Promise<{ first: number; last: number }> {
  const r = await sql<{ first: number | string | null; last: number | string | null }>`
    select (select min(replay_id) from crm_change_event) as first,
      (select max(replay_id) from crm_change_event) as last`.execute(db);
  const row = r.rows[0];
  return { first: Number(row?.first ?? 0), last: Number(row?.last ?? 0) };
}

/**
 * Drops events committed before `commitMs`, always keeping the newest, so the latest replay id
 * stays known (a subscriber's saved id is then still recognised as current).
 */
export async function purgeChangeEventsBefore(db: StoreDb, commitMs: number): Promise<number> {
  const r = await sql`delete from crm_change_event where commit_ms < ${commitMs}
    and replay_id < (select max(replay_id) from crm_change_event)`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}
