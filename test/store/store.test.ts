import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { arrayRows } from '../../src/store/array-rows.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { migrateArea } from '../../src/store/migrations.js';
import { UnitOfWork } from '../../src/store/unit-of-work.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../support/databases.js';

interface NoteRow {
  id: string;
  body: string;
}

/** A tiny area with two migrations, standing in for any area's schema. */
const notesMigrations = (database: Database) => ({
  '001-notes': {
    async up(db: Database['db']) {
      await db.schema
        .createTable('notes_note')
        .addColumn('id', database.dialect.columnType('id'), (c) => c.primaryKey())
        .addColumn('body', database.dialect.columnType('ci-text'), (c) => c.notNull())
        .execute();
    },
  },
  '002-notes-index': {
    async up(db: Database['db']) {
      await sql`create index notes_body on notes_note (${database.dialect.ciIndexExpression('body')})`.execute(
        db,
      );
    },
  },
});

async function notes(database: TestDatabase): Promise<NoteRow[]> {
  const r = await sql<NoteRow>`select id, body from notes_note order by id`.execute(database.db);
  return r.rows;
}

for (const dialect of DIALECTS) {
  describe(`store on ${dialect}`, () => {
    let database: TestDatabase & { filename?: string };

    beforeEach(async () => {
      database = await createTestDatabase(dialect);
      await migrateArea(database, 'notes', notesMigrations);
    });

    afterEach(async () => {
      await database.destroy();
    });

    it('applies an area’s migrations once and records them in that area’s own history table', async () => {
      await migrateArea(database, 'notes', notesMigrations); // second run: nothing to do, no error
      const applied = await sql<{ name: string }>`select name from notes_migration order by name`.execute(
        database.db,
      );
      expect(applied.rows.map((r) => r.name)).toEqual(['001-notes', '002-notes-index']);
    });

    it('keeps areas apart: another area’s migrations have their own history', async () => {
      await migrateArea(database, 'other', () => ({
        '001-other': {
          async up(db) {
            await db.schema.createTable('other_thing').addColumn('id', 'integer').execute();
          },
        },
      }));
      const notesHistory = await sql<{ name: string }>`select name from notes_migration`.execute(database.db);
      const otherHistory = await sql<{ name: string }>`select name from other_migration`.execute(database.db);
      expect(notesHistory.rows.map((r) => r.name)).not.toContain('001-other');
      expect(otherHistory.rows.map((r) => r.name)).toEqual(['001-other']);
    });

    it('reports a failing migration by area and name, and leaves earlier ones applied', async () => {
      await expect(
        migrateArea(database, 'broken', () => ({
          '001-ok': {
            async up(db) {
              await db.schema.createTable('broken_ok').addColumn('id', 'integer').execute();
            },
          },
          '002-bad': {
            async up(db) {
              await sql`create table notes_note (id integer)`.execute(db);
            },
          },
        })),
      ).rejects.toThrow(/migration broken\/002-bad failed/);
    });

    it('compares case-insensitive text case-insensitively, for equality, membership and LIKE', async () => {
      const { db, dialect: d } = database;
      await sql`insert into notes_note (id, body) values ('a', 'Hello World'), ('b', 'other')`.execute(db);
      const col = sql.ref('body');
      const eq =
        await sql<NoteRow>`select id from notes_note where ${d.ciEquals(col, 'HELLO world')}`.execute(db);
      const member =
        await sql<NoteRow>`select id from notes_note where ${d.ciIn(col, ['x', 'OTHER'])}`.execute(db);
      const like = await sql<NoteRow>`select id from notes_note where ${d.ciLike(col, 'hello%')}`.execute(db);
      const escaped =
        await sql<NoteRow>`select id from notes_note where ${d.ciLike(col, 'hello\\%')}`.execute(db);
      expect(eq.rows.map((r) => r.id)).toEqual(['a']);
      expect(member.rows.map((r) => r.id)).toEqual(['b']);
      expect(like.rows.map((r) => r.id)).toEqual(['a']);
      expect(escaped.rows).toEqual([]);
    });

    it('sorts id columns by byte, so base-62 ids order as they were issued', async () => {
      const { db } = database;
      await sql`insert into notes_note (id, body) values ('00Qa', 'x'), ('00QB', 'y'), ('00Q9', 'z')`.execute(
        db,
      );
      expect((await notes(database)).map((n) => n.id)).toEqual(['00Q9', '00QB', '00Qa']);
    });

    it('rolls a unit of work back whole when it fails, and commits it whole when it succeeds', async () => {
      const unitOfWork = new UnitOfWork(database.db);
      await expect(
        unitOfWork.run(async () => {
          await sql`insert into notes_note (id, body) values ('1', 'kept?')`.execute(unitOfWork.current());
          // Nested work joins the open transaction rather than committing on its own.
          await unitOfWork.run(async (db) => {
            await sql`insert into notes_note (id, body) values ('2', 'nested')`.execute(db);
          });
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await notes(database)).toEqual([]);

      await unitOfWork.run(async (db) => {
        await sql`insert into notes_note (id, body) values ('3', 'committed')`.execute(db);
      });
      expect(await notes(database)).toEqual([{ id: '3', body: 'committed' }]);
    });

    it('reads rows as arrays in select-list order, and never inside another flow’s open transaction', async () => {
      await sql`insert into notes_note (id, body) values ('a', 'one'), ('b', 'two')`.execute(database.db);
      const read = () => arrayRows(database.db, sql`select body as b0, id as i0 from notes_note order by id`);
      expect(await read()).toEqual({
        columns: ['b0', 'i0'],
        rows: [
          ['one', 'a'],
          ['two', 'b'],
        ],
      });
      // A transaction writes, waits, then fails: a read meanwhile must wait for it rather than
      // slip its statement into it, so it never sees the row that was rolled back.
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let written!: () => void;
      const wrote = new Promise<void>((resolve) => (written = resolve));
      const writer = database.db.transaction().execute(async (trx) => {
        await sql`insert into notes_note (id, body) values ('c', 'three')`.execute(trx);
        written();
        await held;
        throw new Error('rolled back');
      });
      await wrote;
      const during = read();
      release();
      await expect(writer).rejects.toThrow('rolled back');
      expect((await during).rows.map((row) => row[1])).toEqual(['a', 'b']);
      await sql`insert into notes_note (id, body) values ('c', 'three')`.execute(database.db);
      const inside = await database.db
        .transaction()
        .execute((trx) => arrayRows(trx, sql`select id as i0 from notes_note where id = 'c'`));
      expect(inside.rows).toEqual([['c']]);
    });

    it('classifies a unique violation so callers can answer DUPLICATE_VALUE', async () => {
      await sql`insert into notes_note (id, body) values ('1', 'a')`.execute(database.db);
      const error = await sql`insert into notes_note (id, body) values ('1', 'b')`
        .execute(database.db)
        .catch((e: unknown) => e);
      expect(database.dialect.classifyError(error)).toBe('unique-violation');
    });

    if (dialect === 'sqlite') {
      it('opens SQLite in WAL mode, so readers never wait for the writer', async () => {
        const r = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(database.db);
        expect(r.rows[0]?.journal_mode).toBe('wal');
      });

      it('lets a transaction that reads, then writes, commit while another process writes the same file', async () => {
        // Another process on the same data dir (handoff sync beside the servers), whose writes
        // do not wait here (a busy timeout of 0): it is turned away while the transaction runs.
        const other = openDatabase({ kind: 'sqlite', filename: database.filename!, busyTimeoutMs: 0 });
        try {
          let otherWrite: unknown = null;
          await database.db.transaction().execute(async (trx) => {
            await sql`select count(*) from notes_note`.execute(trx);
            otherWrite = await sql`insert into notes_note (id, body) values ('other', 'x')`
              .execute(other.db)
              .catch((error: unknown) => error);
            // A deferred transaction's first write here failed with SQLITE_BUSY_SNAPSHOT.
            await sql`insert into notes_note (id, body) values ('mine', 'y')`.execute(trx);
          });
          expect((otherWrite as { code?: string }).code).toBe('SQLITE_BUSY');
          const rows = await sql<{ id: string }>`select id from notes_note`.execute(database.db);
          expect(rows.rows.map((r) => r.id)).toEqual(['mine']);
        } finally {
          await other.close();
        }
      });
    }
  });
}
