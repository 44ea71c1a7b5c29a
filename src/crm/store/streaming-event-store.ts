import { sql } from 'kysely';
import type { StoreDb } from '../../store/database.js';

/** A generic streaming event as kept: its channel, when it was pushed, and its payload text. */
export interface StoredStreamingEvent {
  replayId: number;
  channel: string;
  createdMs: number;
  payload: string;
}

export async function insertStreamingEvents(
  db: StoreDb,
  events: Array<{ channel: string; createdMs: number; payload: string }>,
): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((e) => sql`(${e.channel}, ${e.createdMs}, ${e.payload})`);
  await sql`insert into crm_streaming_event (channel, created_ms, payload) values ${sql.join(rows)}`.execute(
    db,
  );
}

/** A channel's events after `replayId`, oldest first. */
export async function selectStreamingEventsAfter(
  db: StoreDb,
  channel: string,
  replayId: number,
  limit: number,
): Promise<StoredStreamingEvent[]> {
  const r = await sql<{
    replay_id: number | string;
    channel: string;
    created_ms: number | string;
    payload: string;
  }>`
    select replay_id, channel, created_ms, payload from crm_streaming_event
    where channel = ${channel} and replay_id > ${replayId}
    order by replay_id limit ${limit}`.execute(db);
  return r.rows.map((row) => ({
    replayId: Number(row.replay_id),
    channel: row.channel,
    createdMs: Number(row.created_ms),
    payload: row.payload,
  }));
}

/** The newest replay id of any channel (0 before the first event). */
export async function selectLastStreamingReplayId(db: StoreDb): Promise<number> {
  const r = await sql<{ last: number | string | null }>`
    select max(replay_id) as last from crm_streaming_event`.execute(db);
  return Number(r.rows[0]?.last ?? 0);
}

/** Drops events pushed before `createdMs`. */
export async function purgeStreamingEventsBefore(db: StoreDb, createdMs: number): Promise<number> {
  const r = await sql`delete from crm_streaming_event where created_ms < ${createdMs}`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}
