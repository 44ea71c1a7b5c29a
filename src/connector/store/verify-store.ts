import { sql } from 'kysely';
import type { StoreDb } from '../../store/database.js';
import type { Difference, DifferenceClass } from '../domain/pair-difference.js';

type Row = Record<string, unknown>;

/** The differences a run keeps for the console (the CSV of `sync verify` has them all). */
const KEPT_DIFFERENCES = 10_000;

/** A verify as the console lists it: when, how many pairs, the counts, what it cost and repaired. */
export interface VerifyRunSummary {
  id: number;
  startedAt: string;
  finishedAt: string;
  pairs: number;
  differenceCount: number;
  byClass: Record<DifferenceClass, number>;
  byField: Record<string, Partial<Record<DifferenceClass, number>>>;
  calls: { crm: number; marketing: number };
  repair?: { queued: number; unlinked: number; reported: number };
}

export interface VerifyRun extends VerifyRunSummary {
  /** The first 10,000 differences. */
  differences: Difference[];
}

export async function saveVerifyRun(
  db: StoreDb,
  unitId: string,
  run: Omit<VerifyRun, 'id' | 'differenceCount'>,
): Promise<void> {
  const { differences, startedAt, finishedAt, pairs, ...summary } = run;
  await sql`insert into connector_verify_run (unit_id, started_at, finished_at, pairs, difference_count, summary, differences)
    values (${unitId}, ${startedAt}, ${finishedAt}, ${pairs}, ${differences.length}, ${JSON.stringify(summary)},
      ${JSON.stringify(differences.slice(0, KEPT_DIFFERENCES))})`.execute(db);
}

function summaryOf(row: Row): VerifyRunSummary {
  return {
    id: Number(row.id),
    startedAt: String(row.started_at),
    finishedAt: String(row.finished_at),
    pairs: Number(row.pairs),
    differenceCount: Number(row.difference_count),
    ...(JSON.parse(String(row.summary)) as Pick<
      VerifyRunSummary,
      'byClass' | 'byField' | 'calls' | 'repair'
    >),
  };
}

/** The latest runs, newest first (their counts: the trend). */
export async function selectVerifyRuns(db: StoreDb, unitId: string, limit = 30): Promise<VerifyRunSummary[]> {
  const r =
    await sql<Row>`select id, started_at, finished_at, pairs, difference_count, summary from connector_verify_run
    where unit_id = ${unitId} order by id desc limit ${limit}`.execute(db);
  return r.rows.map(summaryOf);
}

/** One run with its differences. */
export async function selectVerifyRun(
  db: StoreDb,
  unitId: string,
  id: number,
): Promise<VerifyRun | undefined> {
  const r =
    await sql<Row>`select * from connector_verify_run where unit_id = ${unitId} and id = ${id}`.execute(db);
  const row = r.rows[0];
  return row
    ? { ...summaryOf(row), differences: JSON.parse(String(row.differences)) as Difference[] }
    : undefined;
}
