import { useQuery } from '@tanstack/react-query';
import { get, type Job } from '../api.js';

/** Long work's progress, polled until it is done: a progress bar with the counts beside it. */
export function JobProgress({ jobId, label }: { jobId: string; label: string }) {
  const { data } = useQuery({
    queryKey: ['job', jobId],
    queryFn: () => get<{ job: Job }>(`jobs/${jobId}`),
    refetchInterval: (query) => (query.state.data?.job.state === 'running' ? 500 : false),
  });
  const job = data?.job;
  if (!job) return null;
  const total = job.total ?? undefined;
  return (
    <div className="job" role="status" aria-live="polite">
      <label>
        {label}: {job.state === 'running' ? 'running' : job.state}
        <progress max={total ?? 1} value={total === undefined ? undefined : job.done} />
      </label>
      <span>
        {job.done.toLocaleString()}
        {total !== undefined ? ` of ${total.toLocaleString()}` : ''}
        {job.message ? ` — ${job.message}` : ''}
      </span>
    </div>
  );
}
