import { AsyncLocalStorage } from 'node:async_hooks';
import type { StoreDb } from './database.js';

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

  constructor(private readonly db: StoreDb) {}

  current(): StoreDb {
    return this.ambient.getStore()?.db ?? this.db;
  }

  /** Runs `work` in a transaction, or inside the one already open. */
  async run<T>(work: (db: StoreDb) => Promise<T>): Promise<T> {
    const open = this.ambient.getStore();
    if (open) return work(open.db);
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
}
