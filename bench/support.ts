import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BenchServer {
  url: URL;
  token: string;
  /** Set when the command runs the marketing engine (`demo`). */
  marketing?: { baseUrl: string; businessUnitId: string };
  /** Set when the command runs the ingest (`demo`). */
  ingest?: { url: string; writeKey: string };
  /** Set when the command runs the console (`demo` with the sync on). */
  consoleUrl?: string;
  child: ChildProcess;
  dataDir: string;
  /** Peak resident memory of the server process so far (VmHWM), in MB. */
  peakRssMb(): number;
  /** Resident memory of the server process now (VmRSS), in MB. */
  rssMb(): number;
  /**
   * Whether memory returns once a load stops: the RSS after up to `seconds` of quiet, sampled
   * each second until it is within 10 % of `idleMb` (the figure at start).
   */
  settledRssMb(idleMb: number, seconds?: number): Promise<number>;
  stop(): Promise<void>;
  cleanup(): void;
}

/** Runs the built `handoff crm` (or another command) in its own process, as a user would, and logs in. */
export async function startServer(
  dataDir = mkdtempSync(join(tmpdir(), 'handoff-bench-')),
  command: 'crm' | 'demo' = 'crm',
): Promise<BenchServer> {
  // BENCH_PROFILE=<dir> writes a CPU profile of the server there, for finding where time goes.
  const profile = process.env.BENCH_PROFILE
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`]
    : [];
  const child = spawn(
    process.execPath,
    [
      ...profile,
      'dist/cli/main.js',
      command,
      '--crm-port',
      '0',
      '--marketing-port',
      '0',
      '--ingest-port',
      '0',
      '--console-port',
      '0',
      '--data-dir',
      dataDir,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      // The servers are measured alone unless a bench asks for the connector (bench/sync).
      // BENCH_SERVER_LOG=<file> keeps the server's log there, at BENCH_LOG_LEVEL (warn unless set).
      env: {
        ...process.env,
        HANDOFF_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
        HANDOFF_SYNC: process.env.HANDOFF_SYNC ?? 'off',
      },
    },
  );
  if (process.env.BENCH_SERVER_LOG) child.stdout?.pipe(createWriteStream(process.env.BENCH_SERVER_LOG));
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (/^ready$/m.test(out)) resolve();
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  child.removeAllListeners('exit');
  const creds = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as {
    crm: { loginUrl: string; clientId: string; clientSecret: string; username: string; password: string };
    marketing?: { baseUrl: string; businessUnitId: string };
    ingest?: { url: string; writeKey: string };
  };
  const response = await fetch(`${creds.crm.loginUrl}/services/oauth2/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: creds.crm.clientId,
      client_secret: creds.crm.clientSecret,
      username: creds.crm.username,
      password: creds.crm.password,
    }),
  });
  const { access_token } = (await response.json()) as { access_token: string };
  return {
    url: new URL(creds.crm.loginUrl),
    token: access_token,
    marketing: creds.marketing,
    ingest: creds.ingest,
    consoleUrl: /^Console\s+(\S+)$/m.exec(out)?.[1],
    child,
    dataDir,
    peakRssMb() {
      return memoryMb(child.pid!, 'VmHWM');
    },
    rssMb() {
      return memoryMb(child.pid!, 'VmRSS');
    },
    async settledRssMb(idleMb, seconds = 60) {
      for (let i = 0; i < seconds; i++) {
        if (memoryMb(child.pid!, 'VmRSS') <= idleMb * 1.1) break;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
      return memoryMb(child.pid!, 'VmRSS');
    },
    stop() {
      return new Promise((resolve) => {
        // Stopping twice is harmless: a bench stops early to read the store, then in `finally`.
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
    cleanup() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** One of a process's memory figures from /proc (VmHWM, VmRSS), in MB. */
function memoryMb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
}

/** A keep-alive JSON client: the overhead of the client should not be what we measure. */
export function jsonClient(
  server: BenchServer,
  maxSockets: number,
  target: { url: URL; headers?: Record<string, string> } = { url: server.url },
) {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  return function request(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          agent,
          host: target.url.hostname,
          port: target.url.port,
          method,
          path,
          headers: {
            authorization: `Bearer ${server.token}`,
            ...target.headers,
            ...(payload
              ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
              : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
              headers: res.headers,
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    });
  };
}

/** Runs `total` tasks with at most `concurrency` in flight; returns the elapsed seconds. */
export async function pool(
  total: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await task(next++);
    }),
  );
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** A figure as the benches print it: whole and grouped from 100 up, one decimal below. */
export function shown(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1);
}

export function figure(label: string, value: number, unit: string, target?: string): void {
  console.log(
    `${label.padEnd(44)} ${shown(value).padStart(10)} ${unit}${target ? `   (target ${target})` : ''}`,
  );
}

/** One call to the CRM's data API (v60.0) with the bench's token; `body` is sent as it is. */
export function apiCall(
  server: BenchServer,
  method: string,
  path: string,
  body?: string,
  type = 'application/json',
) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>(
    (resolve, reject) => {
      const req = http.request(
        {
          host: server.url.hostname,
          port: server.url.port,
          method,
          path: `/services/data/v60.0${path}`,
          headers: {
            authorization: `Bearer ${server.token}`,
            ...(body === undefined ? {} : { 'content-type': type }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    },
  );
}

/** Polls a Bulk API 2.0 job until it ends. */
export async function waitDone(
  server: BenchServer,
  path: string,
): Promise<{ state: string; numberRecordsProcessed: number; numberRecordsFailed?: number }> {
  for (;;) {
    const job = JSON.parse((await apiCall(server, 'GET', path)).body) as {
      state: string;
      numberRecordsProcessed: number;
    };
    if (['JobComplete', 'Failed', 'Aborted'].includes(job.state)) return job;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The p-th percentile of sorted values. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** `total` calls with `concurrency` in flight: elapsed seconds and sorted latencies (ms). */
export async function load(total: number, concurrency: number, call: (i: number) => Promise<number>) {
  const latencies: number[] = [];
  const seconds = await pool(total, concurrency, async (i) => {
    latencies.push(await call(i));
  });
  return { seconds, latencies: latencies.sort((x, y) => x - y) };
}

/** `perSecond` calls a second for `seconds`, sent on a clock whatever the answers: sorted latencies. */
export async function paced(perSecond: number, seconds: number, call: (i: number) => Promise<number>) {
  const latencies: Promise<number>[] = [];
  const total = perSecond * seconds;
  const started = Date.now();
  for (let i = 0; i < total;) {
    const due = Math.min(total, Math.ceil(((Date.now() - started) / 1000) * perSecond));
    for (; i < due; i++) latencies.push(call(i));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return (await Promise.all(latencies)).sort((a, b) => a - b);
}

/** Requests a server has answered so far by `METHOD route` (its Prometheus counters). */
export async function routeCounts(origin: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  const counts = new Map<string, number>();
  for (const m of text.matchAll(/^handoff_http_requests_total\{([^}]*)\} (\d+)/gm)) {
    const method = /method="([^"]*)"/.exec(m[1]!)?.[1] ?? '';
    const route = /route="([^"]*)"/.exec(m[1]!)?.[1] ?? '';
    const key = `${method} ${route}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(m[2]));
  }
  return counts;
}

/** The routes asked between two `routeCounts`, most asked first. */
export function routeDelta(
  before: Map<string, number>,
  after: Map<string, number>,
  keep: (route: string) => boolean = () => true,
): Array<[string, number]> {
  return [...after]
    .map(([key, n]): [string, number] => [key, n - (before.get(key) ?? 0)])
    .filter(([key, n]) => n > 0 && keep(key.slice(key.indexOf(' ') + 1)))
    .sort((a, b) => b[1] - a[1]);
}

/**
 * Loads Leads through one Bulk API 2.0 ingest job (CSV), each with an email of its own
 * (`<prefix><i>@bench.example`): the CRM's records before a backfill or a verify.
 */
export async function ingestLeads(server: BenchServer, count: number, prefix: string): Promise<void> {
  const job = JSON.parse(
    (await apiCall(server, 'POST', '/jobs/ingest', JSON.stringify({ object: 'Lead', operation: 'insert' })))
      .body,
  ) as { id: string };
  const lines = ['FirstName,LastName,Company,Email,Phone,Title'];
  for (let i = 0; i < count; i++)
    lines.push(`Back,Lead ${i},Company ${i % 1000},${prefix}${i}@bench.example,555-${i},Buyer`);
  await apiCall(server, 'PUT', `/jobs/ingest/${job.id}/batches`, `${lines.join('\n')}\n`, 'text/csv');
  await apiCall(server, 'PATCH', `/jobs/ingest/${job.id}`, JSON.stringify({ state: 'UploadComplete' }));
  const loaded = await waitDone(server, `/jobs/ingest/${job.id}`);
  if (loaded.numberRecordsProcessed !== count) throw new Error(`ingest ended ${JSON.stringify(loaded)}`);
}

/**
 * Runs the built `handoff <args>` on the server's data dir in a process of its own, as a user
 * would (with a CPU profile under BENCH_PROFILE): its output, wall time and peak RSS.
 */
export function runHandoff(
  server: BenchServer,
  args: string[],
): Promise<{ output: string; seconds: number; peakRssMb: number }> {
  const started = process.hrtime.bigint();
  // The process's peak RSS, told on exit (Node reports it in kB).
  const peak =
    'data:text/javascript,process.on("exit",()=>process.stderr.write("peak-rss-kb "+process.resourceUsage().maxRSS+"\\n"))';
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        ...(process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []),
        '--import',
        peak,
        'dist/cli/main.js',
        ...args,
        '--data-dir',
        server.dataDir,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const peakRssMb = Number(/peak-rss-kb (\d+)/.exec(out)?.[1] ?? NaN) / 1024;
      const output = out.replace(/^peak-rss-kb \d+\n/m, '');
      if (code === 0 || (args.includes('verify') && code === 1)) resolve({ output, seconds, peakRssMb });
      else reject(new Error(`handoff ${args.join(' ')} exited ${code}:\n${output}`));
    });
  });
}
