import { CompiledQuery, sql } from 'kysely';
import { cachedSql, statementChunks } from '../../store/compiled-statements.js';
import { claimNamedLease, releaseNamedLease } from '../../store/named-lease.js';
import type { StoreDb } from '../../store/database.js';
import type { SegmentMessage } from '../domain/segment-message.js';
import { destinationSettingsSchema, type Source } from '../domain/source.js';

type Row = Record<string, unknown>;

// ---- sources --------------------------------------------------------------------------------------

function sourceFromRow(row: Row): Source & { writeKeyHash: string } {
  return {
    id: String(row.id),
    name: String(row.name),
    settings: destinationSettingsSchema.parse(JSON.parse(String(row.settings))),
    createdAt: String(row.created_at),
    writeKeyHash: String(row.write_key_hash),
  };
}

export async function insertSource(db: StoreDb, source: Source, writeKeyHash: string): Promise<void> {
  await sql`insert into ingest_source (id, name, write_key_hash, settings, created_at)
    values (${source.id}, ${source.name}, ${writeKeyHash}, ${JSON.stringify(source.settings)}, ${source.createdAt})`.execute(
    db,
  );
}

export async function selectSources(db: StoreDb): Promise<Array<Source & { writeKeyHash: string }>> {
  const r = await sql<Row>`select * from ingest_source order by created_at, id`.execute(db);
  return r.rows.map(sourceFromRow);
}

