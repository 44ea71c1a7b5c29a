import { sql } from 'kysely';
import type { StoreDb } from '../../store/database.js';

export interface Delivery {
  id: number;
  unitId: string;
  url: string;
  secret: string;
  event: string;
  payload: string;
  attempts: number;
}

export async function insertDelivery(
  db: StoreDb,
  delivery: Omit<Delivery, 'id' | 'attempts'>,
  at: string,
): Promise<void> {
  await sql`insert into marketing_webhook_delivery
      (unit_id, url, secret, event, payload, status, attempts, next_attempt_at, created_at)
    values (${delivery.unitId}, ${delivery.url}, ${delivery.secret}, ${delivery.event}, ${delivery.payload},
      'pending', 0, ${at}, ${at})`.execute(db);
}

/** Takes up to `limit` due deliveries for `leaseMs`: another process skips them meanwhile. */
export async function claimDue(db: StoreDb, at: string, until: string, limit: number): Promise<Delivery[]> {
  return db.transaction().execute(async (trx) => {
    const due = await sql<Record<string, unknown>>`select id, unit_id, url, secret, event, payload, attempts
      from marketing_webhook_delivery
      where status = 'pending' and next_attempt_at <= ${at} and (locked_until is null or locked_until <= ${at})
      order by id limit ${limit}`.execute(trx);
    const taken: Delivery[] = [];
    for (const row of due.rows) {
      // Claimed only if still free: two processes never send one delivery at once.
      const claimed = await sql`update marketing_webhook_delivery set locked_until = ${until}
        where id = ${row.id} and (locked_until is null or locked_until <= ${at})`.execute(trx);
      if (Number(claimed.numAffectedRows ?? 0) === 0) continue;
      taken.push({
        id: Number(row.id),
        unitId: String(row.unit_id),
        url: String(row.url),
        secret: String(row.secret),
        event: String(row.event),
        payload: String(row.payload),
        attempts: Number(row.attempts),
      });
    }
    return taken;
  });
}

export async function markDelivered(db: StoreDb, id: number, at: string): Promise<void> {
  await sql`update marketing_webhook_delivery set status = 'delivered', delivered_at = ${at}, locked_until = null,
    attempts = attempts + 1 where id = ${id}`.execute(db);
}

export async function markFailedAttempt(
  db: StoreDb,
  id: number,
  error: string,
  next: string | null,
): Promise<void> {
  await sql`update marketing_webhook_delivery set attempts = attempts + 1, last_error = ${error.slice(0, 1000)},
    locked_until = null, status = ${next ? 'pending' : 'failed'}, next_attempt_at = coalesce(${next}, next_attempt_at)
    where id = ${id}`.execute(db);
}

export async function selectDeliveries(
  db: StoreDb,
  unitId: string,
): Promise<Array<{ id: number; event: string; status: string; attempts: number; lastError: string | null }>> {
  const r = await sql<Record<string, unknown>>`select id, event, status, attempts, last_error
    from marketing_webhook_delivery where unit_id = ${unitId} order by id`.execute(db);
  return r.rows.map((row) => ({
    id: Number(row.id),
    event: String(row.event),
    status: String(row.status),
    attempts: Number(row.attempts),
    lastError: row.last_error === null ? null : String(row.last_error),
  }));
}
