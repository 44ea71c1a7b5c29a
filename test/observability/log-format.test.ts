import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TSX_LOADER } from '../support/cli.js';

const hasScript = spawnSync('script', ['--version']).status === 0;
if (!hasScript) console.warn('terminal log test skipped: `script` (util-linux) is not installed');

const dir = mkdtempSync(join(tmpdir(), 'handoff-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const probe = join(dir, 'probe.mjs');
writeFileSync(
  probe,
  `import { createLogger } from ${JSON.stringify(join(process.cwd(), 'src/log.ts'))};\n` +
    `createLogger('probe', 'info').info({ records: 3 }, 'a line for people');\n`,
);

describe('log lines', () => {
  it('are JSON, one object a line, when stdout is not a terminal', () => {
    const run = spawnSync(process.execPath, ['--import', TSX_LOADER, probe], {
      encoding: 'utf8',
      env: { ...process.env, HANDOFF_LOG_FORMAT: '' },
    });
    const line = JSON.parse(run.stdout.trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 30, name: 'probe', records: 3, msg: 'a line for people' });
  });

  it.skipIf(!hasScript)('are readable in a terminal (pino-pretty): level, name and message, no JSON', () => {
    // `script` gives the process a terminal, as a person running `npm start` has.
    const command = [process.execPath, '--import', TSX_LOADER, probe].map((a) => `'${a}'`).join(' ');
    const run = spawnSync('script', ['-qec', command, '/dev/null'], {
      encoding: 'utf8',
      env: { ...process.env, HANDOFF_LOG_FORMAT: '' },
    });
    // eslint-disable-next-line no-control-regex
    const plain = run.stdout.replace(/\u001b\[[0-9;]*m/g, '');
    expect(plain).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(probe\): a line for people/m);
    expect(plain).toMatch(/records: 3/);
    expect(plain).not.toContain('"msg"');
  });
});
