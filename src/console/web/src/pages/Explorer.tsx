import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { navigate } from '../App.js';
import { get, type PairView, type SearchHit } from '../api.js';
import { show, when } from '../format.js';
import { Loading } from '../components/Status.js';
import { HeaderRow } from '../components/Table.js';

export function Explorer({ arg }: { arg: string }) {
  const [text, setText] = useState('');
  const [q, setQ] = useState('');
  const hits = useQuery({
    queryKey: ['search', q],
    queryFn: () => get<{ hits: SearchHit[] }>(`explorer/search?q=${encodeURIComponent(q)}`),
    enabled: q !== '',
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const next = text.trim();
    // The same search again asks again: what it looks for may have arrived since.
    if (next === q) void hits.refetch();
    else setQ(next);
  };
  return (
    <div className="explorer">
      <form role="search" onSubmit={submit} className="search">
        <label htmlFor="explorer-q">Email, name, prospect id or CRM id</label>
        <input id="explorer-q" type="search" value={text} onChange={(e) => setText(e.target.value)} />
        <button type="submit">Search</button>
      </form>
      {q !== '' &&
        (hits.data ? (
          hits.data.hits.length ? (
            <ul className="hits" aria-label="Search results">
              {hits.data.hits.map((h) => (
                <li key={`${h.kind}:${h.id}`}>
                  <a href={`#/explorer/${encodeURIComponent(h.id)}`}>
                    <span className="kind">{h.kind}</span> {h.name || '(no name)'}{' '}
                    {h.email ? `<${h.email}>` : ''} <code>{h.id}</code>
                  </a>
                </li>
              ))}
            </ul>
          ) : (
            <p className="empty">Nothing found for “{q}”.</p>
          )
        ) : (
          <Loading error={hits.error} />
        ))}
      {arg && <Pair id={arg} />}
    </div>
  );
}

function Pair({ id }: { id: string }) {
  const { data, error } = useQuery({
    queryKey: ['pair', id],
    queryFn: () => get<PairView>(`explorer/records/${encodeURIComponent(id)}`),
    refetchInterval: 5_000,
  });
  if (!data) return <Loading error={error} />;
  const { link, prospect, crm } = data;
  return (
    <article className="pair" aria-labelledby="pair-title">
      <h2 id="pair-title">
        {prospect ? `Prospect ${prospect.id}` : 'No prospect'} ↔{' '}
        {crm ? `${crm.object} ${String(crm.record.Id)}` : 'no CRM record'}
      </h2>
      <p data-testid="link-state">
        {link
          ? `Linked to ${link.crmObject} ${link.crmId}${link.deleted ? ' (both in the recycle bins)' : ''}; last synced ${when(link.updatedAt)}`
          : 'Not linked'}
        {link && id !== link.crmId && id !== String(link.prospectId) && (
          <>
            {' '}
            — <a href={`#/explorer/${link.crmId}`}>open the linked {link.crmObject}</a>
          </>
        )}
      </p>
      <div className="table-wrap">
        <table>
          <caption>Mapped fields side by side</caption>
          <thead>
            <tr>
              <th scope="col">Prospect field</th>
              <th scope="col">Prospect value</th>
              <th scope="col">{crm?.object ?? 'CRM'} field</th>
              <th scope="col">CRM value</th>
              <th scope="col">Last synced</th>
              <th scope="col">Direction, policy</th>
            </tr>
          </thead>
          <tbody>
            {data.fields.map((f) => {
              const differs = show(f.prospectValue) !== show(f.crmValue);
              return (
                <tr key={f.prospectField} className={differs ? 'differs' : undefined}>
                  <th scope="row">{f.prospectField}</th>
                  <td>{show(f.prospectValue)}</td>
                  <td>{f.crmField}</td>
                  <td>{show(f.crmValue)}</td>
                  <td>{show(f.lastSynced)}</td>
                  <td>
                    {f.direction}, {f.conflict} wins
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>

      <h3>Field history</h3>
      {data.history.length === 0 ? (
        <p className="empty">The sync has written nothing for this pair yet.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <HeaderRow names={['When', 'Field', 'Change', 'Value (was)', 'Why', 'API call']} />
            </thead>
            <tbody>
              {[...data.history].reverse().map((h) => (
                <tr key={h.id}>
                  <td>{when(h.at)}</td>
                  <td>
                    {h.field}
                    {h.crmField ? ` / ${h.crmField}` : ''}
                  </td>
                  <td>
                    {/* The sync carries a change from one side to the other. */}
                    {h.toSide === 'crm' ? 'marketing → CRM' : 'CRM → marketing'}
                  </td>
                  <td>
                    {show(h.value)} <span className="was">({show(h.previous)})</span>
                  </td>
                  <td>{h.reason}</td>
                  <td>
                    <code>{h.apiCall}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <div className="two">
        <section aria-labelledby="activities-title">
          <h3 id="activities-title">Activities</h3>
          {data.activities.length === 0 ? (
            <p className="empty">No activities.</p>
          ) : (
            <ul className="activities">
              {data.activities.map((a) => (
                <li key={a.id}>
                  <strong>{a.typeName ?? `type ${a.type}`}</strong> {a.details ?? ''}{' '}
                  <span>{when(a.createdAt)}</span>{' '}
                  {a.taskId ? (
                    <span className="badge good">Task {a.taskId}</span>
                  ) : (
                    <span className="badge">no Task</span>
                  )}
                </li>
              ))}
            </ul>
          )}
        </section>
        <section aria-labelledby="tasks-title">
          <h3 id="tasks-title">CRM Tasks</h3>
          {data.tasks.length === 0 ? (
            <p className="empty">No Tasks.</p>
          ) : (
            <ul className="tasks" data-testid="tasks">
              {data.tasks.map((t) => (
                <li key={t.Id}>
                  <strong>{t.Subject}</strong> {t.Status} <span>{when(t.CreatedDate)}</span>
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
      <p>
        <button type="button" onClick={() => navigate('explorer')}>
          Close
        </button>
      </p>
    </article>
  );
}
