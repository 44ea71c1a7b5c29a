import { describe, expect, it } from 'vitest';
import { JobRunner } from '../../src/store/job-runner.js';

describe('the background job runner', () => {
  it('tries a failed job again after a backoff, and finishes it', async () => {
    const pending = ['import 1'];
    const done: string[] = [];
    const errors: string[] = [];
    let attempts = 0;
    const runner = new JobRunner<string>(
      async () => pending[0],
      async (job) => {
        attempts += 1;
        // The first try meets a lock another process holds too long.
        if (attempts === 1) throw new Error('database is locked');
        done.push(job);
        pending.shift();
      },
      (error) => errors.push((error as Error).message),
    );
    runner.kick();
    for (let i = 0; i < 100 && done.length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(errors).toEqual(['database is locked']);
    expect(done).toEqual(['import 1']);
    await runner.close();
  });

  it('does not try again once closed', async () => {
    let attempts = 0;
    const runner = new JobRunner<string>(
      async () => 'job',
      async () => {
        attempts += 1;
        throw new Error('failing');
      },
      () => undefined,
    );
    runner.kick();
    await runner.idle();
    await runner.close();
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(attempts).toBe(1);
  });
});
