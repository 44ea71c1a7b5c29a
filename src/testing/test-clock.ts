/**
 * A clock tests move by hand. Every server the kit starts reads the time from it, so a test can
 * expire tokens, age change events past their retention, empty the recycle bin or outlive a
 * page token without waiting. It runs with real time (timestamps keep their order, timers their
 * meaning) from wherever it was moved; moving it runs the servers' housekeeping at once.
 */
export class TestClock {
  private offset = 0;
  private readonly listeners = new Set<() => Promise<void>>();

  /** The clock's time (what the servers see). */
  now(): Date {
    return new Date(Date.now() + this.offset);
  }

  /** Moves the clock forward by `ms` and runs the servers' housekeeping for the new time. */
  async advance(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('the clock only moves forward');
    this.offset += ms;
    for (const listener of this.listeners) await listener();
  }

  /** Moves the clock forward to a time (never back: the servers' data assumes time goes on). */
  async set(time: Date | string | number): Promise<void> {
    await this.advance(new Date(time).getTime() - this.now().getTime());
  }

  /** @internal What runs after each move (the kit's servers register their purges here). */
  onAdvance(listener: () => Promise<void>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
