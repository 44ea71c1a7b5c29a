import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import {
  CLI,
  cleanUp,
  FREE_PORTS,
  login,
  marketingQuery,
  readCredentials,
  run,
  start,
  stop,
  tempDir,
  TSX_LOADER,
} from '../support/cli.js';
import { walkAuthorizationPages } from '../support/oauth-pages.js';

afterEach(cleanUp);

// Each test starts the CLI several times, every one a cold start through the TypeScript loader
// (1–2 s each on two cores, more while other suites run): 30 s is too tight for the longer ones.
describe('the handoff command', { timeout: 60_000 }, () => {
  it('prints its version, and says which server’s port is taken and how to pick another', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const printed = await run(['--version']);
    expect(printed.output.trim()).toBe(version);
    expect(printed.code).toBe(0);

    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const clash = await run(['crm', '--crm-port', String(port), '--data-dir', tempDir()]);
      expect(clash.code).toBe(1);
      expect(clash.output).toContain(`the CRM cannot listen on 127.0.0.1:${port}: the port is taken`);
      expect(clash.output).toContain('--crm-port');
      expect(clash.output).not.toMatch(/^\s+at /m);
    } finally {
      taken.close();
    }
  });

  it('suggests the command meant when one is misspelt, and exits 1', async () => {
    for (const [args, suggestion] of [
      [['snyc'], 'sync'],
      [['sync', 'stauts'], 'status'],
      [['ingest', 'sorces'], 'sources'],
    ] as const) {
      const answer = await run([...args]);
      expect(answer.code).toBe(1);
      expect(answer.output).toContain(`unknown command '${args.at(-1)}'`);
      expect(answer.output).toContain(`(Did you mean ${suggestion}?)`);
    }
  });

  it('demo: starts the CRM on a free port, writes its credentials, loads sample data and prints ready', async () => {
    const dataDir = tempDir();
    const running = await start(['demo', ...FREE_PORTS, '--data-dir', dataDir]);
    const { crm } = readCredentials(dataDir);
    expect(crm.loginUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(crm.instanceUrl).toBe(crm.loginUrl);
    expect(running.output()).toContain(crm.password);
    expect(statSync(join(dataDir, 'credentials.json')).mode & 0o077).toBe(0);
    // Every server's URL is in the credentials, the console's too.
    const consoleUrl = (readCredentials(dataDir) as { console?: { url?: string } }).console?.url;
    expect(consoleUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(running.output()).toContain(consoleUrl);

    const conn = await login(dataDir);
    const leads = await conn.query('SELECT COUNT() FROM Lead');
    const users = await conn.query('SELECT Name FROM User ORDER BY Name');
    expect(leads.totalSize).toBeGreaterThanOrEqual(10);
    expect(users.records.length).toBe(4);

    // The marketing engine runs beside it, trusting the CRM's tokens.
    const { marketing } = readCredentials(dataDir);
    expect(marketing?.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(running.output()).toContain(marketing?.businessUnitId);
    const prospects = await marketingQuery(dataDir, conn.accessToken!);
    expect(prospects.status).toBe(200);
    expect(prospects.body.values.length).toBeGreaterThanOrEqual(10);
    expect(await stop(running)).toBe(0);
  });

  it('demo: runs the ingest with a demo source whose identify calls become prospects', async () => {
    const dataDir = tempDir();
    const running = await start(['demo', ...FREE_PORTS, '--data-dir', dataDir]);
    const { ingest } = readCredentials(dataDir);
    expect(ingest?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(running.output()).toContain(ingest?.writeKey);
    const sent = await fetch(`${ingest?.url}/v1/identify`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${ingest?.writeKey}:`).toString('base64')}`,
      },
      body: JSON.stringify({
        userId: 'cli-user',
        traits: { email: 'cli-ingest@example.com', firstName: 'Cli' },
      }),
    });
    expect(sent.status).toBe(200);
    const conn = await login(dataDir);
    let found: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 100 && found.length === 0; i++) {
      const r = await marketingQuery(dataDir, conn.accessToken!, {
        path: '/api/v5/objects/prospects?fields=id,firstName&email=cli-ingest@example.com',
      });
      found = r.body.values;
      if (found.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(found).toMatchObject([{ firstName: 'Cli' }]);
    expect(await stop(running)).toBe(0);
  });

  it('demo: syncs a new Lead to a prospect in the background, and sync --once runs one pass', async () => {
    const dataDir = tempDir();
    const running = await start(['demo', ...FREE_PORTS, '--data-dir', dataDir]);
    expect(running.output()).toContain('Connector');
    const conn = await login(dataDir);
    await conn
      .sobject('Lead')
      .create({ LastName: 'Synced', Company: 'Demo Co', Email: 'synced@demo.example' });
    let found: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 100 && found.length === 0; i++) {
      const r = await marketingQuery(dataDir, conn.accessToken!, {
        path: '/api/v5/objects/prospects?fields=id,lastName,company&email=synced@demo.example',
      });
      found = r.body.values;
      if (found.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(found).toMatchObject([{ lastName: 'Synced', company: 'Demo Co' }]);
    const once = await run(['sync', '--once', '--data-dir', dataDir]);
    expect(once.output).toMatch(
      /CRM records \d+, prospects \d+, queued \d+, worked \d+, prospects created 0/,
    );
    expect(once.output).toMatch(/API calls: CRM \d+, marketing \d+/);
    expect(once.code).toBe(0);
    const status = await run(['sync', 'status', '--data-dir', dataDir]);
    // Each side's use today against the connector's share, with the day's forecast.
    expect(status.output).toMatch(/CRM API {8}\d+ of \d+ requests today \(forecast \d+\)/);
    expect(status.output).toMatch(
      /marketing API {2}\d+ calls today by the connector \(forecast \d+\); its share 20000 \(20 % of the unit's 100000\)/,
    );
    // The sample data linked on the first start (a backfill), and the new Lead.
    const linkedPairs = Number(/linked pairs {3}(\d+)/.exec(status.output)?.[1]);
    expect(linkedPairs).toBeGreaterThan(20);
    expect(status.output).toMatch(/backfill {7}done /);
    // Where the backfill read its imports back from is not a position of the sync.
    expect(status.output).not.toContain('backfill-since');
    expect(status.output).toMatch(/cursor Lead/);
    // An id cursor says where it stands, not a lag computed from an id read as a time.
    expect(status.output).toMatch(/cursor activities +after id -?\d+/);
    expect(status.output).not.toMatch(/\d{7,} s behind now/);
    expect(status.output).toContain('sync errors    0');
    expect(status.output).toContain('queue          0');
    expect(status.output).toContain('paused         no');
    expect((await run(['sync', 'pause', '--data-dir', dataDir])).output).toContain('paused');
    expect((await run(['sync', 'status', '--data-dir', dataDir])).output).toContain('paused         yes');
    await run(['sync', 'resume', '--data-dir', dataDir]);
    expect((await run(['sync', 'errors', '--data-dir', dataDir])).output).toContain('no sync errors');
    const prospectId = String(found[0]!.id);
    const log = await run(['sync', 'log', prospectId, '--data-dir', dataDir]);
    expect(log.output).toContain(`→ prospect ${prospectId} * = "synced@demo.example"`);
    expect(log.output).toContain('prospect made for a new Lead; POST /api/v5/objects/prospects');
    const unknown = await run(['sync', 'log', 'nonsense', '--data-dir', dataDir]);
    expect(unknown.output).toContain('nothing synced for nonsense');
    expect(unknown.code).toBe(1);
    // Both sides agree on every linked pair: the cost said first, counted after, and a CSV.
    const csv = join(dataDir, 'verify.csv');
    const verify = await run(['sync', 'verify', '--data-dir', dataDir, '--csv', csv]);
    expect(verify.output).toMatch(/verify: about \d+ CRM calls and \d+ marketing calls/);
    expect(verify.output).toMatch(
      new RegExp(`verified ${linkedPairs} linked pairs in [\\d.]+ s: 0 differences`),
    );
    expect(verify.output).toMatch(/API calls: CRM \d+, marketing \d+/);
    expect(readFileSync(csv, 'utf8')).toBe(
      'class,object,crm_id,prospect_id,field,crm_field,crm_value,marketing_value,last_synced,changed,note\n',
    );
    expect(verify.code).toBe(0);
    // The configured mappings are the ones in force: previewing them writes nothing anywhere.
    const preview = await run(['sync', 'preview', '--data-dir', dataDir]);
    expect(preview.output).toContain(
      `preview of the configured mappings and rules over ${linkedPairs} linked pairs:`,
    );
    expect(preview.output).toMatch(/to the CRM +0 records\n +to marketing +0 records/);
    expect(preview.output).toContain('nothing was written; --save saves these settings');
    expect(preview.code).toBe(0);
    expect(await stop(running)).toBe(0);
  }, 120_000); // a dozen CLI processes, each a cold start: 23 s on an idle 2-core machine

  it('sync errors: lists a refusal with its person, value and hint; --retry and --skip settle it by id', async () => {
    const dataDir = tempDir();
    const configFile = join(dataDir, 'handoff.config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        crm: {
          validationRules: [
            {
              object: 'Lead',
              name: 'No_Interns',
              when: [{ field: 'Title', op: 'contains', value: 'Intern' }],
              message: 'Interns cannot be Leads',
              field: 'Title',
              active: true,
            },
          ],
        },
      }),
    );
    const running = await start(['demo', ...FREE_PORTS, '--data-dir', dataDir, '--config', configFile]);
    const conn = await login(dataDir);
    await conn
      .sobject('Lead')
      .create({ FirstName: 'Ida', LastName: 'Rule', Company: 'R', Email: 'ida@cli.example' });
    const errorsNow = async () =>
      (await run(['sync', 'errors', '--data-dir', dataDir, '--config', configFile])).output;
    let prospectId: number | undefined;
    await expect
      .poll(
        async () => {
          const r = await marketingQuery(dataDir, conn.accessToken!, {
            path: '/api/v5/objects/prospects?fields=id,salesforceId&email=ida@cli.example',
          });
          prospectId = r.body.values[0]?.salesforceId ? Number(r.body.values[0].id) : undefined;
          return prospectId;
        },
        { timeout: 30_000 },
      )
      .toBeDefined();
    await marketingQuery(dataDir, conn.accessToken!, {
      path: `/api/v5/objects/prospects/${prospectId}?fields=id`,
      method: 'PATCH',
      body: { jobTitle: 'Intern' },
    });
    await expect.poll(errorsNow, { timeout: 30_000 }).toContain('Interns cannot be Leads');
    const listed = await errorsNow();
    expect(listed).toContain('validation (1)  A value the other side rejects');
    expect(listed).toMatch(/#(\d+) {2}Ida Rule <ida@cli\.example> {2}crm refused {2}since /);
    expect(listed).toContain('refused  Title = "Intern"');
    expect(listed).toMatch(new RegExp(`records  Lead 00Q\\w+ / prospect ${prospectId}`));
    expect(listed).toMatch(/http:\/\/127\.0\.0\.1:\d+\/#\/explorer\/00Q/);
    const id = /#(\d+)/.exec(listed)![1]!;

    const unknown = await run([
      'sync',
      'errors',
      '--retry',
      '99999',
      '--data-dir',
      dataDir,
      '--config',
      configFile,
    ]);
    expect(unknown.output).toContain('no open sync error #99999');
    expect(unknown.code).toBe(1);
    const retried = await run([
      'sync',
      'errors',
      '--retry',
      id,
      '--data-dir',
      dataDir,
      '--config',
      configFile,
    ]);
    expect(retried.output).toContain('1 marked for retry');
    // Tried again under the same rule: the same error (its id), refused twice.
    await expect.poll(errorsNow, { timeout: 30_000 }).toContain('refused 2 times');
    expect(await errorsNow()).toContain(`#${id}  Ida Rule`);
    const skipped = await run([
      'sync',
      'errors',
      '--skip',
      'all',
      '--data-dir',
      dataDir,
      '--config',
      configFile,
    ]);
    expect(skipped.output).toContain('1 skipped');
    expect(await errorsNow()).toContain('no sync errors');
    expect(await stop(running)).toBe(0);
  }, 120_000);

  it('sync --metrics-port: serves the connector’s figures and probes; logs are JSON lines when piped', async () => {
    const dataDir = tempDir();
    const demo = await start(['demo', ...FREE_PORTS, '--data-dir', dataDir, '--no-sync']);
    const sync = spawn(
      process.execPath,
      [
        '--import',
        TSX_LOADER,
        CLI,
        'sync',
        '--data-dir',
        dataDir,
        '--metrics-port',
        '0',
        '--log-level',
        'info',
      ],
      { env: { ...process.env, HANDOFF_LOG_LEVEL: '' } },
    );
    let output = '';
    sync.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    sync.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        sync.stdout.on('data', () => {
          const found = /metrics at (http:\/\/\S+)\/metrics/.exec(output);
          if (found?.[1]) resolve(found[1]);
        });
        sync.on('exit', (code) => reject(new Error(`sync exited with ${code}: ${output}`)));
      });
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${url}/readyz`);
      expect(await ready.json()).toEqual({
        status: 'ok',
        checks: { store: 'ok', crm: 'ok', marketing: 'ok' },
      });
      const conn = await login(dataDir);
      await conn
        .sobject('Lead')
        .create({ LastName: 'Scraped', Company: 'Metrics Co', Email: 'scraped@demo.example' });
      // The connector links the new Lead: its gauge says so, read by a scrape as Prometheus would.
      // (Its first start links the sample data first, with a backfill; then the passes run.)
      let linked = 0;
      const passed = () => output.includes('"msg":"sync pass"');
      for (let i = 0; i < 200 && (linked < 1 || !passed()); i++) {
        const text = await (await fetch(`${url}/metrics`)).text();
        linked = Number(
          /^handoff_connector_linked_pairs\{object="Lead",server="sync"\} (\d+)/m.exec(text)?.[1] ?? 0,
        );
        if (linked < 1 || !passed()) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(linked).toBeGreaterThanOrEqual(1);
      expect(output).toContain('first start: linking what both sides already hold (backfill)');
      // --log-level info: the passes are logged, each line one JSON object (stdout is a pipe).
      const logLines = output.split('\n').filter((line) => line.startsWith('{'));
      expect(logLines.length).toBeGreaterThan(0);
      expect(logLines.map((line) => JSON.parse(line) as { msg: string }).map((l) => l.msg)).toContain(
        'sync pass',
      );
    } finally {
      sync.kill('SIGTERM');
      await stop(demo);
    }
  });

  it('console: runs the admin console alone beside the servers of the data dir, behind the admin login', async () => {
    const dataDir = tempDir();
    const servers = await start(['demo', ...FREE_PORTS, '--no-sync', '--data-dir', dataDir]);
    // The demo without its connector has no console; `handoff console` brings one.
    expect(servers.output()).not.toContain('Console');
    const consoleOnly = await start(['console', '--console-port', '0', '--data-dir', dataDir]);
    const url = /^Console +(\S+)$/m.exec(consoleOnly.output())?.[1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const creds = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as {
      crm: { username: string; password: string };
    };
    expect(consoleOnly.output()).toContain(`log in as      ${creds.crm.username} / ${creds.crm.password}`);

    const session = await fetch(`${url}/console/api/session`);
    const cookie = session.headers.get('set-cookie')!.split(';')[0]!;
    const { csrfToken } = (await session.json()) as { csrfToken: string };
    const login = await fetch(`${url}/console/api/login`, {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrfToken, 'content-type': 'application/json' },
      body: JSON.stringify({ username: creds.crm.username, password: creds.crm.password }),
    });
    expect(login.status).toBe(200);
    const loggedIn = login.headers.get('set-cookie')!.split(';')[0]!;
    const overview = (await (
      await fetch(`${url}/console/api/overview`, { headers: { cookie: loggedIn } })
    ).json()) as { connections: { crm: { ok: boolean }; marketing: { ok: boolean } } };
    expect(overview.connections.crm.ok).toBe(true);
    expect(overview.connections.marketing.ok).toBe(true);
    // The front end is served at the root.
    expect(await (await fetch(url!)).text()).toContain('<div id="root">');
    expect(await stop(consoleOnly)).toBe(0);
    expect(await stop(servers)).toBe(0);
  });

  it('doctor: checks the connector, and says which mapping is wrong', async () => {
    const dataDir = tempDir();
    const running = await start(['demo', ...FREE_PORTS, '--no-sync', '--data-dir', dataDir]);
    const good = await run(['doctor', '--data-dir', dataDir]);
    expect(good.output).toMatch(/✓ CRM login +password login to http:\/\/127\.0\.0\.1:\d+ as admin@/);
    expect(good.output).toMatch(/✓ marketing unit/);
    expect(good.output).toMatch(/✓ Lead mappings/);
    expect(good.output).toMatch(/✓ CRM API budget/);
    expect(good.output).toMatch(
      /✓ CRM Task activity id +Task\.Handoff_Activity_Id__c is a unique external id/,
    );
    expect(good.output).toContain('all good');
    expect(good.code).toBe(0);
    const configFile = join(dataDir, 'handoff.config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        connector: { mappings: { Lead: [{ prospectField: 'phone', crmField: 'Phone_Number__c' }] } },
      }),
    );
    const bad = await run(['doctor', '--data-dir', dataDir, '--config', configFile]);
    expect(bad.output).toMatch(
      /✗ Lead mappings +27 of 28 usable; Lead\.Phone_Number__c does not exist in the CRM/,
    );
    expect(bad.output).toContain('1 problem found');
    expect(bad.code).toBe(1);
    // The same mappings previewed before anyone saves them: refused, with the row.
    const preview = await run(['sync', 'preview', '--data-dir', dataDir, '--config', configFile]);
    expect(preview.output).toMatch(/✗ mappings\.Lead\.\d+: Lead\.Phone_Number__c does not exist in the CRM/);
    expect(preview.code).toBe(1);
    expect(await stop(running)).toBe(0);
  });

  it('connects to orgs named in the configuration, their secrets encrypted at rest', async () => {
    const demoDir = tempDir();
    const running = await start(['demo', ...FREE_PORTS, '--no-sync', '--data-dir', demoDir]);
    const { crm, marketing } = readCredentials(demoDir);
    // The connector's own data dir: its secret.key is made by the first `secret encrypt`.
    const syncDir = tempDir();
    const encrypt = async (value: string) => {
      const r = await run(['secret', 'encrypt', value, '--data-dir', syncDir]);
      expect(r.code).toBe(0);
      return r.output.trim();
    };
    const password = await encrypt(crm.password);
    const clientSecret = await encrypt(crm.clientSecret);
    expect(password).toMatch(/^enc:v1:/);
    expect(statSync(join(syncDir, 'secret.key')).mode & 0o077).toBe(0);
    const configFile = join(syncDir, 'handoff.config.json');
    const { instanceUrl: _instance, ...login } = crm;
    writeFileSync(
      configFile,
      JSON.stringify({
        connector: {
          connections: {
            crm: { flow: 'password', ...login, clientSecret, password },
            marketing: { baseUrl: marketing!.baseUrl, businessUnitId: marketing!.businessUnitId },
          },
        },
      }),
    );
    expect(readFileSync(configFile, 'utf8')).not.toContain(crm.password);
    const doctor = await run(['doctor', '--data-dir', syncDir, '--config', configFile]);
    expect(doctor.output).toContain('all good');
    expect(doctor.code).toBe(0);
    // Under another key the secrets do not open, and it says so.
    const wrongKey = await run(['doctor', '--data-dir', syncDir, '--config', configFile], process.cwd(), {
      HANDOFF_SECRET_KEY: 'ab'.repeat(32),
    });
    expect(wrongKey.output).toContain('does not decrypt with this key');
    expect(wrongKey.code).toBe(1);
    expect(await stop(running)).toBe(0);
  });

  it('ingest sources: creates, lists, rotates and removes sources; bad settings are refused', async () => {
    const dataDir = tempDir();
    const created = await run([
      'ingest',
      'sources',
      'create',
      'app',
      '--api-version',
      '4',
      '--lookup-field',
      'Customer_Id',
      '--use-user-id',
      '--data-dir',
      dataDir,
    ]);
    expect(created.code).toBe(0);
    const key = /write key {2}(\S+)/.exec(created.output)?.[1];
    expect(key).toMatch(/^[A-Za-z0-9]{32}$/);
    const listed = await run(['ingest', 'sources', 'list', '--data-dir', dataDir]);
    expect(listed.output).toMatch(/app {2}v4 {2}unit \(default\) {2}lookup Customer_Id = userId/);
    const rotated = await run(['ingest', 'sources', 'rotate', 'app', '--data-dir', dataDir]);
    expect(/write key {2}(\S+)/.exec(rotated.output)?.[1]).not.toBe(key);
    const refused = await run([
      'ingest',
      'sources',
      'create',
      'bad',
      '--lookup-field',
      'fid',
      '--data-dir',
      dataDir,
    ]);
    expect(refused.code).toBe(1);
    expect(refused.output).toContain('id and fid cannot be the lookup field');
    expect((await run(['ingest', 'sources', 'remove', 'app', '--data-dir', dataDir])).code).toBe(0);
    expect((await run(['ingest', 'sources', 'list', '--data-dir', dataDir])).output).toContain('no sources');
    expect((await run(['ingest', 'failures', '--data-dir', dataDir])).output).toContain(
      'no failed deliveries',
    );
  });

  it('ingest: refuses to start without a marketing engine in its data dir', async () => {
    const dataDir = tempDir();
    await stop(await start(['crm', '--crm-port', '0', '--data-dir', dataDir]));
    const { code, output } = await run(['ingest', '--ingest-port', '0', '--data-dir', dataDir]);
    expect(code).toBe(1);
    expect(output).toContain('no marketing credentials');
  });

  it('marketing: runs the marketing engine alone, verifying tokens with the CRM of the data dir', async () => {
    const dataDir = tempDir();
    const crm = await start(['crm', '--crm-port', '0', '--data-dir', dataDir]);
    const marketing = await start(['marketing', '--marketing-port', '0', '--data-dir', dataDir]);
    const conn = await login(dataDir);
    const created = await marketingQuery(dataDir, conn.accessToken!, {
      method: 'POST',
      path: '/api/v5/objects/prospects?fields=id,email',
      body: { email: 'alone@example.com' },
    });
    expect(created.status).toBe(201);
    const listed = await marketingQuery(dataDir, conn.accessToken!);
    expect(listed.body.values).toEqual([{ id: created.body.id, email: 'alone@example.com' }]);
    const refused = await marketingQuery(dataDir, 'not-a-token');
    expect(refused.status).toBe(401);
    expect(await stop(marketing)).toBe(0);
    expect(await stop(crm)).toBe(0);
  });

  it('marketing: refuses to start without a CRM in its data dir', async () => {
    const dataDir = tempDir();
    const { code, output } = await run(['marketing', '--marketing-port', '0', '--data-dir', dataDir]);
    expect(code).toBe(1);
    expect(output).toContain('start `handoff crm` with this data dir first');
  });

  it('keeps its data and credentials across restarts, without loading the sample data twice', async () => {
    const dataDir = tempDir();
    const first = await start(['demo', ...FREE_PORTS, '--data-dir', dataDir]);
    const before = readCredentials(dataDir).crm;
    const created = await (
      await login(dataDir)
    )
      .sobject('Lead')
      .create({ LastName: 'Survivor', Company: 'Restart Co' });
    await stop(first);

    const second = await start(['demo', ...FREE_PORTS, '--data-dir', dataDir]);
    const after = readCredentials(dataDir).crm;
    expect(after.password).toBe(before.password);
    expect(after.clientId).toBe(before.clientId);
    const conn = await login(dataDir);
    const survivor = (await conn.sobject('Lead').retrieve((created as { id: string }).id)) as Record<
      string,
      unknown
    >;
    expect(survivor.LastName).toBe('Survivor');
    expect((await conn.query('SELECT COUNT() FROM User')).totalSize).toBe(4);
    await stop(second);
  });

  it('crm: runs the CRM alone, with an empty org, on the port from HANDOFF_CRM_PORT', async () => {
    const dataDir = tempDir();
    const running = await start(['crm', '--data-dir', dataDir], { HANDOFF_CRM_PORT: '0' });
    const conn = await login(dataDir);
    expect((await conn.query('SELECT COUNT() FROM Lead')).totalSize).toBe(0);
    expect(await stop(running)).toBe(0);
  });

  it('connected-app add: registers a web app whose users the CRM sends back with a code', async () => {
    const dataDir = tempDir();
    const running = await start(['crm', '--crm-port', '0', '--data-dir', dataDir]);
    const { crm } = readCredentials(dataDir);
    const callback = 'https://app.example.com/oauth/callback';
    const refused = await run([
      'connected-app',
      'add',
      '--name',
      'Bad',
      '--callback-url',
      'javascript:alert(1)',
      '--data-dir',
      dataDir,
    ]);
    expect(refused.code).toBe(1);
    const added = await run([
      'connected-app',
      'add',
      '--name',
      'Example App',
      '--callback-url',
      callback,
      '--data-dir',
      dataDir,
    ]);
    expect(added.code, added.output).toBe(0);
    const clientId = /consumer key\s+(\S+)/.exec(added.output)?.[1] ?? '';
    const clientSecret = /consumer secret\s+(\S+)/.exec(added.output)?.[1] ?? '';
    // The login page, then the approval page naming the app, then back to the app with a code.
    const allowed = await walkAuthorizationPages(
      crm.loginUrl,
      `${crm.loginUrl}/services/oauth2/authorize?${new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: callback })}`,
      { username: crm.username, password: crm.password },
    );
    expect(allowed.location?.origin).toBe(new URL(callback).origin);
    const code = allowed.location?.searchParams.get('code') ?? '';
    const token = await fetch(`${crm.loginUrl}/services/oauth2/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uri: callback,
      }),
    });
    expect(token.status).toBe(200);
    expect(await stop(running)).toBe(0);
  });

  it('takes settings from handoff.config.json, with flags winning over it', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'handoff.config.json'),
      JSON.stringify({ dataDir: 'state', ports: { crm: 1 }, crm: { dailyApiLimit: 1234 } }),
    );
    const running = await start(['crm', '--crm-port', '0'], {}, dir);
    const conn = await login(join(dir, 'state'));
    const limits = (await conn.limits()) as unknown as { DailyApiRequests: { Max: number } };
    expect(limits.DailyApiRequests.Max).toBe(1234);
    await stop(running);
  });

  it('refuses an invalid configuration with a message naming the setting', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'handoff.config.json'),
      JSON.stringify({ ports: { crm: 'eighty' }, crm: { dailyApiLimit: -1 } }),
    );
    const { code, output } = await run(['crm'], dir);
    expect(code).toBe(1);
    expect(output).toContain('configuration error');
    expect(output).toContain('ports.crm');
    expect(output).toContain('crm.dailyApiLimit');
    const clean = tempDir();
    const badFlag = await run(['crm', '--crm-port', 'abc', '--data-dir', join(clean, 'x')], clean);
    expect(badFlag.code).toBe(1);
    expect(badFlag.output).toContain('--crm-port: expected a port number');
  });
});
