import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../support/cli.js';

/** The systemd units docs/deploy.md describes, as shipped in deploy/systemd. */
const UNITS_DIR = 'deploy/systemd';
const units = readdirSync(UNITS_DIR).filter((f) => f.endsWith('.service'));
const analyze = spawnSync('systemd-analyze', ['--version']).status === 0;
if (!analyze) console.warn('systemd unit checks skipped: systemd-analyze is not installed');

/** `handoff …` as a unit's ExecStart runs it (the instance %i as 1). */
function commandLine(unit: string): string[] {
  const exec = /^ExecStart=(.+)$/m.exec(readFileSync(join(UNITS_DIR, unit), 'utf8'))?.[1] ?? '';
  const words = exec.replace(/%i/g, '1').split(/\s+/);
  return words.slice(words.findIndex((w) => w.endsWith('dist/cli/main.js')) + 1);
}

describe('the systemd units of docs/deploy.md', () => {
  it.skipIf(!analyze)('pass systemd-analyze verify (templates as instance 1)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'handoff-units-'));
    try {
      const files = units.map((unit) => {
        const target = join(dir, unit.replace('@.service', '@1.service'));
        copyFileSync(join(UNITS_DIR, unit), target);
        return target;
      });
      const verified = spawnSync('systemd-analyze', ['verify', ...files], { encoding: 'utf8' });
      expect(verified.stderr).toBe('');
      expect(verified.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('run handoff command lines the CLI takes', async () => {
    expect(units.length).toBeGreaterThanOrEqual(5);
    for (const unit of units) {
      const args = commandLine(unit);
      expect(args.length, unit).toBeGreaterThan(0);
      // --help after the unit's own arguments: the command must exist.
      const answer = await run([...args, '--help']);
      expect(answer.code, `${unit}: ${answer.output}`).toBe(0);
      expect(answer.output).toContain(`Usage: handoff ${args[0]}`);
      // Help wins over a bad option, so each of the unit's options is looked up in the help.
      for (const flag of args.filter((a) => a.startsWith('--')))
        expect(answer.output, `${unit}: ${flag}`).toMatch(new RegExp(`^\\s+${flag}\\b`, 'm'));
    }
    expect(existsSync(join(UNITS_DIR, 'handoff.env.example'))).toBe(true);
  });
});
