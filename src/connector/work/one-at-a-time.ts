/** Runs work under a key after any earlier work under the same key has finished. */
export class OneAtATime {
  private readonly running = new Map<string, Promise<unknown>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.running.get(key) ?? Promise.resolve();
    const mine = before.then(work, work);
    const settled = mine.then(
      () => undefined,
      () => undefined,
    );
    this.running.set(key, settled);
    try {
      return await mine;
    } finally {
      if (this.running.get(key) === settled) this.running.delete(key);
    }
  }
}
