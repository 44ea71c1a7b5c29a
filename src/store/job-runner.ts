/**
 * Runs stored background jobs one at a time: `kick()` starts a drain if none is running, and
 * the drain takes `next()` until it returns nothing. Jobs live in the store, so a restart
 * finds them again (call `kick()` at start).
 */
export class JobRunner<J> {
  private running: Promise<void> | null = null;
  private closing = false;

  constructor(
    private readonly next: () => Promise<J | undefined>,
    private readonly process: (job: J) => Promise<void>,
    private readonly onError?: (error: unknown) => void,
  ) {}

  kick(): void {
    if (this.running || this.closing) return;
    this.running = this.drain()
      .catch((error: unknown) => this.onError?.(error))
      .finally(() => {
        this.running = null;
      });
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
