// The console's overview with 1,000,000 synced records in the store: how long its API calls take.
// Target: the overview page loads in under 1 s (its calls: overview, an hour or a day of metrics).
//
// The demo runs once to make its store, which is then filled straight through SQLite with
// 1,000,000 linked pairs, 5,000 open sync errors, 10,000 queued changes and a day of per-minute
// metrics (filling it through the sync would take hours); the demo then runs again on it, and
// the console is asked as the page asks it, logged in, over HTTP. On SQLite (the embedded
// default), or on PostgreSQL with BENCH_PG_URL.
import Database from 'better-sqlite3';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { chromium } from 'playwright-core';
import { figure, percentile, startServer } from './support.js';

const LINKS = Number(process.env.BENCH_LINKS ?? 1_000_000);
const ERRORS = 5_000;
const QUEUED = 10_000;
const ROUNDS = 20;
const CHROMIUM = process.env.HANDOFF_CHROMIUM ?? '/usr/bin/chromium';

// BENCH_PG_URL=postgres://…/test: the same on PostgreSQL, in a database of its own made for it.
const pgAdminUrl = process.env.BENCH_PG_URL;
const pgDatabase = 'handoff_bench_console';
if (pgAdminUrl) {
  const admin = new pg.Client({ connectionString: pgAdminUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${pgDatabase}`);
  await admin.query(`create database ${pgDatabase}`);
  await admin.end();
  const url = new URL(pgAdminUrl);
  url.pathname = `/${pgDatabase}`;
  process.env.HANDOFF_DATABASE_URL = url.href;
}
console.log(`store: ${pgAdminUrl ? `PostgreSQL (${pgDatabase})` : 'SQLite'}`);

process.env.HANDOFF_SYNC = 'on';
const first = await startServer(undefined, 'demo');
const { dataDir } = first;
const unit = first.marketing!.businessUnitId;
await first.stop();

const seedStarted = Date.now();
if (pgAdminUrl) await seedPostgres(process.env.HANDOFF_DATABASE_URL!);
else seedSqlite();
figure('seeded (links, errors, queue, metrics)', (Date.now() - seedStarted) / 1000, 's');

/** What the store is filled with, as SQL both databases take (generate_series on PostgreSQL). */
async function seedPostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const at = new Date().toISOString();
  await client.query(
    `insert into connector_link (unit_id, crm_object, crm_id, prospect_id, last_synced, deleted, updated_at)
     select $1, case when i % 3 = 0 then 'Contact' else 'Lead' end,
       case when i % 3 = 0 then '003' else '00Q' end || '9' || lpad(i::text, 11, '0') || 'AAA', 1000000 + i, '{}', 0, $2
     from generate_series(0, $3::int - 1) as i`,
    [unit, at, LINKS],
  );
  await client.query(
    `insert into connector_sync_error (unit_id, side, crm_object, crm_id, prospect_id, fields, category, code, message, state, created_at, updated_at)
     select $1, 'crm', 'Lead', '00Q9' || lpad(i::text, 11, '0') || 'AAA', 1000000 + i, '["Title"]',
       (array['validation', 'required-field', 'duplicate', 'permission'])[i % 4 + 1],
       'FIELD_CUSTOM_VALIDATION_EXCEPTION', 'Interns cannot be Leads', 'open', $2, $2
     from generate_series(0, $3::int - 1) as i`,
    [unit, at, ERRORS],
  );
  const due = new Date(Date.now() + 86_400_000).toISOString();
  await client.query(
    `insert into connector_queue (unit_id, item_key, priority, payload, version, attempts, due_at, created_at)
     select $1, 'bench:' || i, i % 3, null, 1, 0, $2, $3 from generate_series(0, $4::int - 1) as i`,
    [unit, due, at, QUEUED],
  );
  await client.query(
    `insert into connector_metric (unit_id, minute, synced, writes_crm, writes_marketing, crm_calls, marketing_calls, errors)
     select $1, to_char((now() at time zone 'utc') - make_interval(mins => m), 'YYYY-MM-DD"T"HH24:MI'), 700, 400, 300, 6, 40, 1
     from generate_series(0, 1439) as m on conflict do nothing`,
    [unit],
  );
  // As autovacuum would soon after: counts then come from the index alone.
  await client.query('vacuum analyze');
  await client.end();
}

function seedSqlite(): void {
  const db = new Database(join(dataDir, 'handoff.db'));
  db.pragma('journal_mode = WAL');
  const now = new Date();
  const at = now.toISOString();
  db.transaction(() => {
    const link = db.prepare(
      `insert into connector_link (unit_id, crm_object, crm_id, prospect_id, last_synced, deleted, updated_at) values (?, ?, ?, ?, '{}', 0, ?)`,
    );
    for (let i = 0; i < LINKS; i++) {
      const lead = i % 3 !== 0;
      link.run(
        unit,
        lead ? 'Lead' : 'Contact',
        `${lead ? '00Q' : '003'}9${String(i).padStart(11, '0')}AAA`,
        1_000_000 + i,
        at,
      );
    }
    const error = db.prepare(
      `insert into connector_sync_error (unit_id, side, crm_object, crm_id, prospect_id, fields, category, code, message, state, created_at, updated_at)
     values (?, 'crm', 'Lead', ?, ?, '["Title"]', ?, 'FIELD_CUSTOM_VALIDATION_EXCEPTION', 'Interns cannot be Leads', 'open', ?, ?)`,
    );
    const categories = ['validation', 'required-field', 'duplicate', 'permission'];
    for (let i = 0; i < ERRORS; i++)
      error.run(unit, `00Q9${String(i).padStart(11, '0')}AAA`, 1_000_000 + i, categories[i % 4], at, at);
    const item = db.prepare(
      `insert into connector_queue (unit_id, item_key, priority, payload, version, attempts, due_at, created_at) values (?, ?, ?, null, 1, 0, ?, ?)`,
    );
    // Far in the future: the running sync leaves them be, so the overview counts all of them.
    const due = new Date(now.getTime() + 86_400_000).toISOString();
    for (let i = 0; i < QUEUED; i++) item.run(unit, `bench:${i}`, i % 3, due, at);
    const minute = db.prepare(
      `insert or replace into connector_metric (unit_id, minute, synced, writes_crm, writes_marketing, crm_calls, marketing_calls, errors) values (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (let m = 0; m < 1440; m++) {
      const t = new Date(now.getTime() - m * 60_000).toISOString().slice(0, 16);
      minute.run(unit, t, 700, 400, 300, 6, 40, 1);
    }
  })();
  db.close();
}

const server = await startServer(dataDir, 'demo');
const base = `${server.consoleUrl}/console/api`;
let cookie = '';
const call = async (method: string, path: string, csrf?: string, body?: unknown) => {
  const response = await fetch(`${base}/${path}`, {
    method,
    headers: {
      cookie,
      ...(csrf ? { 'x-csrf-token': csrf } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const set = response.headers.get('set-cookie');
  if (set) cookie = set.split(';')[0]!;
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.json() as Promise<Record<string, unknown>>;
};
const { csrfToken } = await call('GET', 'session');
const creds = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as {
  crm: { username: string; password: string };
};
await call('POST', 'login', String(csrfToken), {
  username: creds.crm.username,
  password: creds.crm.password,
});

const timed = async (path: string) => {
  const started = process.hrtime.bigint();
  const body = await call('GET', path);
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, body };
};
const firstOverview = await timed('overview');
const linked = (firstOverview.body.linked as { total: number }).total;
if (linked < LINKS) throw new Error(`the overview counts ${linked} linked records, not ${LINKS}`);
figure('linked records the overview counts', linked, 'records');
figure('overview, first call (probes both sides)', firstOverview.ms, 'ms', '< 1,000 ms');

for (const [label, path] of [
  ['overview', 'overview'],
  ['metrics, last hour', 'metrics?minutes=60'],
  ['metrics, last day', 'metrics?minutes=1440'],
] as const) {
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) times.push((await timed(path)).ms);
  times.sort((a, b) => a - b);
  figure(`${label}, median`, percentile(times, 50), 'ms');
  figure(`${label}, slowest of ${ROUNDS}`, times.at(-1)!, 'ms', '< 1,000 ms');
}
// What the page does on load: the overview and the hour's metrics side by side.
const pageTimes: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  const started = process.hrtime.bigint();
  await Promise.all([call('GET', 'overview'), call('GET', 'metrics?minutes=60')]);
  pageTimes.push(Number(process.hrtime.bigint() - started) / 1e6);
}
pageTimes.sort((a, b) => a - b);
figure('overview page API calls, median', percentile(pageTimes, 50), 'ms');
figure(`overview page API calls, slowest of ${ROUNDS}`, pageTimes.at(-1)!, 'ms', '< 1,000 ms');
const errors = await timed('errors');
figure('sync-error list (first 1,000 of 5,000)', errors.ms, 'ms');

// The whole page in a browser, logged in: from navigation until the cards and a chart are drawn.
if (existsSync(CHROMIUM)) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  const page = await browser.newPage();
  await page.goto(server.consoleUrl!);
  await page.getByLabel('Username').fill(creds.crm.username);
  await page.getByLabel('Password').fill(creds.crm.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('linked').waitFor();
  const loads: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = process.hrtime.bigint();
    await page.reload();
    await page.getByTestId('linked').filter({ hasText: '1,000,000' }).waitFor();
    await page.locator('figure svg.recharts-surface').first().waitFor();
    loads.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  loads.sort((a, b) => a - b);
  figure('overview page in chromium, median of 5', percentile(loads, 50), 'ms', '< 1,000 ms');
  await browser.close();
} else {
  console.log(`(no chromium at ${CHROMIUM}: the page load in a browser is not measured)`);
}

await server.stop();
server.cleanup();
if (pgAdminUrl) {
  const admin = new pg.Client({ connectionString: pgAdminUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${pgDatabase}`);
  await admin.end();
}
