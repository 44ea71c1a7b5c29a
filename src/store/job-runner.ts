/**
 * Runs stored background jobs one at a time: `kick()` starts a drain if none is running, and
 * the drain takes `next()` until it returns nothing. Jobs live in the store, so a restart
 * finds them again (call `kick()` at start). A drain that fails (a lock held too long by
 * another process, say) is tried again after a backoff: the job is still in the store, and
 * goes on from its last checkpoint.
 */
export class JobRunner<J> {
  private running: Promise<void> | null = null;
  private closing = false;
  private failures = 0;
  private retry: NodeJS.Timeout | null = null;

  constructor(
    private readonly next: () => Promise<J | undefined>,
    private readonly process: (job: J) => Promise<void>,
    private readonly onError?: (error: unknown) => void,
  ) {}

  kick(): void {
    if (this.running || this.closing) return;
    this.running = this.drain()
      .then(() => {
        this.failures = 0;
      })
      .catch((error: unknown) => {
        this.onError?.(error);
        this.retryLater();
      })
      .finally(() => {
        this.running = null;
      });
  }

  /** 0.5 s, 1 s, 2 s … at most 30 s after a failed drain. */
  private retryLater(): void {
    if (this.closing || this.retry) return;
    const delay = Math.min(30_000, 500 * 2 ** Math.min(this.failures++, 10));
    this.retry = setTimeout(() => {
      this.retry = null;
      this.kick();
    }, delay);
    this.retry.unref();
  }

  /** Resolves once no job is running (tests, and shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** True once closing: a job in progress checks it at its checkpoints and stops there. */
  get stopping(): boolean {
    return this.closing;
  }

  /** Stops taking jobs and waits for the one in progress to reach a checkpoint. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    await this.idle();
  }

  private async drain(): Promise<void> {
    while (!this.closing) {
      const job = await this.next();
      if (job === undefined) return;
      await this.process(job);
    }
  }
}
