import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import jsforce from 'jsforce';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  CLI,
  cleanUp,
  FREE_PORTS,
  readCredentials,
  run,
  start,
  stop,
  tempDir,
  TSX_LOADER,
} from '../support/cli.js';
import { createPgDatabase, HAS_POSTGRES } from '../support/databases.js';

afterEach(cleanUp);

/** `handoff <args>` with `input` on its standard input, as a pipe from a secrets store would give it. */
function runWithInput(args: string[], input: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, CLI, ...args]);
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  child.stdin.end(input);
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

/** The password grant, as any Salesforce client makes it; resolves to whether it logged in. */
async function logsIn(loginUrl: string, credentials: ReturnType<typeof readCredentials>['crm']) {
  const conn = new jsforce.Connection({
    oauth2: { loginUrl, clientId: credentials.clientId, clientSecret: credentials.clientSecret },
    version: '60.0',
  });
  return conn.login(credentials.username, credentials.password).then(
    () => true,
    () => false,
  );
}

describe.skipIf(!HAS_POSTGRES)(
  'a second process joining a deployment on PostgreSQL',
  { timeout: 120_000 },
  () => {
    let database: Awaited<ReturnType<typeof createPgDatabase>> | undefined;
    afterAll(() => database?.drop());

    it('never invents credentials, and `handoff credentials` issues working ones', async () => {
      database = await createPgDatabase('handoff_join');
      const { url } = database;

      const first = tempDir();
      const demo = await start([
        'demo',
        ...FREE_PORTS,
        '--no-sync',
        '--data-dir',
        first,
        '--database-url',
        url,
      ]);
      const original = readCredentials(first).crm;

      // A second CRM process on a new data dir serves the same org, and writes no credentials.
      const second = tempDir();
      const crm = await start(['crm', '--crm-port', '0', '--data-dir', second, '--database-url', url]);
      expect(crm.output()).toContain('serving the org already in this database');
      expect(crm.output()).toContain('handoff credentials');
      expect(crm.output()).not.toContain('client secret');
      expect(existsSync(join(second, 'credentials.json'))).toBe(false);
      const secondUrl = /CRM \(Salesforce REST API\) {2}(\S+)/.exec(crm.output())?.[1] ?? '';
      expect(await logsIn(secondUrl, original)).toBe(true);

      // Everything at once on that data dir needs a login: refused with the way out, nothing written.
      const refused = await run(['demo', ...FREE_PORTS, '--data-dir', second, '--database-url', url]);
      expect(refused.code).toBe(1);
      expect(refused.output).toContain('does not invent credentials');
      expect(existsSync(join(second, 'credentials.json'))).toBe(false);

      // A wrong admin password: refused, nothing written, in the org either.
      const connectedApps = async () => {
        const db = new pg.Client({ connectionString: url });
        await db.connect();
        try {
          return Number(
            (await db.query<{ n: string }>('select count(*) as n from crm_connected_app')).rows[0]?.n,
          );
        } finally {
          await db.end();
        }
      };
      const appsBefore = await connectedApps();
      const wrong = await runWithInput(
        ['credentials', '--data-dir', second, '--database-url', url, '--crm-url', secondUrl],
        'not the password\n',
      );
      expect(wrong.code).toBe(1);
      expect(wrong.output).toContain('not admin@handoff.local');
      expect(existsSync(join(second, 'credentials.json'))).toBe(false);
      expect(await connectedApps()).toBe(appsBefore);

      // The admin password on standard input: a new connected app, and credentials that log in.
      const issued = await runWithInput(
        ['credentials', '--data-dir', second, '--database-url', url, '--crm-url', secondUrl],
        `${original.password}\n`,
      );
      expect(issued.code, issued.output).toBe(0);
      const joined = readCredentials(second).crm;
      expect(joined.clientId).not.toBe(original.clientId);
      expect(issued.output).toContain(joined.clientSecret);
      expect(joined.loginUrl).toBe(secondUrl);
      expect(await logsIn(secondUrl, joined)).toBe(true);
      expect(await logsIn(secondUrl, original)).toBe(true); // the first process's still work

      // --reset-password: a new admin password; the old one stops working everywhere.
      const reset = await run([
        'credentials',
        '--reset-password',
        '--data-dir',
        second,
        '--database-url',
        url,
      ]);
      expect(reset.code, reset.output).toBe(0);
      const rotated = readCredentials(second).crm;
      expect(rotated.password).not.toBe(original.password);
      expect(reset.output).toContain(rotated.password);
      expect(await logsIn(secondUrl, rotated)).toBe(true);
      expect(await logsIn(secondUrl, { ...rotated, password: original.password })).toBe(false);

      expect(await stop(crm)).toBe(0);
      expect(await stop(demo)).toBe(0);
    });
  },
);
