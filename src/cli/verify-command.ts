import { writeFileSync } from 'node:fs';
import { openConnector } from '../connector/connector-services.js';
import { DIFFERENCE_CLASSES } from '../connector/domain/pair-difference.js';
import { differencesCsv } from '../connector/verify/verify-report.js';
import { resolveConfig, type CliFlags } from './config.js';
import { openDataStore } from './data-store.js';
import { connectorConfigFor } from './server-config.js';

/**
 * `handoff sync verify [--repair] [--csv FILE]`: compares every linked pair on every mapped
 * field, prints the differences by class and by field, and writes them all to a CSV. Its own API
 * cost is printed before it runs and counted after. With `--repair`, drift, conflicts, orphans
 * and unlinked duplicates are settled through the sync's queue, worked off before it exits.
 * Exits 1 when differences other than those in flight are left.
 */
export async function runSyncVerify(flags: CliFlags & { repair?: boolean; csv?: string }): Promise<void> {
  const config = resolveConfig(flags);
  const database = openDataStore(config);
  try {
    const connector = await openConnector({ database, config: connectorConfigFor(config) });
    const estimate = await connector.verifyEstimate();
    console.log(`verify: about ${estimate.crm} CRM calls and ${estimate.marketing} marketing calls`);
    const started = Date.now();
    const result = await connector.verify({ repair: flags.repair });
    const seconds = (Date.now() - started) / 1000;
    const { differences, byClass } = result;
    console.log(
      `verified ${result.pairs} linked pairs in ${seconds.toFixed(1)} s: ${differences.length} difference${differences.length === 1 ? '' : 's'}`,
    );
    console.log(`  ${DIFFERENCE_CLASSES.map((c) => `${c} ${byClass[c]}`).join(', ')}`);
    const fields = Object.entries(result.byField).sort(([a], [b]) => a.localeCompare(b));
    if (fields.length > 0) {
      const width = Math.max(...fields.map(([name]) => name.length));
      for (const [name, counts] of fields)
        console.log(
          `  ${name.padEnd(width)}  ${Object.entries(counts)
            .map(([c, n]) => `${c} ${n}`)
            .join(', ')}`,
        );
    }
    console.log(`API calls: CRM ${result.calls.crm}, marketing ${result.calls.marketing}`);
    const csvPath = flags.csv ?? `handoff-verify-${result.startedAt.replace(/[:.]/g, '-')}.csv`;
    writeFileSync(csvPath, differencesCsv(differences), { mode: 0o600 });
    console.log(`differences written to ${csvPath}`);
    if (result.repair) {
      const { queued, unlinked, reported } = result.repair;
      // The repairs go through the queue: worked off now, as a running sync would.
      let pass = await connector.runOnce();
      for (let i = 0; i < 1_000 && (pass.waiting ?? 0) > 0 && pass.worked > 0; i++)
        pass = await connector.runOnce();
      console.log(
        `repair: ${queued} queued for the sync, ${unlinked} unlinked, ${reported} left as reported; still queued ${pass.waiting ?? 0}`,
      );
      for (const e of pass.errors) console.log(`  ${e.side} ${e.record}: ${e.message}`);
      process.exitCode = pass.errors.length > 0 || reported > 0 ? 1 : 0;
      return;
    }
    process.exitCode = differences.some((d) => d.class !== 'in flight') ? 1 : 0;
  } finally {
    await database.close();
  }
}
