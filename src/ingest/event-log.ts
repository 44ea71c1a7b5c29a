import type { Database } from '../store/database.js';
import type { SegmentMessage } from './domain/segment-message.js';
import * as store from './store/ingest-store.js';

interface Waiter {
  events: Array<{ sourceId: string; message: SegmentMessage }>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * The durable log of accepted events, written with group commit: requests that arrive while a
 * transaction is being written wait for the next one, which carries all of them. A request is
 * answered only after the transaction holding its events has committed, so nothing
 * acknowledged is lost, and a busy server writes one transaction per few hundred events
 * instead of one per request.
 */
export class EventLog {
  private queue: Waiter[] = [];
  private writing: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly database: Database,
    /** Told after each commit, so delivery can start at once. */
    private readonly onCommitted: () => void,
  ) {}

  append(sourceId: string, messages: readonly SegmentMessage[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the event log is closed'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ events: messages.map((message) => ({ sourceId, message })), resolve, reject });
      if (!this.writing) this.writing = this.drain();
    });
  }

  private async drain(): Promise<void> {
    // Let the requests already in flight in this turn of the event loop join the first write.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.queue.length > 0) {
      const group = this.queue;
      this.queue = [];
      try {
        await this.database.db.transaction().execute(async (trx) => {
          await store.insertEvents(
            trx,
            group.flatMap((w) => w.events),
          );
        });
        for (const waiter of group) waiter.resolve();
        this.onCommitted();
      } catch (error) {
        for (const waiter of group) waiter.reject(error);
      }
    }
    this.writing = null;
  }

  /** Finishes what was accepted, then refuses more. */
  async close(): Promise<void> {
    this.closed = true;
    await this.writing;
  }
}
