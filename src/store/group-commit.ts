interface Waiter<I, O> {
  item: I;
  resolve: (out: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: work submitted while a transaction is being written waits for the next one,
 * which carries all of it. Each submitter is answered only after the transaction holding its
 * work has committed, so nothing acknowledged is lost, and a busy server writes one
 * transaction per few hundred requests instead of one per request.
 *
 * `write` does a whole group in one transaction and returns one result per item, in order.
 * When a group fails and `alone` is given, each of its items is tried again in a transaction
 * of its own: one bad item fails only its own submitter.
 */
export class GroupCommit<I, O> {
  private queue: Array<Waiter<I, O>> = [];
  private writing: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly write: (items: I[]) => Promise<O[]>,
    private readonly options: {
      /** Told after each commit (delivery can start at once). */
      onCommitted?: () => void;
      /** The most items one transaction carries. */
      maxGroup?: number;
      alone?: (item: I) => Promise<O>;
    } = {},
  ) {}

  submit(item: I): Promise<O> {
    if (this.closed) return Promise.reject(new Error('closed: no more work is accepted'));
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.writing) this.writing = this.drain();
    });
  }

  private async drain(): Promise<void> {
    // Let the requests already in flight in this turn of the event loop join the first write.
    await new Promise((resolve) => setImmediate(resolve));
    const max = this.options.maxGroup ?? Infinity;
    while (this.queue.length > 0) {
      const group = this.queue.splice(0, max);
      try {
        const out = await this.write(group.map((w) => w.item));
        group.forEach((waiter, i) => waiter.resolve(out[i]!));
        this.options.onCommitted?.();
      } catch (error) {
        const { alone } = this.options;
        if (!alone || group.length === 1) {
          for (const waiter of group) waiter.reject(error);
          continue;
        }
        for (const waiter of group) {
          try {
            waiter.resolve(await alone(waiter.item));
            this.options.onCommitted?.();
          } catch (itemError) {
            waiter.reject(itemError);
          }
        }
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
