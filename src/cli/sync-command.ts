import { join } from 'node:path';
import { openConnector } from '../connector/connector-services.js';
import { openDatabase } from '../store/database.js';
import { ConfigError, resolveConfig, type CliFlags } from './config.js';
import { readCredentials } from './credentials.js';
import { demoConnectorConfig } from './servers.js';

/** `handoff sync [--once]`: the connector between the CRM and the marketing engine of the data dir. */
export async function runSync(flags: CliFlags & { once?: boolean; interval: string }): Promise<void> {
  const config = resolveConfig(flags);
  const credentials = readCredentials(config.dataDir);
  if (!credentials)
    throw new ConfigError(`no credentials in ${config.dataDir}: start \`handoff demo\` first`);
  const interval = Number(flags.interval);
  if (!Number.isInteger(interval) || interval < 100)
    throw new ConfigError('--interval must be at least 100 (ms)');
  const database = config.databaseUrl
    ? openDatabase({ kind: 'postgres', url: config.databaseUrl })
    : openDatabase({ kind: 'sqlite', filename: join(config.dataDir, 'handoff.db') });
  try {
    const connector = await openConnector({ database, config: demoConnectorConfig(credentials) });
    for (const problem of connector.engine.problems) console.log(`mapping skipped: ${problem.message}`);
    if (flags.once) {
      const pass = await connector.runOnce();
      console.log(
        `CRM records ${pass.crmRecords}, prospects ${pass.prospects}, prospects created ${pass.created}, ` +
          `writes to the CRM ${pass.writesToCrm}, to marketing ${pass.writesToMarketing}, errors ${pass.errors.length}`,
      );
      for (const e of pass.errors) console.log(`  ${e.side} ${e.record}: ${e.message}`);
      await database.close();
      process.exitCode = pass.errors.length > 0 ? 1 : 0;
      return;
    }
    connector.start(interval);
    console.log('syncing; Ctrl-C stops');
    const stop = () => {
      void connector
        .stop()
        .then(() => database.close())
        .then(() => process.exit(0));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  } catch (error) {
    await database.close();
    throw error;
  }
}
