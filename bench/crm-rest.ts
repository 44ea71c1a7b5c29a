// Creates over HTTP keep-alive against `handoff crm` (SQLite, its own process):
// single-record creates sequentially and 16-way concurrent, and sObject Collections of 200.
import { figure, jsonClient, pool, startServer } from './support.js';

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

const server = await startServer();
try {
  const seq = jsonClient(server, 1);
  const conc = jsonClient(server, 16);
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
  figure('single creates, sequential', SINGLE / seqSeconds, 'records/s');

  const concSeconds = await pool(SINGLE, 16, async (i) =>
    check(await conc('POST', '/services/data/v60.0/sobjects/Lead', lead(i)), 201),
  );
  figure('single creates, 16 concurrent', SINGLE / concSeconds, 'records/s', '>= 3,000');

  const batch = (n: number) => ({
    allOrNone: false,
    records: Array.from({ length: 200 }, (_, i) => ({ attributes: { type: 'Lead' }, ...lead(n * 200 + i) })),
  });
  const collSeqSeconds = await pool(COLLECTION_CALLS, 1, async (i) =>
    check(await seq('POST', '/services/data/v60.0/composite/sobjects', batch(i)), 200),
  );
  figure('Collections (200/call), sequential', (COLLECTION_CALLS * 200) / collSeqSeconds, 'records/s');
  const collConcSeconds = await pool(COLLECTION_CALLS, 4, async (i) =>
    check(await conc('POST', '/services/data/v60.0/composite/sobjects', batch(i)), 200),
  );
  figure(
    'Collections (200/call), 4 concurrent',
    (COLLECTION_CALLS * 200) / collConcSeconds,
    'records/s',
    '>= 20,000',
  );
  figure('server peak RSS', server.peakRssMb(), 'MB');
} finally {
  await server.stop();
  server.cleanup();
}
