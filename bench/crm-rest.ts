// Creates over HTTP keep-alive against `handoff crm` (SQLite, its own process):
// single-record creates sequentially and 16-way concurrent, and sObject Collections of 200; each
// beside a bare Fastify route answering the same calls in the same run, and beside bare
// better-sqlite3 inserts of the same Leads.
import { figure, jsonClient, pool, startServer, type BenchServer } from './support.js';
import { bareInserts, bareServer, versus } from './support-baseline.js';

const SINGLE = Number(process.env.BENCH_SINGLE ?? 5000);
const COLLECTION_CALLS = Number(process.env.BENCH_COLLECTION_CALLS ?? 250);

function lead(i: number) {
  return {
    FirstName: 'Bench',
    LastName: `Lead ${i}`,
    Company: `Company ${i % 500}`,
    Email: `bench${i}@example.com`,
    LeadSource: 'Web',
  };
}

/** The creates' rates against one server: the CRM, or a bare route answering the same calls. */
async function createRates(target: BenchServer) {
  const seq = jsonClient(server, 1, { url: target.url });
  const conc = jsonClient(server, 16, { url: target.url });
  const check = (r: { status: number; body: string }, want: number) => {
    if (r.status !== want) throw new Error(`unexpected ${r.status}: ${r.body.slice(0, 200)}`);
  };
  // Warm up the JIT and the connection pool.
  await pool(500, 16, async (i) =>
    check(await conc('POST', '/services/data/v60.0/sobjects/Lead', lead(i)), 201),
  );
  const seqSeconds = await pool(SINGLE, 1, async (i) =>
    check(await seq('POST', '/services/data/v60.0/sobjects/Lead', lead(i)), 201),
  );
  const concSeconds = await pool(SINGLE, 16, async (i) =>
    check(await conc('POST', '/services/data/v60.0/sobjects/Lead', lead(i)), 201),
  );
  const batch = (n: number) => ({
    allOrNone: false,
    records: Array.from({ length: 200 }, (_, i) => ({ attributes: { type: 'Lead' }, ...lead(n * 200 + i) })),
  });
  const collSeqSeconds = await pool(COLLECTION_CALLS, 1, async (i) =>
    check(await seq('POST', '/services/data/v60.0/composite/sobjects', batch(i)), 200),
  );
  const collConcSeconds = await pool(COLLECTION_CALLS, 4, async (i) =>
    check(await conc('POST', '/services/data/v60.0/composite/sobjects', batch(i)), 200),
  );
  return {
    seq: SINGLE / seqSeconds,
    conc: SINGLE / concSeconds,
    collSeq: (COLLECTION_CALLS * 200) / collSeqSeconds,
    collConc: (COLLECTION_CALLS * 200) / collConcSeconds,
  };
}

const server = await startServer();
try {
  const real = await createRates(server);
  const peakRss = server.peakRssMb();
  await server.stop();
  // A bare route answers what the CRM answers: a create's id, and a Collection's 200 results.
  const created = { id: '00Q000000000001AAA', success: true, errors: [] };
  const bare = await bareServer([
    { method: 'POST', prefix: '/services/data/v60.0/sobjects/', status: 201, body: JSON.stringify(created) },
    {
      method: 'POST',
      prefix: '/services/data/v60.0/composite/sobjects',
      status: 200,
      body: JSON.stringify(Array.from({ length: 200 }, () => created)),
    },
  ]);
  const baseline = await createRates({ ...server, url: bare.url });
  await bare.stop();
  versus('single creates, sequential', real.seq, baseline.seq, 'records/s');
  versus('single creates, 16 concurrent', real.conc, baseline.conc, 'records/s', '>= 3,000');
  versus('Collections (200/call), sequential', real.collSeq, baseline.collSeq, 'records/s');
  versus('Collections (200/call), 4 concurrent', real.collConc, baseline.collConc, 'records/s', '>= 20,000');
  // And the store's share: the same Leads inserted bare into a copy of the Lead table, one a
  // transaction (a single create) and 200 a transaction (a Collection).
  const bareOne = bareInserts(server.dataDir, 'crm_lead', { rows: SINGLE, perTransaction: 1 });
  const bare200 = bareInserts(server.dataDir, 'crm_lead', {
    rows: COLLECTION_CALLS * 200,
    perTransaction: 200,
  });
  versus('single creates, 16 concurrent, beside bare inserts', real.conc, bareOne, 'records/s');
  versus('Collections, 4 concurrent, beside bare inserts', real.collConc, bare200, 'records/s');
  figure('server peak RSS', peakRss, 'MB');
} finally {
  await server.stop();
  server.cleanup();
}
