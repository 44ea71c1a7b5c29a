#!/usr/bin/env node
// `npm run fuzz -- --runs N --seed S`: the fuzz suite, longer than CI runs it (CI: 120 runs a
// surface, seed 20261206). Prints each surface's inputs and statuses; a failure prints the
// counterexample and the seed to replay it.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '2000' }, seed: { type: 'string' } },
});
const seed = values.seed ?? String(Date.now() % 2 ** 31);
console.log(`fuzz: ${values.runs} runs a surface, seed ${seed}`);
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
