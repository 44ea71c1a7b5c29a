/** Runs the `handoff` command from source in child processes, as a user would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import jsforce from 'jsforce';

export interface Running {
  child: ChildProcess;
  output: () => string;
}

// The CLI runs from source through tsx's loader, by absolute URL so any working directory works.
export const TSX_LOADER = pathToFileURL(join(process.cwd(), 'node_modules/tsx/dist/loader.mjs')).href;
export const CLI = join(process.cwd(), 'src/cli/main.ts');

/** Every server on a free port, so tests run side by side. */
export const FREE_PORTS = [
  '--crm-port',
  '0',
  '--marketing-port',
  '0',
  '--ingest-port',
  '0',
  '--console-port',
  '0',
];

const dirs: string[] = [];
const children: ChildProcess[] = [];

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'handoff-cli-'));
  dirs.push(dir);
  return dir;
}

/** Runs `handoff <args>` from source and resolves once it prints `ready` (or rejects when it exits). */
export function start(
  args: string[],
  env: Record<string, string> = {},
  cwd = process.cwd(),
): Promise<Running> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, CLI, ...args], {
    cwd,
    env: { ...process.env, ...env },
  });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/^ready$/m.test(output)) resolve({ child, output: () => output });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
  });
}

export function run(
  args: string[],
  cwd = process.cwd(),
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, CLI, ...args], {
    cwd,
    env: { ...process.env, ...env },
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

/** SIGTERM, as a service manager would send; resolves with the exit code. */
export async function stop(running: Running): Promise<number | null> {
  running.child.removeAllListeners('exit');
  const done = new Promise<number | null>((resolve) => running.child.once('exit', (code) => resolve(code)));
  running.child.kill('SIGTERM');
  return done;
}

export function readCredentials(dataDir: string) {
  return JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as {
    crm: {
      loginUrl: string;
      instanceUrl: string;
      clientId: string;
      clientSecret: string;
      username: string;
      password: string;
    };
    marketing?: { baseUrl: string; businessUnitId: string };
    ingest?: { url: string; writeKey: string };
  };
}

/** A v5 call to the marketing engine of a data dir, with a CRM token and its business unit. */
export async function marketingQuery(
  dataDir: string,
  token: string,
  request: { method?: string; path?: string; body?: unknown } = {},
): Promise<{ status: number; body: { values: Array<Record<string, unknown>>; id?: unknown } }> {
  const { marketing } = readCredentials(dataDir);
  const response = await fetch(
    `${marketing?.baseUrl}${request.path ?? '/api/v5/objects/prospects?fields=id,email'}`,
    {
      method: request.method ?? 'GET',
      headers: {
        authorization: `Bearer ${token}`,
        'pardot-business-unit-id': marketing?.businessUnitId ?? '',
        ...(request.body ? { 'content-type': 'application/json' } : {}),
      },
      body: request.body ? JSON.stringify(request.body) : undefined,
    },
  );
  return { status: response.status, body: (await response.json()) as never };
}

export async function login(dataDir: string): Promise<jsforce.Connection> {
  const { crm } = readCredentials(dataDir);
  const conn = new jsforce.Connection({
    oauth2: { loginUrl: crm.loginUrl, clientId: crm.clientId, clientSecret: crm.clientSecret },
    version: '60.0',
  });
  await conn.login(crm.username, crm.password);
  return conn;
}

/** Kills what a test left running and removes its directories (call from afterEach). */
export function cleanUp(): void {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
