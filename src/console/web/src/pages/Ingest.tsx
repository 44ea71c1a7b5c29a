import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { get, post } from '../api.js';
import { when } from '../format.js';
import { Loading, Notice } from '../components/Status.js';
import { ActionsHeader, HeaderRow } from '../components/Table.js';

interface Source {
  id: string;
  name: string;
  settings: { apiVersion: 3 | 4; businessUnitId?: string | null };
  createdAt: string;
}
interface StoredEvent {
  seq: number;
  sourceId: string;
  message: {
    type: string;
    messageId?: string;
    userId?: string | null;
    anonymousId?: string | null;
    traits?: Record<string, unknown>;
  };
  status: string;
  attempts: number;
  lastError: string | null;
}
interface IngestAnswer {
  sources: Source[];
  status: Record<string, number>;
  recent: StoredEvent[];
  failures: StoredEvent[];
}

function who(e: StoredEvent): string {
  const email = e.message.traits?.email;
  return typeof email === 'string' ? email : (e.message.userId ?? e.message.anonymousId ?? '—');
}

export function Ingest() {
  const queries = useQueryClient();
  const { data, error } = useQuery({
    queryKey: ['ingest'],
    queryFn: () => get<IngestAnswer>('ingest'),
    refetchInterval: 5_000,
  });
  const [name, setName] = useState('');
  const [version, setVersion] = useState<3 | 4>(4);
  const [key, setKey] = useState<{ source: string; writeKey: string } | null>(null);
  const refresh = () => void queries.invalidateQueries({ queryKey: ['ingest'] });
  const create = useMutation({
    mutationFn: () =>
      post<{ source: Source; writeKey: string }>('ingest/sources', { name, apiVersion: version }),
    onSuccess: (a) => {
      setKey({ source: a.source.name, writeKey: a.writeKey });
      setName('');
      refresh();
    },
  });
  const rotate = useMutation({
    mutationFn: (s: Source) =>
      post<{ writeKey: string }>(`ingest/sources/${s.id}/rotate`).then((a) => ({
        source: s.name,
        writeKey: a.writeKey,
      })),
    onSuccess: (k) => setKey(k),
  });
  const retry = useMutation({
    mutationFn: (seqs: number[] | 'all') => post<{ retried: number }>('ingest/retry', { seqs }),
    onSuccess: refresh,
  });

  if (!data) return <Loading error={error} />;
  const names = new Map(data.sources.map((s) => [s.id, s.name]));
  return (
    <div className="ingest">
      <section aria-labelledby="sources-title">
        <h2 id="sources-title">Sources</h2>
        <div className="table-wrap">
          <table>
            <thead>
              <HeaderRow names={['Name', 'Identify semantics', 'Created']} actions="Actions" />
            </thead>
            <tbody>
              {data.sources.map((s) => (
                <tr key={s.id}>
                  <td>{s.name}</td>
                  <td>v{s.settings.apiVersion}</td>
                  <td>{when(s.createdAt)}</td>
                  <td>
                    <button
                      type="button"
                      onClick={() => rotate.mutate(s)}
                      aria-label={`Rotate the write key of ${s.name}`}
                    >
                      Rotate key
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {key && (
          <p role="status" className="ok">
            Write key of {key.source}: <code data-testid="write-key">{key.writeKey}</code> — copy it now, it
            is not shown again.
          </p>
        )}
        <form
          className="inline"
          onSubmit={(e: FormEvent) => {
            e.preventDefault();
            create.mutate();
          }}
        >
          <label htmlFor="source-name">New source</label>
          <input id="source-name" value={name} onChange={(e) => setName(e.target.value)} required />
          <label htmlFor="source-version">Semantics</label>
          <select
            id="source-version"
            value={version}
            onChange={(e) => setVersion(Number(e.target.value) as 3 | 4)}
          >
            <option value={4}>v4: id, fid, lookup field</option>
            <option value={3}>v3: one prospect per email</option>
          </select>
          <button type="submit" disabled={create.isPending}>
            Create source
          </button>
        </form>
        <Notice error={create.error ?? rotate.error ?? retry.error} />
      </section>

      <section aria-labelledby="status-title">
        <h2 id="status-title">Events by status</h2>
        <ul className="statuses">
          {Object.entries(data.status).map(([status, n]) => (
            <li key={status}>
              {status}: <strong>{n.toLocaleString()}</strong>
            </li>
          ))}
        </ul>
      </section>

      <section aria-labelledby="failed-title">
        <h2 id="failed-title">Failed deliveries</h2>
        {data.failures.length === 0 ? (
          <p className="empty">None.</p>
        ) : (
          <>
            <button type="button" onClick={() => retry.mutate('all')}>
              Retry all failed
            </button>
            <EventTable events={data.failures} names={names} onRetry={(seq) => retry.mutate([seq])} />
          </>
        )}
      </section>

      <section aria-labelledby="recent-title">
        <h2 id="recent-title">Recent events</h2>
        <EventTable events={data.recent} names={names} />
      </section>
    </div>
  );
}

function EventTable({
  events,
  names,
  onRetry,
}: {
  events: StoredEvent[];
  names: Map<string, string>;
  onRetry?: (seq: number) => void;
}) {
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Source</th>
            <th scope="col">Type</th>
            <th scope="col">Who</th>
            <th scope="col">Status</th>
            <th scope="col">Error</th>
            {onRetry && <ActionsHeader label="Retry" />}
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr key={e.seq}>
              <td>{e.seq}</td>
              <td>{names.get(e.sourceId) ?? e.sourceId}</td>
              <td>{e.message.type}</td>
              <td>{who(e)}</td>
              <td>{e.status}</td>
              <td>{e.lastError ?? '—'}</td>
              {onRetry && (
                <td>
                  <button type="button" onClick={() => onRetry(e.seq)}>
                    Retry
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
