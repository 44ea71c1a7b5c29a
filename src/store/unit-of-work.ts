import { AsyncLocalStorage } from 'node:async_hooks';
import { sql } from 'kysely';
import type { StoreDb } from './database.js';

/** The most units one shared transaction carries: a bound on how long the first one waits. */
const MAX_GROUP = 32;

interface Queued {
  work: (db: StoreDb) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** The transaction open in the current async context, and what must happen once it commits. */
interface OpenTransaction {
  db: StoreDb;
  afterCommit: Array<() => void>;
  /** Per-transaction state other code hangs on it (a change-event sequence …), by key. */
  state: Map<symbol, unknown>;
}

/**
 * An ambient transaction: code inside `run` (however deep, and across awaits) reads and
 * writes through `current()`, so a composite request can wrap many record operations in one
 * all-or-nothing transaction without threading a handle through every call.
 */
export class UnitOfWork {
  private readonly ambient = new AsyncLocalStorage<OpenTransaction>();

  private readonly queue: Queued[] = [];
  private draining: Promise<void> | null = null;

  constructor(
    private readonly db: StoreDb,
    private readonly options: {
      /**
       * Units that arrive while one is being written share its transaction, each in a savepoint
       * of its own, and commit together. For SQLite: its one connection runs transactions one at
       * a time anyway, and a commit (writing the transaction's pages to the log) costs more than
       * a single create's own work; one commit for a few units is what keeps concurrent single
       * writes fast. A unit that fails is rolled back to its savepoint and fails alone; every
       * unit is answered only after the commit that holds it.
       */
      groupCommit?: boolean;
    } = {},
  ) {}

  current(): StoreDb {
    return this.ambient.getStore()?.db ?? this.db;
  }

  /** Runs `work` in a transaction, or inside the one already open. */
  async run<T>(work: (db: StoreDb) => Promise<T>): Promise<T> {
    const open = this.ambient.getStore();
    if (open) return work(open.db);
    if (this.options.groupCommit) {
      return new Promise<T>((resolve, reject) => {
        this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
        this.draining ??= this.drain();
      });
    }
    const afterCommit: Array<() => void> = [];
    const result = await this.db
      .transaction()
      .execute((trx) => this.ambient.run({ db: trx, afterCommit, state: new Map() }, () => work(trx)));
    for (const callback of afterCommit) callback();
    return result;
  }

  /** Writes the queued units, as many as are waiting (up to MAX_GROUP) to a transaction. */
  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const done: Array<{ unit: Queued; ok: boolean; value: unknown; afterCommit: Array<() => void> }> = [];
      let running: Queued | undefined;
      try {
        await this.db.transaction().execute(async (trx) => {
          // Units that arrive while this one runs join it, up to the bound.
          while (this.queue.length > 0 && done.length < MAX_GROUP) {
            const unit = (running = this.queue.shift()!);
            const afterCommit: Array<() => void> = [];
            await sql`savepoint handoff_unit`.execute(trx);
            try {
              const value = await this.ambient.run({ db: trx, afterCommit, state: new Map() }, () =>
                unit.work(trx),
              );
              await sql`release savepoint handoff_unit`.execute(trx);
              done.push({ unit, ok: true, value, afterCommit });
            } catch (error) {
              await sql`rollback to savepoint handoff_unit`.execute(trx);
              await sql`release savepoint handoff_unit`.execute(trx);
              done.push({ unit, ok: false, value: error, afterCommit: [] });
            }
            running = undefined;
          }
        });
      } catch (error) {
        // The transaction itself failed (its commit, or a rollback the database refused): none
        // of the group was written, and each unit says so.
        for (const { unit, ok, value } of done) unit.reject(ok ? error : value);
        running?.reject(error);
        continue;
      }
      for (const { unit, ok, value, afterCommit } of done) {
        if (!ok) {
          unit.reject(value);
          continue;
        }
        try {
          for (const callback of afterCommit) callback();
          unit.resolve(value);
        } catch (error) {
          unit.reject(error);
        }
      }
    }
    this.draining = null;
  }

  /**
   * Runs `callback` once the open transaction has committed (never if it rolls back); outside a
   * transaction, at once. Notifications of committed work (change events) go through here.
   */
  afterCommit(callback: () => void): void {
    const open = this.ambient.getStore();
    if (open) open.afterCommit.push(callback);
    else callback();
  }

  /** State that lives as long as the open transaction: created by `init` on first use. */
  transactionState<T>(key: symbol, init: () => T): T | undefined {
    const open = this.ambient.getStore();
    if (!open) return undefined;
    if (!open.state.has(key)) open.state.set(key, init());
    return open.state.get(key) as T;
  }
}
