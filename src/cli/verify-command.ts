import { writeFileSync } from 'node:fs';
import { configuredSettings, openConnector } from '../connector/connector-services.js';
import { DIFFERENCE_CLASSES } from '../connector/domain/pair-difference.js';
import { differencesCsv } from '../connector/verify/verify-report.js';
import { resolveConfig, type CliFlags } from './config.js';
import { openDataStore } from './data-store.js';
import { connectorConfigFor } from './server-config.js';
import { workOffQueue } from './sync-command.js';

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
      const { last: pass } = await workOffQueue(connector);
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

/**
 * `handoff sync preview [--save]`: what the mappings and rules of the configuration (`--config
 * FILE`) would write to the pairs linked now — records and fields on each side, and samples
 * before and after — computed from both sides read in bulk, writing nothing. With `--save`
 * they are then saved as the console saves them, and the sync writes what was shown.
 */
export async function runSyncPreview(flags: CliFlags & { save?: boolean }): Promise<void> {
  const config = resolveConfig(flags);
  const connectorConfig = connectorConfigFor(config);
  const database = openDataStore(config);
  try {
    const connector = await openConnector({ database, config: connectorConfig });
    const settings = configuredSettings(connectorConfig);
    const preview = await connector.previewSettings(settings);
    if (preview.problems.length > 0) {
      for (const p of preview.problems) console.log(`✗ ${p.path}: ${p.message}`);
      console.log('nothing was computed or saved: these settings cannot work');
      process.exitCode = 1;
      return;
    }
    console.log(`preview of the configured mappings and rules over ${preview.pairs} linked pairs:`);
    for (const [side, tally] of [
      ['to the CRM', preview.toCrm],
      ['to marketing', preview.toMarketing],
    ] as const) {
      const fields = Object.entries(tally.fields)
        .map(([name, n]) => `${name} ${n}`)
        .join(', ');
      console.log(`  ${side.padEnd(13)} ${tally.records} records${fields ? ` (${fields})` : ''}`);
    }
    for (const s of preview.samples)
      console.log(
        `    ${s.crmObject} ${s.crmId} / prospect ${s.prospectId} ${s.toSide === 'crm' ? s.crmField : s.field}: ` +
          `${JSON.stringify(s.before)} → ${JSON.stringify(s.after)} (${s.reason})`,
      );
    console.log(`API calls: CRM ${preview.calls.crm}, marketing ${preview.calls.marketing}`);
    if (!flags.save) {
      console.log('nothing was written; --save saves these settings, and the sync then writes the above');
      return;
    }
    const problems = await connector.saveSettings(settings);
    for (const p of problems) console.log(`✗ ${p.path}: ${p.message}`);
    if (problems.length > 0) {
      process.exitCode = 1;
      return;
    }
    // The queued pairs worked off now, as a running sync would.
    const written = await workOffQueue(connector);
    console.log(
      `saved; the sync wrote ${written.writesToCrm} CRM and ${written.writesToMarketing} prospect updates`,
    );
  } finally {
    await database.close();
  }
}