export async function updateSourceKey(db: StoreDb, id: string, writeKeyHash: string): Promise<number> {
  const r = await sql`update ingest_source set write_key_hash = ${writeKeyHash} where id = ${id}`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

export async function updateSourceSettings(
  db: StoreDb,
  id: string,
  settings: Source['settings'],
): Promise<number> {
  const r =
    await sql`update ingest_source set settings = ${JSON.stringify(settings)} where id = ${id}`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

export async function deleteSource(db: StoreDb, id: string): Promise<number> {
  const r = await sql`delete from ingest_source where id = ${id}`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

// ---- events ---------------------------------------------------------------------------------------

export type EventStatus = 'pending' | 'delivered' | 'skipped' | 'failed' | 'waiting';

export interface StoredEvent {
  seq: number;
  sourceId: string;
  message: SegmentMessage;
  status: EventStatus;
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  result: Record<string, unknown> | null;
  createTriedAt: string | null;
}

function eventFromRow(row: Row): StoredEvent {
  return {
    seq: Number(row.seq),
    sourceId: String(row.source_id),
    message: JSON.parse(String(row.message)) as SegmentMessage,
    status: String(row.status) as EventStatus,
    attempts: Number(row.attempts),
    nextAttemptAt: row.next_attempt_at === null ? null : String(row.next_attempt_at),
    lastError: row.last_error === null ? null : String(row.last_error),
    result: row.result === null ? null : (JSON.parse(String(row.result)) as Record<string, unknown>),
    createTriedAt: row.create_tried_at === null ? null : String(row.create_tried_at),
  };
}

/** Rows per insert statement: 10 parameters a row stays well under SQLite's 32,766. */
const INSERT_CHUNK = 500;
const EVENT_COLUMNS = [
  'source_id',
  'message_id',
  'type',
  'user_id',
  'anonymous_id',
  'message',
  'received_at',
  'status',
  'attempts',
  'updated_at',
];

/**
 * Appends accepted messages; one whose message id the source already has is skipped (the
 * de-duplication: the unique index decides, so it holds across processes too). Statements come
 * in a few fixed sizes, compiled and prepared once each.
 */
export async function insertEvents(
  db: StoreDb,
  events: ReadonlyArray<{ sourceId: string; message: SegmentMessage }>,
): Promise<void> {
  for (const chunk of statementChunks(events, INSERT_CHUNK)) {
    const text = cachedSql(db, `insert-events:${chunk.length}`, () => {
      const row = sql`(${sql.join(EVENT_COLUMNS.map(() => sql`${null}`))})`;
      return sql`insert into ingest_event (${sql.join(EVENT_COLUMNS.map((c) => sql.ref(c)))})
        values ${sql.join(chunk.map(() => row))} on conflict (source_id, message_id) do nothing`;
    });
    const params: unknown[] = [];
    for (const { sourceId, message } of chunk) {
      params.push(
        sourceId,
        message.messageId,
        message.type,
        message.userId,
        // An alias is about its previousId too: parked events of that id wait on it.
        message.type === 'alias' ? (message.previousId ?? null) : message.anonymousId,
        JSON.stringify(message),
        message.receivedAt,
        'pending',
        0,
        message.receivedAt,
      );
    }
    await db.executeQuery(CompiledQuery.raw(text, params));
  }
}

/** The oldest events waiting for delivery, in arrival order. */
export async function selectPending(db: StoreDb, limit: number): Promise<StoredEvent[]> {
  const r =
    await sql<Row>`select * from ingest_event where status = 'pending' order by seq limit ${limit}`.execute(
      db,
    );
  return r.rows.map(eventFromRow);
}

export async function selectEvent(
  db: StoreDb,
  sourceId: string,
  messageId: string,
): Promise<StoredEvent | undefined> {
  const r =
    await sql<Row>`select * from ingest_event where source_id = ${sourceId} and message_id = ${messageId}`.execute(
      db,
    );
  return r.rows[0] ? eventFromRow(r.rows[0]) : undefined;
}

export async function selectByStatus(
  db: StoreDb,
  status: EventStatus,
  options: { sourceId?: string; limit: number },
): Promise<StoredEvent[]> {
  const source = options.sourceId === undefined ? sql`` : sql` and source_id = ${options.sourceId}`;
  const r =
    await sql<Row>`select * from ingest_event where status = ${sql.lit(status)}${source} order by seq desc limit ${options.limit}`.execute(
      db,
    );
  return r.rows.map(eventFromRow);
}

/** The newest events of all sources, whatever their status. */
export async function selectRecent(db: StoreDb, limit: number): Promise<StoredEvent[]> {
  const r = await sql<Row>`select * from ingest_event order by seq desc limit ${limit}`.execute(db);
  return r.rows.map(eventFromRow);
}

export async function updateEvent(
  db: StoreDb,
  seq: number,
  change: Omit<StoredEvent, 'seq' | 'sourceId' | 'message'> & { at: string },
): Promise<void> {
  await sql`update ingest_event set status = ${change.status}, attempts = ${change.attempts},
    next_attempt_at = ${change.nextAttemptAt}, last_error = ${change.lastError},
    result = ${change.result === null ? null : JSON.stringify(change.result)},
    create_tried_at = ${change.createTriedAt}, updated_at = ${change.at} where seq = ${seq}`.execute(db);
}

/** Parks events: their person is not known yet. */
export async function parkEvents(
  db: StoreDb,
  seqs: readonly number[],
  reason: string,
  at: string,
): Promise<void> {
  const result = JSON.stringify({ reason });
  for (const chunk of statementChunks(seqs, INSERT_CHUNK)) {
    const text = cachedSql(
      db,
      `park-events:${chunk.length}`,
      () => sql`update ingest_event set status = 'waiting', attempts = attempts + 1, result = ${null}, updated_at = ${null}
        where seq in (${sql.join(chunk.map(() => sql`${null}`))})`,
    );
    await db.executeQuery(CompiledQuery.raw(text, [result, at, ...chunk]));
  }
}

/** Which of these ids (userId or anonymousId) of a source resolved to a prospect already. */
export async function selectKnownIds(
  db: StoreDb,
  sourceId: string,
  ids: readonly string[],
): Promise<Set<string>> {
  const known = new Set<string>();
  for (let i = 0; i < ids.length; i += INSERT_CHUNK) {
    const r = await sql<Row>`select key from ingest_identity where source_id = ${sourceId}
      and kind in ('user', 'anonymous') and key in (${sql.join(ids.slice(i, i + INSERT_CHUNK))})`.execute(db);
    for (const row of r.rows) known.add(String(row.key));
  }
  return known;
}

/** Parked events of a person who is now known go back in line. */
export async function requeueWaiting(
  db: StoreDb,
  sourceId: string,
  keys: { userIds: string[]; anonymousIds: string[] },
  at: string,
): Promise<number> {
  const ids = [...new Set([...keys.userIds, ...keys.anonymousIds])];
  if (ids.length === 0) return 0;
  const r = await sql`update ingest_event set status = 'pending', updated_at = ${at}
    where status = 'waiting' and source_id = ${sourceId}
      and (user_id in (${sql.join(ids)}) or anonymous_id in (${sql.join(ids)}))`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

/** Failed events back to pending (all of a source's, or the given ones). */
export async function retryFailed(db: StoreDb, seqs: number[] | 'all', at: string): Promise<number> {
  const which = seqs === 'all' ? sql`` : sql` and seq in (${sql.join(seqs.length ? seqs : [-1])})`;
  const r =
    await sql`update ingest_event set status = 'pending', attempts = 0, next_attempt_at = null, updated_at = ${at}
    where status = 'failed'${which}`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

/** Finished events older than the de-duplication window: their message ids may be reused. */
export async function purgeFinished(db: StoreDb, before: string): Promise<number> {
  const r =
    await sql`delete from ingest_event where status in ('delivered', 'skipped') and received_at < ${before}`.execute(
      db,
    );
  return Number(r.numAffectedRows ?? 0);
}

export async function countByStatus(db: StoreDb): Promise<Record<EventStatus, number>> {
  const r = await sql<Row>`select status, count(*) as n from ingest_event group by status`.execute(db);
  const counts: Record<EventStatus, number> = { pending: 0, delivered: 0, skipped: 0, failed: 0, waiting: 0 };
  for (const row of r.rows) counts[String(row.status) as EventStatus] = Number(row.n);
  return counts;
}

// ---- identities -----------------------------------------------------------------------------------

export type IdentityKind = 'user' | 'anonymous' | 'lookup';

export interface Identity {
  prospectId: number;
  email: string | null;
}

export async function selectIdentity(
  db: StoreDb,
  sourceId: string,
  kind: IdentityKind,
  key: string,
): Promise<Identity | undefined> {
  const r = await sql<Row>`select prospect_id, email from ingest_identity
    where source_id = ${sourceId} and kind = ${kind} and key = ${key}`.execute(db);
  const row = r.rows[0];
  return row
    ? { prospectId: Number(row.prospect_id), email: row.email === null ? null : String(row.email) }
    : undefined;
}

export async function upsertIdentity(
  db: StoreDb,
  sourceId: string,
  kind: IdentityKind,
  key: string,
  identity: Identity,
  at: string,
): Promise<void> {
  await sql`insert into ingest_identity (source_id, kind, key, prospect_id, email, updated_at)
    values (${sourceId}, ${kind}, ${key}, ${identity.prospectId}, ${identity.email}, ${at})
    on conflict (source_id, kind, key) do update set prospect_id = excluded.prospect_id,
      email = excluded.email, updated_at = excluded.updated_at`.execute(db);
}

/** Every identity pointing at a prospect gets its new email (after an email change). */
export async function updateIdentityEmail(
  db: StoreDb,
  sourceId: string,
  prospectId: number,
  email: string,
  at: string,
): Promise<void> {
  await sql`update ingest_identity set email = ${email}, updated_at = ${at}
    where source_id = ${sourceId} and prospect_id = ${prospectId}`.execute(db);
}

// ---- tracker visitors -------------------------------------------------------------------------------

export async function selectVisitor(
  db: StoreDb,
  sourceId: string,
  prospectId: number,
): Promise<{ id: number; sign: string } | undefined> {
  const r = await sql<Row>`select visitor_id, sign from ingest_visitor
    where source_id = ${sourceId} and prospect_id = ${prospectId}`.execute(db);
  const row = r.rows[0];
  return row ? { id: Number(row.visitor_id), sign: String(row.sign) } : undefined;
}

export async function upsertVisitor(
  db: StoreDb,
  sourceId: string,
  prospectId: number,
  visitor: { id: number; sign: string },
  at: string,
): Promise<void> {
  await sql`insert into ingest_visitor (source_id, prospect_id, visitor_id, sign, updated_at)
    values (${sourceId}, ${prospectId}, ${visitor.id}, ${visitor.sign}, ${at})
    on conflict (source_id, prospect_id) do update set visitor_id = excluded.visitor_id,
      sign = excluded.sign, updated_at = excluded.updated_at`.execute(db);
}

// ---- the delivery lease ----------------------------------------------------------------------------

/** Takes or renews the named lease for `owner` until `until`; true when `owner` holds it. */
export function claimLease(
  db: StoreDb,
  name: string,
  owner: string,
  now: string,
  until: string,
): Promise<boolean> {
  return claimNamedLease(db, 'ingest_lease', { name, owner, now, until });
}

export function releaseLease(db: StoreDb, name: string, owner: string): Promise<void> {
  return releaseNamedLease(db, 'ingest_lease', name, owner);
}
