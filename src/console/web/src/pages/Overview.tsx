import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { get, post, type ConnectorStatus, type Job, type MinuteMetrics } from '../api.js';
import { count, when } from '../format.js';
import { JobProgress } from '../components/JobProgress.js';
import { Loading } from '../components/Status.js';

const PRIORITY_NAMES: Record<string, string> = { '0': 'Hand-offs', '1': 'Urgent', '2': 'Changes' };
/** The overview refreshes this often. */
const LIVE_MS = 5_000;

/** A day of minutes drawn as ten-minute points, an hour as minutes. */
function bucket(minutes: MinuteMetrics[], size: number) {
  const points = [];
  for (let i = 0; i < minutes.length; i += size) {
    const slice = minutes.slice(i, i + size);
    const sum = (key: keyof Omit<MinuteMetrics, 'minute'>) => slice.reduce((n, m) => n + m[key], 0);
    points.push({
      time: new Date(`${slice[0]!.minute}Z`).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }),
      synced: sum('synced'),
      crmCalls: sum('crmCalls'),
      marketingCalls: sum('marketingCalls'),
      errors: sum('errors'),
    });
  }
  return points;
}

export function Overview() {
  const [range, setRange] = useState<'hour' | 'day'>('hour');
  const [backfill, setBackfill] = useState<Job | null>(null);
  const status = useQuery({
    queryKey: ['overview'],
    queryFn: () => get<ConnectorStatus>('overview'),
    refetchInterval: LIVE_MS,
  });
  const metrics = useQuery({
    queryKey: ['metrics', range],
    queryFn: () => get<{ minutes: MinuteMetrics[] }>(`metrics?minutes=${range === 'hour' ? 60 : 1440}`),
    refetchInterval: LIVE_MS,
  });
  const startBackfill = useMutation({
    mutationFn: () => post<{ job: Job }>('backfill'),
    onSuccess: (r) => setBackfill(r.job),
  });
  const pause = useMutation({
    mutationFn: (paused: boolean) => post('pause', { paused }),
    onSuccess: () => void status.refetch(),
  });

  if (!status.data) return <Loading error={status.error} />;
  const s = status.data;
  const points = metrics.data ? bucket(metrics.data.minutes, range === 'hour' ? 1 : 10) : [];
  const errorTotal = Object.values(s.errors).reduce((a, b) => a + b, 0);
  const queueBars = ['0', '1', '2'].map((p) => ({
    name: PRIORITY_NAMES[p],
    items: s.queue.byPriority[Number(p)] ?? 0,
  }));
  const errorBars = Object.entries(s.errors).map(([category, n]) => ({ category, n }));
  const budget = s.crmApi ? s.crmApi.used / s.crmApi.limit : null;
  const per = range === 'hour' ? 'minute' : '10 minutes';

  return (
    <div className="overview">
      <section className="cards" aria-label="Health">
        {(['crm', 'marketing'] as const).map((side) => {
          const h = s.connections[side];
          return (
            <article key={side} className={`card ${h.ok ? 'good' : 'bad'}`}>
              <h2>{side === 'crm' ? 'CRM' : 'Marketing'} connection</h2>
              <p className="big">{h.ok ? 'Connected' : 'Failing'}</p>
              <p>{h.ok ? `${h.latencyMs ?? 0} ms, checked ${when(h.checkedAt)}` : h.message}</p>
            </article>
          );
        })}
        <article className={`card ${s.paused ? 'bad' : 'good'}`}>
          <h2>Sync</h2>
          <p className="big">{s.paused ? 'Paused' : s.lastPass?.ok === false ? 'Failing' : 'Running'}</p>
          <p>
            Last pass {when(s.lastPass?.at)}
            {s.lastPass?.message ? `: ${s.lastPass.message}` : ''}; change events{' '}
            {s.changeEvents ? 'on' : 'off (polling)'}
          </p>
          <button type="button" onClick={() => pause.mutate(!s.paused)} disabled={pause.isPending}>
            {s.paused ? 'Resume sync' : 'Pause sync'}
          </button>
        </article>
        <article className="card">
          <h2>Sync lag</h2>
          <p className="big" data-testid="lag">
            {s.lagSeconds < 1 ? 'none' : `${Math.round(s.lagSeconds)} s`}
          </p>
          <p>the oldest waiting change; {count(s.queue.total)} queued</p>
        </article>
        <article className="card">
          <h2>Records synced</h2>
          <p className="big" data-testid="linked">
            {count(s.linked.total)}
          </p>
          <p>
            {count(s.linked.Lead)} Leads, {count(s.linked.Contact)} Contacts linked to prospects
          </p>
          {s.backfill.needed ? (
            <p className="notice" role="status" data-testid="backfill-needed">
              A backfill is needed: records made before the connector first started are not synced until one
              runs.
            </p>
          ) : null}
          <button type="button" onClick={() => startBackfill.mutate()} disabled={startBackfill.isPending}>
            Run backfill
          </button>
          {backfill && <JobProgress jobId={backfill.id} label="Backfill" />}
        </article>
        <article className="card">
          <h2>API budget today</h2>
          {s.crmApi && budget !== null ? (
            <>
              <p className="big">{Math.round(budget * 100)}%</p>
              <label>
                CRM: {count(s.crmApi.used)} of {count(s.crmApi.limit)} requests (sync stops at{' '}
                {Math.round(s.crmApi.share * 100)}%)
                <progress max={s.crmApi.limit} value={s.crmApi.used} />
              </label>
            </>
          ) : (
            <p>CRM usage not known yet</p>
          )}
          {s.budgets.crm ? (
            <p data-testid="crm-forecast">
              CRM forecast for the day: {count(s.budgets.crm.forecast)}; {count(s.budgets.crm.byConnector)} by
              the sync
            </p>
          ) : null}
          <label data-testid="marketing-budget">
            Marketing: {count(s.budgets.marketing.used)} calls by the sync, of its share{' '}
            {count(Math.round(s.budgets.marketing.limit * s.budgets.marketing.share))} (
            {Math.round(s.budgets.marketing.share * 100)}% of the unit’s {count(s.budgets.marketing.limit)});
            forecast {count(s.budgets.marketing.forecast)}
            <progress
              max={Math.round(s.budgets.marketing.limit * s.budgets.marketing.share)}
              value={s.budgets.marketing.used}
            />
          </label>
          {s.polling ? (
            <p className="hint" data-testid="polling">
              Polling the CRM every {seconds(s.polling.crm.intervalMs)}
              {s.changeEvents ? ' (change events on)' : ''}, marketing every{' '}
              {seconds(s.polling.marketing.intervalMs)}
            </p>
          ) : null}
        </article>
        <article className={`card ${errorTotal ? 'bad' : 'good'}`}>
          <h2>Sync errors</h2>
          <p className="big">{count(errorTotal)}</p>
          <p>
            <a href="#/errors">See and fix them</a>
          </p>
        </article>
      </section>

      <section aria-labelledby="activity-title" className="charts">
        <div className="chart-head">
          <h2 id="activity-title">Activity</h2>
          <fieldset className="range">
            <legend className="visually-hidden">Time range</legend>
            {(['hour', 'day'] as const).map((r) => (
              <label key={r}>
                <input
                  type="radio"
                  name="range"
                  value={r}
                  checked={range === r}
                  onChange={() => setRange(r)}
                />
                Last {r}
              </label>
            ))}
          </fieldset>
        </div>
        <MinuteChart
          caption={`Records synced per ${per}`}
          points={points}
          lines={[
            { key: 'synced', name: 'Records synced', color: '#2563eb' },
            { key: 'errors', name: 'Errors', color: '#dc2626' },
          ]}
        />
        <MinuteChart
          caption={`API calls per ${per}`}
          points={points}
          lines={[
            { key: 'crmCalls', name: 'CRM', color: '#0891b2' },
            { key: 'marketingCalls', name: 'Marketing', color: '#7c3aed' },
          ]}
        />
        <div className="two">
          <figure>
            <figcaption>Queue depth by priority</figcaption>
            <ResponsiveContainer width="100%" height={200}>
              <BarChart data={queueBars}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="name" />
                <YAxis allowDecimals={false} />
                <Tooltip />
                <Bar dataKey="items" name="Waiting" fill="#2563eb" />
              </BarChart>
            </ResponsiveContainer>
          </figure>
          <figure>
            <figcaption>Open errors by category</figcaption>
            <ResponsiveContainer width="100%" height={200}>
              <BarChart data={errorBars}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="category" />
                <YAxis allowDecimals={false} />
                <Tooltip />
                <Bar dataKey="n" name="Errors" fill="#dc2626" />
              </BarChart>
            </ResponsiveContainer>
          </figure>
        </div>
      </section>
    </div>
  );
}

type Point = ReturnType<typeof bucket>[number];

/** A line chart of per-minute (or ten-minute) counts over time, with its legend. */
function MinuteChart({
  caption,
  points,
  lines,
}: {
  caption: string;
  points: Point[];
  lines: Array<{ key: keyof Omit<Point, 'time'>; name: string; color: string }>;
}) {
  return (
    <figure>
      <figcaption>{caption}</figcaption>
      <ResponsiveContainer width="100%" height={220}>
        <LineChart data={points}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="time" minTickGap={24} />
          <YAxis allowDecimals={false} />
          <Tooltip />
          <Legend />
          {lines.map((l) => (
            <Line key={l.key} type="linear" dataKey={l.key} name={l.name} stroke={l.color} dot={false} />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}

/** A polling interval as people say it. */
function seconds(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  return `${Math.round(ms / 60_000)} min`;
}
