/** Where a counter keeps its count for a day (an area's own table). */
export interface DailyCountStore {
  load(day: string): Promise<number>;
  save(day: string, used: number): Promise<void>;
}

const DAY_MS = 86_400_000;

/**
 * A daily API request count against its limit (a CRM org's, a business unit's). Counted in
 * memory on the hot path and written to the store every few seconds and at shutdown, so a
 * restart keeps the day's count. Days are UTC days.
 */
export class DailyCounter {
  private day = '';
  /** When the current day ends (ms): the hot path compares numbers instead of formatting dates. */
  private dayEndsAt = 0;
  private used = 0;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: DailyCountStore,
    readonly max: number,
    private readonly now: () => Date = () => new Date(),
    /** A periodic write that failed (the store busy, say): the count stays dirty and is written next time. */
    private readonly onFlushError: (error: unknown) => void = () => {},
  ) {}

  private today(): string {
    return this.now().toISOString().slice(0, 10);
  }

  private startDay(): void {
    this.day = this.today();
    this.dayEndsAt = Date.parse(`${this.day}T00:00:00.000Z`) + DAY_MS;
  }

  async start(flushEveryMs = 5000): Promise<void> {
    this.startDay();
    this.used = await this.store.load(this.day);
    this.timer = setInterval(() => void this.flush().catch(this.onFlushError), flushEveryMs);
    this.timer.unref();
  }

  private roll(): void {
    if (this.now().getTime() < this.dayEndsAt) return;
    this.startDay();
    this.used = 0;
    this.dirty = true;
  }

  /** Counts one request; false when the day's limit is already spent (the request is refused, not counted). */
  consume(): boolean {
    this.roll();
    if (this.used >= this.max) return false;
    this.used++;
    this.dirty = true;
    return true;
  }

  snapshot(): { used: number; max: number } {
    this.roll();
    return { used: this.used, max: this.max };
  }

  async flush(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    try {
      await this.store.save(this.day, this.used);
    } catch (error) {
      this.dirty = true;
      throw error;
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }
}
