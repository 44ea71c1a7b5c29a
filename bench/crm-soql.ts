// Pages through 1,000,000 Leads with `WHERE SystemModstamp > …` over HTTP against `handoff crm`
// (SQLite, its own process), following nextRecordsUrl; prints rows/s (beside a bare read of the
// same rows from the same table) and the server's peak RSS.
// Then a parent-child query over 100,000 Accounts with 3 Contacts each (child rows/s).
// The records are written straight through the store first: loading them is not what is measured.
import { applyDerivedFields } from '../src/crm/domain/record-rules.js';
import type { RecordValues } from '../src/crm/domain/schema/field-def.js';
import { insertRecords } from '../src/crm/store/record-store.js';
import { newOrg, systemValues, withStoreCrm } from './support-store.js';
import { figure, jsonClient, startServer } from './support.js';
import { bareScan, versus } from './support-baseline.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const PARENTS = Number(process.env.BENCH_PARENTS ?? 100_000);
const CHILDREN_EACH = 3;
const BATCH = 10_000;
const BARE_LEADS = `select "Id", "FirstName", "LastName", "Email", "Company", "SystemModstamp" from crm_lead`;

async function seed(dataDir: string, ownerId: string): Promise<string> {
  const base = Date.now() - 5 * 86_400_000;
  await withStoreCrm(dataDir, async (crm) => {
    const def = crm.records.objectDef('Lead');
    const started = process.hrtime.bigint();
    for (let start = 0; start < ROWS; start += BATCH) {
      const rows: RecordValues[] = [];
      for (let i = start; i < Math.min(ROWS, start + BATCH); i++) {
        const record: RecordValues = {
          ...systemValues(crm, def, ownerId, new Date(base + i * 100).toISOString()),
          FirstName: 'Bulk',
          LastName: `Lead ${i}`,
          Company: `Company ${i % 1000}`,
          Email: `lead${i}@example.com`,
          Status: 'Open - Not Contacted',
          LeadSource: 'Web',
        };
        applyDerivedFields(def, record);
        rows.push(record);
      }
      await crm.unitOfWork.run((db) => insertRecords(db, def, rows));
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    figure('seed through the store (not a target)', ROWS / seconds, 'rows/s');
  });
  return new Date(base - 1000).toISOString();
}

/** Accounts, each with its Contacts, written through the store. */
async function seedFamilies(dataDir: string, ownerId: string): Promise<void> {
  await withStoreCrm(dataDir, async (crm) => {
    const accountDef = crm.records.objectDef('Account');
    const contactDef = crm.records.objectDef('Contact');
    const at = new Date().toISOString();
    for (let start = 0; start < PARENTS; start += BATCH / 4) {
      const accounts: RecordValues[] = [];
      const contacts: RecordValues[] = [];
      for (let i = start; i < Math.min(PARENTS, start + BATCH / 4); i++) {
        const account: RecordValues = { ...systemValues(crm, accountDef, ownerId, at), Name: `Family ${i}` };
        accounts.push(account);
        for (let c = 0; c < CHILDREN_EACH; c++) {
          const contact: RecordValues = {
            ...systemValues(crm, contactDef, ownerId, at),
            FirstName: `Kid${c}`,
            LastName: `Family ${i}`,
            AccountId: account.Id as string,
          };
          applyDerivedFields(contactDef, contact);
          contacts.push(contact);
        }
      }
      await crm.unitOfWork.run(async (db) => {
        await insertRecords(db, accountDef, accounts);
        await insertRecords(db, contactDef, contacts);
      });
    }
  });
}

async function pageThrough(
  server: Awaited<ReturnType<typeof startServer>>,
  soql: string,
  label: string,
  target: string,
  bareSql: string,
) {
  const client = jsonClient(server, 1);
  let path = `/services/data/v60.0/query?q=${encodeURIComponent(soql)}`;
  let rows = 0;
  let pages = 0;
  let total: number;
  const started = process.hrtime.bigint();
  for (;;) {
    const response = await client('GET', path);
    if (response.status !== 200) throw new Error(`${response.status}: ${response.body.slice(0, 200)}`);
    const page = JSON.parse(response.body) as {
      totalSize: number;
      records: unknown[];
      nextRecordsUrl?: string;
    };
    rows += page.records.length;
    total = page.totalSize;
    pages++;
    if (!page.nextRecordsUrl) break;
    path = page.nextRecordsUrl;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (rows !== ROWS || total !== ROWS)
    throw new Error(`read ${rows} rows (totalSize ${total}), expected ${ROWS}`);
  // Bare: the same rows read in one scan of the Lead table and turned into JSON, 2,000 a page.
  const bare = bareScan(server.dataDir, bareSql, { pageRows: 2_000, format: 'json' });
  versus(`${label} (${pages} pages)`, rows / seconds, bare, 'rows/s', target);
}

// First start creates the org and its credentials; then the server stops while the Leads go in.
const { dataDir, ownerId } = await newOrg();
const since = await seed(dataDir, ownerId);

const server = await startServer(dataDir);
try {
  await pageThrough(
    server,
    `SELECT Id, Name, Email, Company, SystemModstamp FROM Lead WHERE SystemModstamp > ${since}`,
    'paged SOQL, no ORDER BY',
    '>= 100,000',
    `${BARE_LEADS} where "SystemModstamp" > '${since}'`,
  );
  await pageThrough(
    server,
    `SELECT Id, Name, Email, Company, SystemModstamp FROM Lead WHERE SystemModstamp > ${since} ORDER BY SystemModstamp`,
    'paged SOQL, ORDER BY SystemModstamp',
    '>= 100,000',
    `${BARE_LEADS} where "SystemModstamp" > '${since}' order by "SystemModstamp"`,
  );
  figure('server peak RSS', server.peakRssMb(), 'MB', '< 300');
} finally {
  await server.stop();
}

// Parent-child: each page of Accounts reads its Contacts in one query.
await seedFamilies(dataDir, ownerId);
const families = await startServer(dataDir);
try {
  const client = jsonClient(families, 1);
  const soql = `SELECT Id, Name, (SELECT Id, FirstName, LastName FROM Contacts) FROM Account WHERE Name LIKE 'Family %'`;
  let path = `/services/data/v60.0/query?q=${encodeURIComponent(soql)}`;
  let parents = 0;
  let children = 0;
  const started = process.hrtime.bigint();
  for (;;) {
    const response = await client('GET', path);
    if (response.status !== 200) throw new Error(`${response.status}: ${response.body.slice(0, 200)}`);
    const page = JSON.parse(response.body) as {
      records: Array<{ Contacts: { records: unknown[] } | null }>;
      nextRecordsUrl?: string;
    };
    parents += page.records.length;
    for (const r of page.records) children += r.Contacts?.records.length ?? 0;
    if (!page.nextRecordsUrl) break;
    path = page.nextRecordsUrl;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (parents !== PARENTS || children !== PARENTS * CHILDREN_EACH)
    throw new Error(`read ${parents} parents and ${children} children`);
  // Bare: each Account beside its Contacts in one join, turned into JSON 2,000 rows a page.
  const bare = bareScan(
    families.dataDir,
    `select a."Id", a."Name", c."Id" as "ContactId", c."FirstName", c."LastName"
     from crm_account a join crm_contact c on c."AccountId" = a."Id" where a."Name" like 'Family %'`,
    { pageRows: 2_000, format: 'json' },
  );
  versus(
    `parent-child query, ${PARENTS} Accounts × ${CHILDREN_EACH} Contacts`,
    children / seconds,
    bare,
    'child rows/s',
    '>= 50,000',
  );
  figure('server peak RSS', families.peakRssMb(), 'MB');
} finally {
  await families.stop();
  families.cleanup();
}
