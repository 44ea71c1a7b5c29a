import { sql } from 'kysely';
import type { Database } from '../../store/database.js';
import { statementChunks } from '../../store/compiled-statements.js';
import { claimNamedLease, releaseNamedLease } from '../../store/named-lease.js';

type Row = Record<string, unknown>;

/** Work item priorities (lower runs first): decided in domain/change-priority.ts. */
export { PRIORITY } from '../domain/change-priority.js';

export interface NewWorkItem {
  /** `Lead:<id>`, `Contact:<id>` or `prospect:<id>`: one item per record and side. */
  key: string;
  priority: number;
  /** The record as captured, or null to have the worker read it. */
  payload: unknown;
}

export interface WorkItem {
  key: string;
  priority: number;
  payload: unknown;
  version: number;
  attempts: number;
}

const COALESCE = sql`do update set
  priority = case when excluded.priority < connector_queue.priority then excluded.priority else connector_queue.priority end,
  payload = excluded.payload,
  version = connector_queue.version + 1,
  due_at = case when excluded.due_at < connector_queue.due_at then excluded.due_at else connector_queue.due_at end`;

/**
 * Queues changes, coalescing each with any waiting item of the same record: the newest copy
 * wins, the priority is the more urgent one, and it is due at once.
 */
export async function enqueue(
  database: Database,
  unitId: string,
  items: readonly NewWorkItem[],
  at: string,
  options: { ifAbsent?: boolean } = {},
): Promise<void> {
  // A record captured twice in one call (two pages of a window) is queued once, newest copy.
  const unique = [...new Map(items.map((item) => [item.key, item])).values()];
  for (const chunk of statementChunks(unique, 100)) {
    const rows = chunk.map(
      (item) =>
        sql`(${unitId}, ${item.key}, ${item.priority}, ${item.payload === null ? null : JSON.stringify(item.payload)}, 1, 0, ${at}, ${at})`,
    );
    await sql`insert into connector_queue (unit_id, item_key, priority, payload, version, attempts, due_at, created_at)
      values ${sql.join(rows)}
      on conflict (unit_id, item_key) ${options.ifAbsent ? sql`do nothing` : COALESCE}`.execute(database.db);
  }
}

/**
 * Leases up to `limit` due items to `owner` until `until`, most urgent first. An item whose
 * lease ran out (its worker died) is due again. On PostgreSQL, `SKIP LOCKED` lets processes
 * claim side by side without waiting or taking the same item; SQLite serialises writers.
 */
export async function lease(
  database: Database,
  unitId: string,
  owner: string,
  limit: number,
  now: string,
  until: string,
): Promise<WorkItem[]> {
  const pick = sql`select item_key from connector_queue
    where unit_id = ${unitId} and due_at <= ${now} and (lease_until is null or lease_until < ${now})
    order by priority, due_at limit ${limit}`;
  const which = database.dialect.supportsSkipLocked
    ? sql`item_key = any(array(${pick} for update skip locked))`
    : sql`item_key in (${pick})`;
  const r = await sql<Row>`update connector_queue set lease_owner = ${owner}, lease_until = ${until}
    where unit_id = ${unitId} and ${which}
    returning item_key, priority, payload, version, attempts`.execute(database.db);
  return r.rows
    .map((row) => ({
      key: String(row.item_key),
      priority: Number(row.priority),
      payload: row.payload === null ? null : (JSON.parse(String(row.payload)) as unknown),
      version: Number(row.version),
      attempts: Number(row.attempts),
    }))
    .sort((a, b) => a.priority - b.priority);
}

/**
 * Done items leave the queue — unless a newer change coalesced into one meanwhile (its version
 * moved): that one stays, released, to be worked again.
 */
export async function complete(
  database: Database,
  unitId: string,
  owner: string,
  items: readonly WorkItem[],
): Promise<void> {
  await database.db.transaction().execute(async (trx) => {
    for (const chunk of statementChunks(items, 100)) {
      const match = sql.join(
        chunk.map((item) => sql`(item_key = ${item.key} and version = ${item.version})`),
        sql` or `,
      );
      await sql`delete from connector_queue where unit_id = ${unitId} and (${match})`.execute(trx);
      const keys = chunk.map((item) => item.key);
      await sql`update connector_queue set lease_owner = null, lease_until = null
        where unit_id = ${unitId} and lease_owner = ${owner} and item_key in (${sql.join(keys)})`.execute(
        trx,
      );
    }
  });
}

/** A try that failed for a reason a later one may get past: due again after `dueAt`. */
export async function retryLater(
  database: Database,
  unitId: string,
  item: WorkItem,
  error: string,
  dueAt: string,
): Promise<void> {
  // Coalesced meanwhile: the newer change is due at once, as queued.
  await sql`update connector_queue set attempts = attempts + 1, last_error = ${error.slice(0, 2000)},
      lease_owner = null, lease_until = null,
      due_at = case when version = ${item.version} then ${dueAt} else due_at end
    where unit_id = ${unitId} and item_key = ${item.key}`.execute(database.db);
}

export { backoffMs } from '../../store/backoff.js';

export async function countWaiting(database: Database, unitId: string): Promise<number> {
  const r = await sql<Row>`select count(*) as n from connector_queue where unit_id = ${unitId}`.execute(
    database.db,
  );
  return Number(r.rows[0]?.n ?? 0);
}

/** The keys of every item waiting (`Lead:<id>`, `prospect:<id>` …): the changes still in flight. */
export async function selectQueuedKeys(database: Database, unitId: string): Promise<Set<string>> {
  const r = await sql<Row>`select item_key from connector_queue where unit_id = ${unitId}`.execute(
    database.db,
  );
  return new Set(r.rows.map((row) => String(row.item_key)));
}

export interface QueueDepth {
  /** priority → items waiting. */
  byPriority: Record<number, number>;
  /** Items that failed at least once and wait for their next try. */
  retrying: number;
  /** When the oldest waiting item was first queued. */
  oldest: string | null;
}

export async function queueDepth(database: Database, unitId: string): Promise<QueueDepth> {
  const r =
    await sql<Row>`select priority, count(*) as n, sum(case when attempts > 0 then 1 else 0 end) as retrying,
      min(created_at) as oldest
    from connector_queue where unit_id = ${unitId} group by priority`.execute(database.db);
  const depth: QueueDepth = { byPriority: {}, retrying: 0, oldest: null };
  for (const row of r.rows) {
    depth.byPriority[Number(row.priority)] = Number(row.n);
    depth.retrying += Number(row.retrying ?? 0);
    const oldest = String(row.oldest);
    if (depth.oldest === null || oldest < depth.oldest) depth.oldest = oldest;
  }
  return depth;
}

/** Takes or renews the named lease for `owner`; true when `owner` holds it. */
export function claimLease(
  database: Database,
  name: string,
  owner: string,
  now: string,
  until: string,
): Promise<boolean> {
  return claimNamedLease(database.db, 'connector_lease', { name, owner, now, until });
}

export function releaseLease(database: Database, name: string, owner: string): Promise<void> {
  return releaseNamedLease(database.db, 'connector_lease', name, owner);
}
