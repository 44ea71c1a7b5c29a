import { randomUUID } from 'node:crypto';

/** Long work the console started (a backfill, a bulk retry), with its progress for the page. */
export interface Job {
  id: string;
  kind: string;
  state: 'running' | 'done' | 'failed';
  done: number;
  /** Unknown until the work has counted it. */
  total: number | null;
  message?: string;
  startedAt: string;
  finishedAt?: string;
}

/** How many finished jobs are kept to be looked at. */
const KEEP_FINISHED = 20;

/**
 * The console's running and recent jobs. One of a kind runs at a time: asking for a second
 * backfill while one runs answers the running one.
 */
export class JobBoard {
  private readonly jobs = new Map<string, Job>();

  start(
    kind: string,
    work: (progress: (done: number, total: number | null) => void) => Promise<string | undefined>,
  ): Job {
    const running = [...this.jobs.values()].find((j) => j.kind === kind && j.state === 'running');
    if (running) return running;
    const job: Job = {
      id: randomUUID(),
      kind,
      state: 'running',
      done: 0,
      total: null,
      startedAt: new Date().toISOString(),
    };
    this.jobs.set(job.id, job);
    work((done, total) => {
      job.done = done;
      job.total = total;
    }).then(
      (message) => this.finish(job, 'done', message),
      (error: unknown) => this.finish(job, 'failed', (error as Error).message),
    );
    return job;
  }

  get(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  list(): Job[] {
    return [...this.jobs.values()].reverse();
  }

  private finish(job: Job, state: Job['state'], message: string | undefined): void {
    job.state = state;
    job.message = message;
    job.finishedAt = new Date().toISOString();
    const finished = [...this.jobs.values()].filter((j) => j.state !== 'running');
    for (const old of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED)))
      this.jobs.delete(old.id);
  }
}
