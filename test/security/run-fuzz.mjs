#!/usr/bin/env node
// `npm run fuzz -- --runs N --seed S [--dialect postgres]`: the fuzz suite, longer than CI runs
// it (CI: 300 inputs a surface, seed 20261206, SQLite; PostgreSQL needs HANDOFF_TEST_PG_URL). Prints each surface's inputs and statuses; a failure prints the
// counterexample and the seed to replay it.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '2000' },
    seed: { type: 'string' },
    dialect: { type: 'string', default: 'sqlite' },
  },
});
const seed = values.seed ?? String(Date.now() % 2 ** 31);
console.log(`fuzz: ${values.runs} inputs a surface, seed ${seed}, ${values.dialect}`);
const result = spawnSync('npx', ['vitest', 'run', 'test/security/fuzz.test.ts'], {
  stdio: 'inherit',
  env: {
    ...process.env,
    FUZZ_RUNS: values.runs,
    FUZZ_SEED: seed,
    HANDOFF_LOG_LEVEL: process.env.HANDOFF_LOG_LEVEL ?? 'fatal',
  },
});
process.exit(result.status ?? 1);
