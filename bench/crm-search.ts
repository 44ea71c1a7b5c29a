// SOSL over 1,000,000 Leads against `handoff crm` (SQLite, its own process): queries/s and
// latency for a term that names one Lead (an email, a last name), and for a common word with a
// LIMIT. The Leads are written straight through the store first (the search index is kept by the
// database as they go in): loading them is not what is measured.
import { applyDerivedFields } from '../src/crm/domain/record-rules.js';
import type { RecordValues } from '../src/crm/domain/schema/field-def.js';
import { insertRecords } from '../src/crm/store/record-store.js';
import { newOrg, systemValues, withStoreCrm } from './support-store.js';
import { bareQueries, versus } from './support-baseline.js';
import { figure, jsonClient, load, percentile, startServer } from './support.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 4_000);
const CONCURRENCY = 8;
const BATCH = 10_000;
const SURNAMES = ['Quill', 'Marsh', 'Okafor', 'Lindqvist', 'Haddad', 'Moreau', 'Tanaka', 'Novak'];

async function seed(dataDir: string, ownerId: string): Promise<void> {
  await withStoreCrm(dataDir, async (crm) => {
    const def = crm.records.objectDef('Lead');
    const at = new Date().toISOString();
    const started = process.hrtime.bigint();
    for (let start = 0; start < ROWS; start += BATCH) {
      const rows: RecordValues[] = [];
      for (let i = start; i < Math.min(ROWS, start + BATCH); i++) {
        const record: RecordValues = {
          ...systemValues(crm, def, ownerId, at),
          FirstName: `Person${i}`,
          LastName: SURNAMES[i % SURNAMES.length]!,
          Company: `Company ${i % 1000} Widgets`,
          Email: `person${i}@example${i % 100}.com`,
          Phone: `(415) 555-${String(i % 10_000).padStart(4, '0')}`,
          Status: 'Open - Not Contacted',
        };
        applyDerivedFields(def, record);
        rows.push(record);
      }
      await crm.unitOfWork.run((db) => insertRecords(db, def, rows));
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    figure('seed through the store, index kept (not a target)', ROWS / seconds, 'rows/s');
  });
}

const { dataDir, ownerId } = await newOrg();
await seed(dataDir, ownerId);

const server = await startServer(dataDir);
try {
  const client = jsonClient(server, CONCURRENCY);
  const searchOnce = async (sosl: string, expect?: number): Promise<number> => {
    const started = process.hrtime.bigint();
    const response = await client('GET', `/services/data/v60.0/search?q=${encodeURIComponent(sosl)}`);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (response.status !== 200) throw new Error(`${response.status}: ${response.body.slice(0, 200)}`);
    const found = (JSON.parse(response.body) as { searchRecords: unknown[] }).searchRecords.length;
    if (expect !== undefined && found !== expect)
      throw new Error(`${sosl}: ${found} records, expected ${expect}`);
    return ms;
  };
  const pick = (i: number) => (i * 7919) % ROWS;

  const one = await load(QUERIES, CONCURRENCY, (i) =>
    searchOnce(
      `FIND {person${pick(i)}@example${pick(i) % 100}.com} IN EMAIL FIELDS RETURNING Lead(Id, Name, Email)`,
      1,
    ),
  );
  // Bare: the same match asked straight of the Lead table's full-text index, one after another.
  const bare = (match: (i: number) => string, limit: number, total: number) =>
    bareQueries(
      server.dataDir,
      `select l."Id", l."FirstName", l."LastName", l."Email" from crm_lead_search s
       join crm_lead l on l.rowid = s.rowid where crm_lead_search match ? limit ?`,
      total,
      (i) => [match(i), limit],
    );
  versus(
    `SOSL, an email that names one Lead, ${CONCURRENCY} clients`,
    QUERIES / one.seconds,
    bare((i) => `"person${pick(i)}@example${pick(i) % 100}.com"`, 2_000, QUERIES),
    'queries/s',
  );
  figure('  p50', percentile(one.latencies, 50), 'ms');
  figure('  p99', percentile(one.latencies, 99), 'ms', '<= 50');

  const prefix = await load(QUERIES, CONCURRENCY, (i) =>
    searchOnce(`FIND {person${pick(i)}*} RETURNING Lead(Id, Name LIMIT 20)`),
  );
  versus(
    `SOSL, a prefix, LIMIT 20, ${CONCURRENCY} clients`,
    QUERIES / prefix.seconds,
    bare((i) => `person${pick(i)}*`, 20, QUERIES),
    'queries/s',
  );
  figure('  p99', percentile(prefix.latencies, 99), 'ms', '<= 50');

  const common = await load(QUERIES / 4, CONCURRENCY, (i) =>
    searchOnce(`FIND {${SURNAMES[i % SURNAMES.length]} widgets} RETURNING Lead(Id, Name LIMIT 200)`, 200),
  );
  versus(
    `SOSL, two common words (125,000 matches), LIMIT 200`,
    QUERIES / 4 / common.seconds,
    bare((i) => `${SURNAMES[i % SURNAMES.length]} widgets`, 200, QUERIES / 4),
    'queries/s',
  );
  figure('  p99', percentile(common.latencies, 99), 'ms', '<= 50');
  figure('server peak RSS', server.peakRssMb(), 'MB');
} finally {
  await server.stop();
  server.cleanup();
}
