import { sameSecret } from '../same-secret.js';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { StoreDb } from '../store/database.js';
import type {} from './request-flags.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** This server's Prometheus registry: its requests, its area's gauges, the process. */
    metrics: Registry;
  }
}

/** Request latency buckets (seconds): a fast local answer to a slow Bulk upload. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Counts every request by route pattern and status, with its latency, in a registry of the
 * server's own (labelled `server`), beside the process's standard metrics. Route patterns, never
 * concrete URLs: ids and emails in paths must not reach a label, and the label set stays small.
 */
export function observeRequests(app: FastifyInstance, server: string): void {
  const registry = new Registry();
  registry.setDefaultLabels({ server });
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'handoff_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'handoff_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method and route pattern',
    labelNames: ['method', 'route'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  app.decorate('metrics', registry);
  app.addHook('onResponse', async (request, reply) => {
    // Unmatched requests (404s, probes of random paths) share one label.
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: reply.statusCode });
    latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
}

/** One labelled value of a gauge read at scrape time. */
export interface GaugeValue {
  labels?: Record<string, string>;
  value: number;
}

/**
 * A gauge read from the store when Prometheus scrapes (queue depth, backlog, lag): the figure is
 * the deployment's, the same from every process sharing the store, so alert on max(), not sum().
 */
export function storeGauge(
  registry: Registry,
  metric: { name: string; help: string; labelNames?: string[] },
  read: () => Promise<GaugeValue[]>,
): void {
  new Gauge({
    ...metric,
    labelNames: metric.labelNames ?? [],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { labels, value } of await read()) this.set(labels ?? {}, value);
    },
  });
}

/**
 * One read shared by the gauges of a scrape: Prometheus collects them together, so while a read
 * is in flight every caller gets it, and the next scrape reads afresh.
 */
export function sharedRead<T>(read: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | null = null;
  return () =>
    (pending ??= read().finally(() => {
      pending = null;
    }));
}

/** The job runners' backlog (Bulk jobs, imports, exports not finished), one metric for every area. */
export function jobsBacklogGauge(
  registry: Registry,
  read: () => Promise<Array<{ runner: string; state: string; count: number }>>,
): void {
  storeGauge(
    registry,
    {
      name: 'handoff_jobs_backlog',
      help: 'Jobs not yet finished, by runner and state',
      labelNames: ['runner', 'state'],
    },
    async () =>
      (await read()).map(({ runner, state, count }) => ({ labels: { runner, state }, value: count })),
  );
}

/** A named check `/readyz` runs: resolves when the dependency answers, throws when it does not. */
export type ReadinessCheck = () => Promise<unknown>;

const CHECK_TIMEOUT_MS = 2_000;

/** The store answers a trivial query. */
export function storeAnswers(db: StoreDb): ReadinessCheck {
  return () => sql`select 1`.execute(db);
}

/** Reachable: the server at `url` answers HTTP at all (a 401 is an answer; no API call is spent). */
export function reachable(url: string): ReadinessCheck {
  return async () => {
    const response = await fetch(url, { signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
    await response.body?.cancel();
  };
}

/**
 * `/healthz` (the process is alive), `/readyz` (every check passes: the store, the peers it
 * needs) and `/metrics` (Prometheus text). Open like a load balancer's probe expects, except
 * `/metrics` when HANDOFF_METRICS_TOKEN is set: then only with that bearer token. None of them
 * says more than ok or not: a failing check's reason goes to the log, not to the caller.
 */
export function serveHealth(app: FastifyInstance, checks: Record<string, ReadinessCheck>): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (request, reply) => {
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await withTimeout(check(), CHECK_TIMEOUT_MS);
          return [name, 'ok'] as const;
        } catch (error) {
          request.log.warn({ check: name, err: error }, 'readiness check failed');
          return [name, 'failing'] as const;
        }
      }),
    );
    const ready = results.every(([, state]) => state === 'ok');
    // Not ready is an answer, not a server failure: the failing check is logged above, once.
    if (!ready) request.errorLogged = true;
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? 'ok' : 'unavailable', checks: Object.fromEntries(results) });
  });
  app.get('/metrics', async (request, reply) => {
    const token = process.env.HANDOFF_METRICS_TOKEN;
    if (token && !sameSecret(request.headers.authorization?.replace(/^Bearer\s+/i, '') ?? '', token))
      return reply.code(401).send({ error: 'a bearer token is needed for /metrics' });
    return reply.type(app.metrics.contentType).send(await app.metrics.metrics());
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
