// npm run bench -- <name>: builds, then runs bench/<name>.ts, which prints its figures.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const name = process.argv[2];
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !f.startsWith('support'))
  .map((f) => f.replace(/\.ts$/, ''));
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name>   (one of: ${available.join(', ')})`);
  process.exit(2);
}
const root = join(here, '..');
const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const loader = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
const script = join(here, `${name}.ts`);
if (!existsSync(script)) process.exit(2);
const run = spawnSync(process.execPath, ['--import', loader, script, ...process.argv.slice(3)], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(run.status ?? 1);
