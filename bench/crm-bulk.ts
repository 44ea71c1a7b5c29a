// 1,000,000 Leads through one Bulk API 2.0 ingest job, then read back through a query job, then
// 1,000,000 more through a Bulk API 1.0 job (10,000-record CSV batches, as Data Loader sends
// them), against `handoff crm` (SQLite, its own process). Prints records/s, rows/s and peak RSS,
// each rate beside bare better-sqlite3 doing the same store work on the same rows (see the end).
import { apiCall as call, figure, startServer, waitDone } from './support.js';
import { bareInserts, bareScan, versus } from './support-baseline.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const UPLOAD_ROWS = 500_000; // two uploads of ~40 MB each, well under the 100 MB limit

function csv(from: number, to: number): string {
  const lines = ['FirstName,LastName,Company,Email,LeadSource'];
  for (let i = from; i < to; i++) lines.push(`Bulk,Lead ${i},Company ${i % 1000},lead${i}@example.com,Web`);
  return `${lines.join('\n')}\n`;
}

const server = await startServer();
const rates = { ingest: 0, query: 0, v1: 0 };
const idleRss = server.rssMb();
try {
  const started = process.hrtime.bigint();
  const job = JSON.parse(
    (await call(server, 'POST', '/jobs/ingest', JSON.stringify({ object: 'Lead', operation: 'insert' })))
      .body,
  ) as { id: string };
  for (let from = 0; from < ROWS; from += UPLOAD_ROWS) {
    const r = await call(
      server,
      'PUT',
      `/jobs/ingest/${job.id}/batches`,
      csv(from, Math.min(ROWS, from + UPLOAD_ROWS)),
      'text/csv',
    );
    if (r.status !== 201) throw new Error(`upload failed: ${r.status} ${r.body.slice(0, 200)}`);
  }
  await call(server, 'PATCH', `/jobs/ingest/${job.id}`, JSON.stringify({ state: 'UploadComplete' }));
  const done = await waitDone(server, `/jobs/ingest/${job.id}`);
  const ingestSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (
    done.state !== 'JobComplete' ||
    done.numberRecordsProcessed !== ROWS ||
    done.numberRecordsFailed !== 0
  ) {
    throw new Error(`ingest job ended ${JSON.stringify(done)}`);
  }
  rates.ingest = ROWS / ingestSeconds;
  figure('server peak RSS after ingest', server.peakRssMb(), 'MB', '< 400');

  const queryStarted = process.hrtime.bigint();
  const query = JSON.parse(
    (
      await call(
        server,
        'POST',
        '/jobs/query',
        JSON.stringify({
          operation: 'query',
          query: 'SELECT Id, Name, Email, Company, LeadSource FROM Lead',
        }),
      )
    ).body,
  ) as { id: string };
  await waitDone(server, `/jobs/query/${query.id}`);
  let rows = 0;
  let locator = '';
  for (;;) {
    const page = await call(
      server,
      'GET',
      `/jobs/query/${query.id}/results${locator ? `?locator=${locator}` : ''}`,
    );
    rows += Number(page.headers['sforce-numberofrecords']);
    locator = String(page.headers['sforce-locator']);
    if (locator === 'null') break;
  }
  const querySeconds = Number(process.hrtime.bigint() - queryStarted) / 1e9;
  if (rows !== ROWS) throw new Error(`query returned ${rows} rows, expected ${ROWS}`);
  rates.query = rows / querySeconds;
  figure('server peak RSS after query', server.peakRssMb(), 'MB', '< 400');

  // Bulk API 1.0: a job, its batches, closed, then polled until every batch is done.
  const async = async (method: string, path: string, body?: string, type = 'application/json') => {
    const r = await fetch(`${server.url.origin}/services/async/60.0${path}`, {
      method,
      // Content-Type on every call, GETs too: it is how Bulk API 1.0 is asked to answer in JSON.
      headers: { 'x-sfdc-session': server.token, 'content-type': type },
      body,
    });
    const text = await r.text();
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text.slice(0, 200)}`);
    // A CSV job's batches are answered in XML: only the job's own calls (JSON) are read.
    return (text.startsWith('{') ? JSON.parse(text) : {}) as Record<string, unknown>;
  };
  const v1Started = process.hrtime.bigint();
  const v1Job = await async(
    'POST',
    '/job',
    JSON.stringify({ operation: 'insert', object: 'Lead', contentType: 'CSV' }),
  );
  const BATCH_ROWS = 10_000;
  for (let from = ROWS; from < 2 * ROWS; from += BATCH_ROWS)
    await async(
      'POST',
      `/job/${String(v1Job.id)}/batch`,
      csv(from, Math.min(2 * ROWS, from + BATCH_ROWS)),
      'text/csv',
    );
  await async('POST', `/job/${String(v1Job.id)}`, JSON.stringify({ state: 'Closed' }));
  let v1: Record<string, unknown>;
  for (;;) {
    v1 = await async('GET', `/job/${String(v1Job.id)}`, undefined, 'application/json');
    if (Number(v1.numberBatchesQueued) + Number(v1.numberBatchesInProgress) === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const v1Seconds = Number(process.hrtime.bigint() - v1Started) / 1e9;
  if (Number(v1.numberRecordsProcessed) !== ROWS || Number(v1.numberRecordsFailed) !== 0)
    throw new Error(`Bulk API 1.0 job ended ${JSON.stringify(v1)}`);
  rates.v1 = ROWS / v1Seconds;
  figure('server peak RSS after Bulk 1.0 ingest', server.peakRssMb(), 'MB', '< 400');
  figure('server RSS at start', idleRss, 'MB');
  figure(
    'server RSS after a minute at most of quiet',
    await server.settledRssMb(idleRss),
    'MB',
    'near start',
  );
  await server.stop();

  // The bare baselines, from the server's own Leads once it has stopped: the same rows inserted
  // into a fresh copy of the Lead table (its indexes, the jobs' 2,000 rows a transaction), and the
  // query's columns read in one scan and turned into CSV.
  const bareInsert = bareInserts(server.dataDir, 'crm_lead', { rows: ROWS, perTransaction: 2_000 });
  const bareQuery = bareScan(
    server.dataDir,
    'select "Id", "FirstName", "LastName", "Email", "Company", "LeadSource" from crm_lead order by rowid',
    { pageRows: 10_000, format: 'csv' },
  );
  const n = ROWS.toLocaleString('en-US');
  versus(
    `Bulk 2.0 ingest, ${n} Leads (upload + processing)`,
    rates.ingest,
    bareInsert,
    'records/s',
    '>= 50,000',
  );
  versus(
    `Bulk 2.0 query job, ${n} rows (create to last page)`,
    rates.query,
    bareQuery,
    'rows/s',
    '>= 200,000',
  );
  versus(
    `Bulk 1.0 ingest, ${n} Leads (batches + processing)`,
    rates.v1,
    bareInsert,
    'records/s',
    'beside 2.0',
  );
} finally {
  await server.stop();
  server.cleanup();
}
