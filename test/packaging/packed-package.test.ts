import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The package as users get it: `npm pack`, then installed with `npm install --omit=dev` into an
 * empty folder (no dev dependency of this repository there). From that install, `handoff demo`
 * and `handoff sync --once` run, and another project's vitest suite drives `handoff/testing`.
 */

function sh(
  command: string,
  args: string[],
  cwd: string,
  options: { until?: RegExp; env?: Record<string, string> } = {},
): Promise<{ code: number | null; output: string; stop?: () => Promise<number | null> }> {
  const child = spawn(command, args, { cwd, env: { ...process.env, ...options.env } });
  let output = '';
  return new Promise((resolve) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (options.until?.test(output))
        resolve({
          code: null,
          output,
          stop: () =>
            new Promise((done) => {
              child.once('exit', (code) => done(code));
              child.kill('SIGTERM');
            }),
        });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => resolve({ code, output }));
  });
}

/** Jest for the example project's second suite. */
const JEST = '30.5.2';

const work = mkdtempSync(join(tmpdir(), 'handoff-packed-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the packed package, installed without dev dependencies', { timeout: 600_000 }, () => {
  const app = join(work, 'app');

  it('installs from npm pack with --omit=dev', async () => {
    const packed = await sh('npm', ['pack', '--pack-destination', work], process.cwd());
    expect(packed.code, packed.output).toBe(0);
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    expect(tarball).toBeDefined();
    cpSync(join(process.cwd(), 'test/packaging/example-project'), app, { recursive: true });
    // The example project's own test runners, its dependencies, not Handoff's: vitest at this
    // repository's version (from the npm cache when it can be), and Jest.
    const vitest = (
      JSON.parse(readFileSync('node_modules/vitest/package.json', 'utf8')) as { version: string }
    ).version;
    const installed = await sh(
      'npm',
      [
        'install',
        '--omit=dev',
        '--no-audit',
        '--no-fund',
        join(work, tarball!),
        `vitest@${vitest}`,
        `jest@${JEST}`,
      ],
      app,
    );
    expect(installed.code, installed.output).toBe(0);
    expect(readdirSync(join(app, 'node_modules'))).not.toContain('typescript');
  });

  it('runs handoff demo, and handoff sync --once beside it', async () => {
    const dataDir = join(work, 'data');
    const ports = ['--crm-port', '0', '--marketing-port', '0', '--ingest-port', '0', '--console-port', '0'];
    // The installed bin itself (not npx, which would not pass SIGTERM on).
    const handoff = join(app, 'node_modules/.bin/handoff');
    const demo = await sh(handoff, ['demo', ...ports, '--data-dir', dataDir], app, { until: /^ready$/m });
    expect(demo.output).toMatch(/^ready$/m);
    try {
      const once = await sh(handoff, ['sync', '--once', '--data-dir', dataDir], app);
      expect(once.output).toMatch(/CRM records \d+, prospects \d+, queued \d+/);
      expect(once.code, once.output).toBe(0);
    } finally {
      expect(await demo.stop?.()).toBe(0);
    }
  });

  it('gives another project handoff/testing: its example vitest suite passes', async () => {
    const suite = await sh(
      join(app, 'node_modules/.bin/vitest'),
      ['run', '--reporter=verbose', 'signup.spec.ts'],
      app,
      {
        env: { NO_COLOR: '1', FORCE_COLOR: '0' },
      },
    );
    expect(suite.output).toContain('creates a Lead that the sync turns into a prospect');
    expect(suite.output).toMatch(/Tests\s+4 passed/);
    expect(suite.code, suite.output).toBe(0);
  });

  it('and Jest: its example suite (ES modules) passes too', async () => {
    const suite = await sh('npm', ['run', 'test:jest'], app, { env: { NO_COLOR: '1', FORCE_COLOR: '0' } });
    expect(suite.output).toMatch(/Tests:\s+1 passed, 1 total/);
    expect(suite.code, suite.output).toBe(0);
  });
});
