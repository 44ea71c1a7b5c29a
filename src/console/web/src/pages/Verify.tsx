import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { get, post, type Job, type VerifyRun, type VerifyRunSummary } from '../api.js';
import { count, show, when } from '../format.js';
import { JobProgress } from '../components/JobProgress.js';
import { Loading, Notice } from '../components/Status.js';
import { HeaderRow } from '../components/Table.js';

type DifferenceClass = keyof VerifyRunSummary['byClass'];

/** Classes a repair settles (the others are in flight, held by a sync error, or kept by a mapping). */
const REPAIRABLE: DifferenceClass[] = ['drift', 'conflict', 'orphan', 'unlinked duplicate'];
/** The differences a page shows (a run keeps 10,000; `handoff sync verify` writes them all to CSV). */
const SHOWN = 200;

/**
 * Do both sides agree? The verifies run (by hand, here, or on the connector's schedule) with
 * their counts by class as a trend, and the last one's differences with a repair per class or
 * per field: each repair verifies again and settles what it chose through the sync.
 */
export function Verify() {
  const queries = useQueryClient();
  const runs = useQuery({
    queryKey: ['verify-runs'],
    queryFn: () => get<{ runs: VerifyRunSummary[] }>('verify/runs'),
    refetchInterval: 5_000,
  });
  const latest = runs.data?.runs[0];
  const run = useQuery({
    queryKey: ['verify-run', latest?.id],
    queryFn: () => get<{ run: VerifyRun }>(`verify/runs/${latest!.id}`),
    enabled: latest !== undefined,
  });
  const [job, setJob] = useState<{ job: Job; label: string } | null>(null);
  const start = useMutation({
    mutationFn: (body: { repair?: true | { class?: DifferenceClass; field?: string }; label: string }) =>
      post<{ job: Job }>('verify', body.repair ? { repair: body.repair } : {}).then((r) => ({
        job: r.job,
        label: body.label,
      })),
    onSuccess: setJob,
  });

  // The job's state as JobProgress polls it (the same query): a run done brings its runs in.
  const polled = useQuery({
    queryKey: ['job', job?.job.id],
    queryFn: () => get<{ job: Job }>(`jobs/${job!.job.id}`),
    enabled: job !== null,
    refetchInterval: (query) => (query.state.data?.job.state === 'running' ? 500 : false),
  });
  const jobState = polled.data?.job.state ?? job?.job.state;
  useEffect(() => {
    if (jobState && jobState !== 'running') void queries.invalidateQueries({ queryKey: ['verify-runs'] });
  }, [jobState, queries]);

  if (!runs.data) return <Loading error={runs.error} />;
  // The classes in the server's order (in flight, drift, conflict …), as each run counts them.
  const CLASSES = Object.keys(latest?.byClass ?? {}) as DifferenceClass[];
  const busy = start.isPending || jobState === 'running';
  const differences = run.data?.run.differences ?? [];
  return (
    <div className="verify">
      <div className="actions">
        <button type="button" disabled={busy} onClick={() => start.mutate({ label: 'Verify' })}>
          Verify now
        </button>
        <button
          type="button"
          disabled={busy || !latest?.differenceCount}
          onClick={() => start.mutate({ repair: true, label: 'Verify and repair all' })}
        >
          Repair all
        </button>
      </div>
      {job && <JobProgress jobId={job.job.id} label={job.label} />}
      <Notice error={start.error ?? run.error} />
      {!latest && <p className="empty">No verify has run yet.</p>}
      {latest && (
        <>
          <h2>Runs</h2>
          <table>
            <HeaderRow names={['When', 'Pairs', 'Differences', ...CLASSES, 'API calls', 'Repair']} />
            <tbody>
              {runs.data.runs.map((r) => (
                <tr key={r.id}>
                  <td>{when(r.startedAt)}</td>
                  <td>{count(r.pairs)}</td>
                  <td>{count(r.differenceCount)}</td>
                  {CLASSES.map((c) => (
                    <td key={c}>{count(r.byClass[c])}</td>
                  ))}
                  <td>
                    CRM {r.calls.crm}, marketing {r.calls.marketing}
                  </td>
                  <td>{r.repair ? `${r.repair.queued} queued, ${r.repair.unlinked} unlinked` : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Last run, by class and field</h2>
          <table>
            <HeaderRow names={['Object and field', ...CLASSES]} actions="Repair" />
            <tbody>
              {Object.entries(latest.byField).map(([field, counts]) => (
                <tr key={field}>
                  <td>{field}</td>
                  {CLASSES.map((c) => (
                    <td key={c}>{count(counts[c] ?? 0)}</td>
                  ))}
                  <td>
                    <button
                      type="button"
                      disabled={busy || !REPAIRABLE.some((c) => counts[c])}
                      onClick={() => start.mutate({ repair: { field }, label: `Repair ${field}` })}
                    >
                      Repair {field}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="actions">
            {REPAIRABLE.filter((c) => latest.byClass[c] > 0).map((c) => (
              <button
                key={c}
                type="button"
                disabled={busy}
                onClick={() => start.mutate({ repair: { class: c }, label: `Repair ${c}` })}
              >
                Repair every {c}
              </button>
            ))}
          </div>
          {differences.length > 0 && (
            <table aria-label="Differences">
              <HeaderRow
                names={['Class', 'Record', 'Prospect', 'Field', 'CRM value', 'Marketing value', 'Why']}
              />
              <tbody>
                {differences.slice(0, SHOWN).map((d, i) => (
                  <tr key={i}>
                    <td>{d.class}</td>
                    <td>
                      <a href={`#/explorer/${d.crmId ?? ''}`}>
                        {d.crmObject} {d.crmId}
                      </a>
                    </td>
                    <td>{show(d.prospectId)}</td>
                    <td>{d.field ?? '*'}</td>
                    <td>{show(d.crmValue)}</td>
                    <td>{show(d.marketingValue)}</td>
                    <td>{d.note}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </div>
  );
}
