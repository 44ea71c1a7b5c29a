import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import { sql } from 'kysely';
import type { StoreDb } from './database.js';

/** The transaction open in the current async context, and what must happen once it commits. */
interface OpenTransaction {
  db: StoreDb;
  afterCommit: Array<() => void>;
  /** Per-transaction state other code hangs on it (a change-event sequence …), by key. */
  state: Map<symbol, unknown>;
}

/** A unit of work waiting for the group transaction that will carry it. */
interface Waiting {
  /** Runs the work in its caller's async context, with `open` as its ambient transaction. */
  start: (open: OpenTransaction) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** The most units of work one group transaction carries: readers wait for its commit. */
const MAX_GROUP = 64;

/**
 * An ambient transaction: code inside `run` (however deep, and across awaits) reads and
 * writes through `current()`, so a composite request can wrap many record operations in one
 * all-or-nothing transaction without threading a handle through every call.
 *
 * With `groupCommit` (SQLite: one connection, one writer), units of work that arrive while one
 * is running join its transaction, each in a savepoint of its own, and the group commits once:
 * a commit costs more than a single create's own statements, and concurrent requests wait for
 * the connection anyway. Each unit still stands alone — one that fails is rolled back to its
 * savepoint and fails only its caller — and each caller is answered, and its after-commit work
 * run, only once the group has committed, so nothing acknowledged is lost.
 */
export class UnitOfWork {
  private readonly ambient = new AsyncLocalStorage<OpenTransaction>();
  private readonly waiting: Waiting[] = [];
  private draining = false;

  constructor(
    private readonly db: StoreDb,
    private readonly options: { groupCommit?: boolean } = {},
  ) {}

  current(): StoreDb {
    return this.ambient.getStore()?.db ?? this.db;
  }

  /** Runs `work` in a transaction, or inside the one already open. */
  async run<T>(work: (db: StoreDb) => Promise<T>): Promise<T> {
    const open = this.ambient.getStore();
    if (open) return work(open.db);
    if (this.options.groupCommit) return this.grouped(work);
    const afterCommit: Array<() => void> = [];
    const result = await this.db
      .transaction()
      .execute((trx) => this.ambient.run({ db: trx, afterCommit, state: new Map() }, () => work(trx)));
    for (const callback of afterCommit) callback();
    return result;
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

  private grouped<T>(work: (db: StoreDb) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({
        // The work runs in whichever caller's turn drains the group: bound to its own caller's
        // async context, so what it reads from that (its request's logger, its call) is its own.
        start: AsyncResource.bind((open: OpenTransaction) => this.ambient.run(open, () => work(open.db))),
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      if (!this.draining) void this.drain();
    });
  }

  /** Runs the waiting units of work in group transactions until none is left. */
  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.waiting.length > 0) {
        const done: Array<{ unit: Waiting; open: OpenTransaction; value: unknown }> = [];
        const failed: Array<{ unit: Waiting; error: unknown }> = [];
        try {
          await this.db.transaction().execute(async (trx) => {
            // Units that arrive while the group runs join it, up to its size.
            while (this.waiting.length > 0 && done.length + failed.length < MAX_GROUP) {
              const unit = this.waiting.shift()!;
              const open: OpenTransaction = { db: trx, afterCommit: [], state: new Map() };
              await sql`savepoint unit_of_work`.execute(trx);
              try {
                done.push({ unit, open, value: await unit.start(open) });
              } catch (error) {
                await sql`rollback to savepoint unit_of_work`.execute(trx);
                failed.push({ unit, error });
              }
              await sql`release savepoint unit_of_work`.execute(trx);
            }
          });
        } catch (error) {
          // The group did not commit: none of its work was written.
          for (const { unit } of done) unit.reject(error);
          for (const { unit, error: own } of failed) unit.reject(own);
          continue;
        }
        for (const { unit, error } of failed) unit.reject(error);
        for (const { unit, open, value } of done) {
          try {
            for (const callback of open.afterCommit) callback();
            unit.resolve(value);
          } catch (error) {
            unit.reject(error);
          }
        }
      }
    } finally {
      this.draining = false;
    }
  }
}
