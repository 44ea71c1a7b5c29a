// Scale-out on PostgreSQL: what more processes buy. For 1, 2 and 4 worker processes sharing one
// database (each configuration on a database of its own):
// - connector: `handoff sync` workers sharing the queue; records/s from a batch of new Leads in
//   the CRM until every one is linked to a prospect;
// - ingest: `handoff ingest` processes sharing dedup and delivery; identify calls sent round
//   robin to all of them, deliveries/s until every event is delivered.
// The CRM and the marketing engine run in one `handoff demo --no-sync` process throughout.
// Database: BENCH_PG_URL or HANDOFF_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import pg from 'pg';
import { apiCall, figure, startServer, waitDone, type BenchServer } from './support.js';

const BASE =
  process.env.BENCH_PG_URL ?? process.env.HANDOFF_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RECORDS = Number(process.env.BENCH_SCALE_RECORDS ?? 5_000);
const EVENTS = Number(process.env.BENCH_SCALE_EVENTS ?? 5_000);
const WORKERS = (process.env.BENCH_SCALE_WORKERS ?? '1,2,4').split(',').map(Number);

async function withDatabase<T>(work: (url: string, db: pg.Client) => Promise<T>): Promise<T> {
  const name = `handoff_scale_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: BASE });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = `${BASE.replace(/\/[^/]*$/, '')}/${name}`;
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    return await work(url, db);
  } finally {
    await db.end();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

/** `handoff <args>` from the build, resolving once `ready` (a line matching it) is printed. */
function startProcess(
  args: string[],
  ready: RegExp,
  env: Record<string, string>,
): Promise<ChildProcess & { printed: string }> {
  const child = spawn(process.execPath, ['dist/cli/main.js', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HANDOFF_LOG_LEVEL: 'error', ...env },
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (ready.test(out)) resolve(Object.assign(child, { printed: out }));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`handoff ${args[0]} exited with ${code}:\n${out}`)));
  });
}

function stopProcess(child: ChildProcess): Promise<void> {
  child.removeAllListeners('exit');
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** A configuration's figure, and the cores the servers' process and the whole machine kept busy. */
interface Run {
  rate: number;
  server: number;
  machine: number;
}

/** CPU seconds a process has used so far (user + system), from /proc. */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / 100;
}

/** The machine's busy and total CPU time so far, in seconds of all cores. */
function machineCpu(): { busy: number; total: number } {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const values = ticks.map(Number);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  const total = values.reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / 100, total: total / 100 };
}

/** Where the CPU went while `work` ran: the servers' process, and the machine as a whole. */
async function measured<T>(
  server: BenchServer,
  work: () => Promise<T>,
): Promise<{ value: T; server: number; machine: number }> {
  const [serverBefore, machineBefore, started] = [cpuSeconds(server.child.pid), machineCpu(), Date.now()];
  const value = await work();
  const seconds = (Date.now() - started) / 1000;
  const machineAfter = machineCpu();
  return {
    value,
    server: (cpuSeconds(server.child.pid) - serverBefore) / seconds,
    machine:
      (machineAfter.busy - machineBefore.busy) / ((machineAfter.total - machineBefore.total) / cpus().length),
  };
}

async function count(db: pg.Client, query: string): Promise<number> {
  return Number((await db.query<{ n: string }>(query)).rows[0]?.n ?? 0);
}

/** Polls until `done()` holds; answers the seconds it took from `started`. */
async function until(started: bigint, done: () => Promise<boolean>, timeoutS = 600): Promise<number> {
  for (;;) {
    if (await done()) return Number(process.hrtime.bigint() - started) / 1e9;
    if (Number(process.hrtime.bigint() - started) / 1e9 > timeoutS) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function loadLeads(server: BenchServer, n: number): Promise<void> {
  const job = JSON.parse(
    (await apiCall(server, 'POST', '/jobs/ingest', JSON.stringify({ object: 'Lead', operation: 'insert' })))
      .body,
  ) as { id: string };
  const lines = ['FirstName,LastName,Company,Email'];
  for (let i = 0; i < n; i++) lines.push(`Scale,Lead ${i},Company ${i % 100},scale${i}@bench.example`);
  await apiCall(server, 'PUT', `/jobs/ingest/${job.id}/batches`, `${lines.join('\n')}\n`, 'text/csv');
  await apiCall(server, 'PATCH', `/jobs/ingest/${job.id}`, JSON.stringify({ state: 'UploadComplete' }));
  await waitDone(server, `/jobs/ingest/${job.id}`);
}

async function connectorRun(workers: number): Promise<Run> {
  return withDatabase(async (url, db) => {
    process.env.HANDOFF_DATABASE_URL = url;
    const server = await startServer(undefined, 'demo');
    const env = { HANDOFF_DATABASE_URL: url };
    try {
      // A first pass sets the cursors; the Leads made after it are the work.
      const first = await startProcess(['sync', '--once', '--data-dir', server.dataDir], /CRM records/, env);
      await new Promise((resolve) => first.once('exit', resolve));
      await loadLeads(server, RECORDS);
      const started = process.hrtime.bigint();
      const children = await Promise.all(
        Array.from({ length: workers }, () =>
          startProcess(['sync', '--interval', '200', '--data-dir', server.dataDir], /syncing/, env),
        ),
      );
      try {
        const run = await measured(server, () =>
          until(
            started,
            async () => (await count(db, `select count(*) as n from connector_link`)) >= RECORDS,
          ),
        );
        return { rate: RECORDS / run.value, server: run.server, machine: run.machine };
      } finally {
        await Promise.all(children.map(stopProcess));
      }
    } finally {
      await server.stop();
      server.cleanup();
      delete process.env.HANDOFF_DATABASE_URL;
    }
  });
}

async function ingestRun(processes: number): Promise<Run> {
  return withDatabase(async (url, db) => {
    process.env.HANDOFF_DATABASE_URL = url;
    const server = await startServer(undefined, 'demo');
    const env = { HANDOFF_DATABASE_URL: url };
    const extra: ChildProcess[] = [];
    try {
      const urls = [server.ingest!.url];
      for (let i = 1; i < processes; i++) {
        const child = await startProcess(
          ['ingest', '--ingest-port', '0', '--data-dir', server.dataDir],
          /^ready$/m,
          env,
        );
        extra.push(child);
        const printed = /Ingest \(Segment Tracking API\)\s+(\S+)/.exec(child.printed)?.[1];
        if (!printed) throw new Error(`handoff ingest printed no URL:\n${child.printed}`);
        urls.push(printed);
      }
      const auth = `Basic ${Buffer.from(`${server.ingest!.writeKey}:`).toString('base64')}`;
      const started = process.hrtime.bigint();
      const run = await measured(server, async () => {
        const batches: Array<Promise<void>> = [];
        for (let i = 0; i < EVENTS; i += 100) {
          const batch = Array.from({ length: Math.min(100, EVENTS - i) }, (_, j) => ({
            type: 'identify',
            userId: `scale-${i + j}`,
            messageId: `scale-${i + j}`,
            traits: { email: `ingest${i + j}@bench.example`, firstName: 'Scale' },
          }));
          const target = urls[(i / 100) % urls.length]!;
          batches.push(
            fetch(`${target}/v1/batch`, {
              method: 'POST',
              headers: { authorization: auth, 'content-type': 'application/json' },
              body: JSON.stringify({ batch }),
            }).then(async (r) => {
              if (r.status !== 200) throw new Error(`batch answered ${r.status}: ${await r.text()}`);
            }),
          );
        }
        await Promise.all(batches);
        return until(
          started,
          async () =>
            (await count(db, `select count(*) as n from ingest_event where status = 'delivered'`)) >= EVENTS,
        );
      });
      return { rate: EVENTS / run.value, server: run.server, machine: run.machine };
    } finally {
      await Promise.all(extra.map(stopProcess));
      await server.stop();
      server.cleanup();
      delete process.env.HANDOFF_DATABASE_URL;
    }
  });
}

console.log(`scale-out on PostgreSQL, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'})`);
/** Runs `measure` for each process count, printing each figure and where the CPU went. */
async function series(
  label: (n: number) => string,
  unit: string,
  measure: (n: number) => Promise<Run>,
): Promise<Record<number, Run>> {
  const runs: Record<number, Run> = {};
  for (const n of WORKERS) {
    const run = (runs[n] = await measure(n));
    figure(label(n), run.rate, unit);
    figure(
      `  cores busy: the CRM and marketing process / the whole machine (of ${cpus().length})`,
      run.server,
      `/ ${run.machine.toFixed(2)}`,
    );
  }
  return runs;
}

const connector = await series(
  (n) => `connector: records/s linked with ${n} sync worker(s) (${RECORDS} new Leads)`,
  'records/s',
  connectorRun,
);
const ingest = await series(
  (n) => `ingest: deliveries/s with ${n} ingest process(es) (${EVENTS} identifies)`,
  'events/s',
  ingestRun,
);
const [one, ...more] = WORKERS;
for (const n of more) {
  figure(`connector: speed-up of ${n} workers over ${one}`, connector[n]!.rate / connector[one!]!.rate, 'x');
  figure(`ingest: speed-up of ${n} processes over ${one}`, ingest[n]!.rate / ingest[one!]!.rate, 'x');
}
