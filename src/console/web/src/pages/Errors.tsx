import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { get, post, type Job, type SyncError } from '../api.js';
import { when } from '../format.js';
import { JobProgress } from '../components/JobProgress.js';
import { Loading, Notice } from '../components/Status.js';
import { HeaderRow } from '../components/Table.js';

/** The refused values of the fields the error names (all it carried when it names none). */
function refusedValues(e: SyncError): string {
  const entries = Object.entries(e.values).filter(
    ([field]) => e.fields.length === 0 || e.fields.includes(field),
  );
  return entries.map(([field, value]) => `${field} = ${JSON.stringify(value)}`).join(', ');
}

export function Errors() {
  const queries = useQueryClient();
  const { data, error } = useQuery({
    queryKey: ['errors'],
    queryFn: () => get<{ errors: SyncError[] }>('errors'),
    refetchInterval: 5_000,
  });
  const [job, setJob] = useState<Job | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const refresh = () => void queries.invalidateQueries({ queryKey: ['errors'] });
  const retry = useMutation({
    mutationFn: (ids: number[] | 'all') => post<{ marked?: number; job?: Job }>('errors/retry', { ids }),
    onSuccess: (answer) => {
      if (answer.job) setJob(answer.job);
      else setDone(`${answer.marked ?? 0} marked for retry: the next pass tries again.`);
      refresh();
    },
  });
  const skip = useMutation({
    mutationFn: (ids: number[] | 'all') => post<{ skipped: number }>('errors/skip', { ids }),
    onSuccess: (answer) => {
      setDone(`${answer.skipped} skipped.`);
      refresh();
    },
  });

  if (!data) return <Loading error={error} />;
  const groups = new Map<string, SyncError[]>();
  for (const e of data.errors) groups.set(e.category, [...(groups.get(e.category) ?? []), e]);

  return (
    <div className="errors">
      <div className="actions">
        <button
          type="button"
          onClick={() => retry.mutate('all')}
          disabled={!data.errors.length || retry.isPending}
        >
          Retry all
        </button>
        <button
          type="button"
          onClick={() => skip.mutate('all')}
          disabled={!data.errors.length || skip.isPending}
        >
          Skip all
        </button>
        <a className="button" href="/console/api/errors.csv" download>
          Export CSV
        </a>
      </div>
      {job && <JobProgress jobId={job.id} label="Retrying every error" />}
      <Notice error={retry.error ?? skip.error} ok={done} />
      {data.errors.length === 0 && <p className="empty">No open sync errors.</p>}
      {[...groups].map(([category, errors]) => (
        <section key={category} aria-labelledby={`cat-${category}`}>
          <h2 id={`cat-${category}`}>
            {category} <span className="count">({errors.length})</span>
          </h2>
          <p className="hint">{errors[0]?.hint}</p>
          <div className="table-wrap">
            <table>
              <thead>
                <HeaderRow
                  names={['Person', 'Records', 'Refused by', 'Refused value', 'Message', 'Since', 'State']}
                  actions="Actions"
                />
              </thead>
              <tbody>
                {errors.map((e) => {
                  const record = e.crmId ?? (e.prospectId === null ? '' : String(e.prospectId));
                  return (
                    <tr key={e.id} data-error-id={e.id}>
                      <td>
                        {e.person.name ?? '—'}
                        {e.person.email ? <div className="muted">{e.person.email}</div> : null}
                      </td>
                      <td>
                        {e.crmId ? (
                          <a href={`#/explorer/${encodeURIComponent(e.crmId)}`}>
                            {e.crmObject} {e.crmId}
                          </a>
                        ) : (
                          `${e.crmObject} (not made)`
                        )}
                        {e.prospectId !== null ? (
                          <div>
                            <a href={`#/explorer/${encodeURIComponent(String(e.prospectId))}`}>
                              prospect {e.prospectId}
                            </a>
                          </div>
                        ) : null}
                      </td>
                      <td>{e.side === 'crm' ? 'CRM' : 'Marketing'}</td>
                      <td>{refusedValues(e) || e.fields.join(', ') || '—'}</td>
                      <td className="message">
                        {e.code ? <code>{e.code}</code> : null} {e.message}
                        {e.tries > 1 ? <div className="muted">refused {e.tries} times</div> : null}
                      </td>
                      <td>{when(e.createdAt)}</td>
                      <td>{e.state === 'retry' ? 'retrying' : 'open'}</td>
                      <td className="row-actions">
                        <button
                          type="button"
                          aria-label={`Retry the error of ${record}`}
                          onClick={() => retry.mutate([e.id])}
                          disabled={e.state === 'retry'}
                        >
                          Retry
                        </button>
                        <button
                          type="button"
                          aria-label={`Skip the error of ${record}`}
                          onClick={() => skip.mutate([e.id])}
                        >
                          Skip
                        </button>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </section>
      ))}
    </div>
  );
}
