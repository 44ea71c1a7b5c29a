import type { TestCrm } from './crm-server.js';

export interface JobInfo {
  id: string;
  state: string;
  numberRecordsProcessed: number;
  numberRecordsFailed: number;
  errorMessage?: string;
  contentUrl: string;
}

/** Polls a Bulk API job until it is finished, failed or aborted. */
export async function waitForJob(crm: TestCrm, kind: 'ingest' | 'query', id: string): Promise<JobInfo> {
  for (;;) {
    const job = (await crm.call(`/jobs/${kind}/${id}`, 'GET')).body as JobInfo;
    if (['JobComplete', 'Failed', 'Aborted'].includes(job.state)) return job;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
