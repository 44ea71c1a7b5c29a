import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/store/database.js';

export type DialectName = 'sqlite' | 'postgres';

const pgUrl = process.env.HANDOFF_TEST_PG_URL;
if (!pgUrl) {
  console.warn('PostgreSQL tests skipped: HANDOFF_TEST_PG_URL is not set (CI sets it; see .ci/run)');
}

/** Whether PostgreSQL suites run (the skip reason is printed once, above). */
export const HAS_POSTGRES = Boolean(pgUrl);

/** The dialects every store-backed suite runs on: SQLite always, PostgreSQL when configured. */
export const DIALECTS: DialectName[] = pgUrl ? ['sqlite', 'postgres'] : ['sqlite'];

export interface TestDatabase extends Database {
  /** Drops what the test made: the SQLite file or the PostgreSQL schema. */
  destroy(): Promise<void>;
  /** Another connection to the same store, as a second process would have (closed by its user). */
  reopen(): Database;
}

/** A fresh, empty database: a new SQLite file, or a new schema in the PostgreSQL test database. */
export async function createTestDatabase(
  dialect: DialectName,
  options: { busyTimeoutMs?: number } = {},
): Promise<TestDatabase & { filename?: string }> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'handoff-test-'));
    const filename = join(dir, 'test.db');
    const database = openDatabase({ kind: 'sqlite', filename, busyTimeoutMs: options.busyTimeoutMs });
    return {
      ...database,
      filename,
      reopen: () => openDatabase({ kind: 'sqlite', filename, busyTimeoutMs: 5_000 }),
      async destroy() {
        await database.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  if (!pgUrl) throw new Error('HANDOFF_TEST_PG_URL is not set');
  const schema = `test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const database = openDatabase({ kind: 'postgres', url: pgUrl, schema, maxConnections: 5 });
  return {
    ...database,
    reopen: () => openDatabase({ kind: 'postgres', url: pgUrl, schema, maxConnections: 5 }),
    async destroy() {
      await database.close();
      const cleanup = new pg.Client({ connectionString: pgUrl });
      await cleanup.connect();
      await cleanup.query(`drop schema ${schema} cascade`);
      await cleanup.end();
    },
  };
}

/**
 * A PostgreSQL database of its own, for processes that are given a URL (`--database-url`);
 * `drop()` removes it, whoever is still connected.
 */
export async function createPgDatabase(prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  if (!pgUrl) throw new Error('HANDOFF_TEST_PG_URL is not set');
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  return {
    url: `${pgUrl.replace(/\/[^/]*$/, '')}/${name}`,
    async drop() {
      const cleanup = new pg.Client({ connectionString: pgUrl });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    },
  };
}
