// The marketing engine of `handoff demo` (SQLite, its own process), over its v5 API:
// single prospect creates (at the unit's 5 concurrent requests), a 100,000-row import, and a
// v5 query paging every prospect by updatedAt after a 1,000,000-row import. Each rate is printed
// beside the bare work of the same run: a bare Fastify route answering the creates, bare
// better-sqlite3 inserts of the imported rows and a bare ordered read of the queried ones.
import { figure, jsonClient, pool, startServer } from './support.js';
import { bareInserts, bareScan, bareServer, versus } from './support-baseline.js';

const SINGLE = Number(process.env.BENCH_SINGLE ?? 5000);
const IMPORT_ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 100_000);
const QUERY_ROWS = Number(process.env.BENCH_QUERY_ROWS ?? 1_000_000);
const BATCH_ROWS = 100_000;

const server = await startServer(undefined, 'demo');
const bare = await bareServer([
  { method: 'POST', prefix: '/api/v5/objects/prospects', status: 201, body: '{"id":1}' },
]);
const idleRss = server.rssMb();
try {
  const marketing = server.marketing!;
  const baseUrl = new URL(marketing.baseUrl);
  const headers = { 'pardot-business-unit-id': marketing.businessUnitId };
  const client = jsonClient(server, 5, { url: baseUrl, headers });
  const check = (r: { status: number; body: string }, want: number) => {
    if (r.status !== want) throw new Error(`unexpected ${r.status}: ${r.body.slice(0, 200)}`);
  };
  const create = (i: number, tag: string) =>
    client('POST', '/api/v5/objects/prospects?fields=id', {
      email: `${tag}${i}@bench.example`,
      firstName: 'Bench',
      lastName: `Prospect ${i}`,
      company: `Company ${i % 500}`,
    });

  await pool(500, 5, async (i) => check(await create(i, 'warm'), 201));
  const singleSeconds = await pool(SINGLE, 5, async (i) => check(await create(i, 'single'), 201));
  const bareClient = jsonClient(server, 5, { url: bare.url, headers });
  await pool(500, 5, async () =>
    check(await bareClient('POST', '/api/v5/objects/prospects?fields=id', {}), 201),
  );
  const bareSeconds = await pool(SINGLE, 5, async (i) =>
    check(
      await bareClient('POST', '/api/v5/objects/prospects?fields=id', {
        email: `single${i}@bench.example`,
        firstName: 'Bench',
        lastName: `Prospect ${i}`,
        company: `Company ${i % 500}`,
      }),
      201,
    ),
  );
  versus(
    'single creates, 5 concurrent (the unit limit)',
    SINGLE / singleSeconds,
    SINGLE / bareSeconds,
    'records/s',
    '>= 3,000',
  );

  /** Uploads `rows` prospects as one import in batches of 100,000 rows; returns its seconds. */
  const importRows = async (rows: number, tag: string): Promise<number> => {
    const started = process.hrtime.bigint();
    const auth = { authorization: `Bearer ${server.token}`, ...headers };
    const input = new FormData();
    input.set('input', JSON.stringify({ operation: 'Upsert', object: 'Prospect' }));
    const created = await fetch(`${marketing.baseUrl}/api/v5/imports`, {
      method: 'POST',
      headers: auth,
      body: input,
    });
    const { id } = (await created.json()) as { id: number };
    for (let start = 0; start < rows; start += BATCH_ROWS) {
      const lines = ['email,firstName,lastName,company,score'];
      for (let i = start; i < Math.min(rows, start + BATCH_ROWS); i++) {
        lines.push(`${tag}${i}@bulk.example,Bulk,Prospect ${i},Company ${i % 1000},${i % 100}`);
      }
      const body = new FormData();
      body.set('importFile', new Blob([`${lines.join('\n')}\n`], { type: 'text/csv' }), 'batch.csv');
      const r = await fetch(`${marketing.baseUrl}/api/v5/imports/${id}/batches`, {
        method: 'POST',
        headers: auth,
        body,
      });
      if (r.status !== 204) throw new Error(`batch upload: ${r.status} ${await r.text()}`);
    }
    check(await client('PATCH', `/api/v5/imports/${id}`, { status: 'Ready' }), 200);
    for (;;) {
      const r = await client('GET', `/api/v5/imports/${id}`);
      const job = JSON.parse(r.body) as { status: string; errorCount: number; createdCount: number };
      if (job.status === 'Complete') {
        if (job.errorCount > 0) throw new Error(`${job.errorCount} import rows failed`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return Number(process.hrtime.bigint() - started) / 1e9;
  };

  const importSeconds = await importRows(IMPORT_ROWS, 'imp');
  const importRate = IMPORT_ROWS / importSeconds;

  const more = QUERY_ROWS - IMPORT_ROWS;
  if (more > 0) await importRows(more, 'q');
  // A token sequence stops at 100,000 records (Pardot-Warning: 203); a client then starts a new
  // query from where it got to, as here: from the last updatedAt, skipping ids already seen there.
  let rows = 0;
  const queryStarted = process.hrtime.bigint();
  const fields = 'id,email,firstName,lastName,company,score,updatedAt';
  let from: { updatedAt: string; ids: Set<number> } | null = null as {
    updatedAt: string;
    ids: Set<number>;
  } | null;
  for (;;) {
    let path: string | null =
      `/api/v5/objects/prospects?fields=${fields}&orderBy=updatedAt%20ASC&limit=1000` +
      (from ? `&updatedAtAfterOrEqualTo=${encodeURIComponent(from.updatedAt)}` : '');
    let capped = false;
    let last: { id: number; updatedAt: string } | undefined;
    const seenAtLast = new Set<number>();
    while (path) {
      const r = await client('GET', path);
      check(r, 200);
      const page = JSON.parse(r.body) as {
        values: Array<{ id: number; updatedAt: string }>;
        nextPageUrl: string | null;
      };
      for (const value of page.values) {
        if (from && value.updatedAt === from.updatedAt && from.ids.has(value.id)) continue;
        rows += 1;
        if (value.updatedAt !== last?.updatedAt) seenAtLast.clear();
        seenAtLast.add(value.id);
        last = value;
      }
      if (!page.nextPageUrl && r.headers?.['pardot-warning'] === '203') capped = true;
      path = page.nextPageUrl ? new URL(page.nextPageUrl).pathname + new URL(page.nextPageUrl).search : null;
    }
    if (!capped || !last) break;
    const previous: Set<number> = from && from.updatedAt === last.updatedAt ? from.ids : new Set();
    from = { updatedAt: last.updatedAt, ids: new Set([...previous, ...seenAtLast]) };
  }
  const querySeconds = Number(process.hrtime.bigint() - queryStarted) / 1e9;
  figure('server peak RSS', server.peakRssMb(), 'MB', '< 300');
  figure('server RSS at start', idleRss, 'MB');
  figure(
    'server RSS after a minute at most of quiet',
    await server.settledRssMb(idleRss),
    'MB',
    'near start',
  );
  await server.stop();

  // From the engine's own rows once it has stopped: the imported prospects inserted into a fresh
  // copy of the prospect table (its indexes, the import's 2,000 rows a transaction), and the
  // query's fields read in updatedAt order and turned into JSON, 1,000 rows a page.
  const bareImport = bareInserts(server.dataDir, 'marketing_prospect', {
    rows: IMPORT_ROWS,
    perTransaction: 2_000,
    where: "email like 'imp%'",
  });
  const bareQuery = bareScan(
    server.dataDir,
    `select id, email, first_name as firstName, last_name as lastName, company, score,
       updated_at as updatedAt
     from marketing_prospect where unit_id = ? and is_deleted = 0 order by updated_at, id`,
    { pageRows: 1_000, format: 'json', params: [marketing.businessUnitId] },
  );
  versus(
    `import, ${IMPORT_ROWS.toLocaleString('en-US')} rows (upload to Complete)`,
    importRate,
    bareImport,
    'rows/s',
    '>= 50,000',
  );
  versus(
    `v5 query by updatedAt, ${rows.toLocaleString('en-US')} rows`,
    rows / querySeconds,
    bareQuery,
    'rows/s',
    '>= 100,000',
  );
} finally {
  await server.stop();
  await bare.stop();
  server.cleanup();
}
process.exit(0);
