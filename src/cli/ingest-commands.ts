import type { Command } from 'commander';
import { SourceError, SourceService } from '../ingest/source-service.js';
import type { DestinationSettings } from '../ingest/domain/source.js';
import { ingestMigrations } from '../ingest/store/migrations.js';
import * as ingestStore from '../ingest/store/ingest-store.js';
import type { Database } from '../store/database.js';
import { migrateArea } from '../store/migrations.js';
import { ConfigError, resolveConfig, type CliFlags } from './config.js';
import { openDataStore } from './data-store.js';

/** The ingest's tables in the data dir's store, for the commands that manage them offline. */
async function withIngestStore<T>(flags: CliFlags, work: (database: Database) => Promise<T>): Promise<T> {
  const config = resolveConfig(flags);
  const database = openDataStore(config);
  try {
    await migrateArea(database, 'ingest', ingestMigrations);
    return await work(database);
  } catch (error) {
    if (error instanceof SourceError) throw new ConfigError(error.message);
    throw error;
  } finally {
    await database.close();
  }
}

interface SourceFlags extends CliFlags {
  apiVersion?: string;
  lookupField?: string;
  useUserId?: boolean;
  businessUnit?: string;
  campaignId?: string;
  accountId?: string;
  trackerHost?: string;
  audience?: string[];
  allowedOrigin?: string[];
}

function settingsFrom(flags: SourceFlags): Partial<DestinationSettings> {
  const settings: Partial<DestinationSettings> = {};
  if (flags.apiVersion !== undefined) {
    if (flags.apiVersion !== '3' && flags.apiVersion !== '4')
      throw new ConfigError('--api-version must be 3 or 4');
    settings.apiVersion = Number(flags.apiVersion) as 3 | 4;
  }
  if (flags.lookupField !== undefined) settings.lookupField = flags.lookupField;
  if (flags.useUserId !== undefined) settings.useUserIdAsLookup = flags.useUserId;
  if (flags.businessUnit !== undefined) settings.businessUnitId = flags.businessUnit;
  if (flags.campaignId !== undefined) settings.campaignId = Number(flags.campaignId);
  if (flags.accountId !== undefined) settings.accountId = flags.accountId;
  if (flags.trackerHost !== undefined) settings.trackerHost = flags.trackerHost;
  if (flags.allowedOrigin?.length) settings.allowedOrigins = flags.allowedOrigin;
  if (flags.audience?.length) {
    settings.audiences = {};
    for (const pair of flags.audience) {
      const [name, listId] = pair.split('=');
      if (!name || !listId || !/^\d+$/.test(listId))
        throw new ConfigError(`--audience ${pair}: expected name=listId`);
      settings.audiences[name] = Number(listId);
    }
  }
  return settings;
}

/**
 * The subcommands' options merged with `handoff ingest`'s own (`--data-dir`, `--config`,
 * `--database-url` are the parent's, wherever they are written on the line).
 */
function optionsOf<T>(command: Command): T {
  return command.optsWithGlobals<T & Record<string, unknown>>();
}

function withSettingsOptions(command: Command): Command {
  return command
    .option('--api-version <3|4>', 'Account Engagement API semantics: 3 email is unique, 4 several per email')
    .option('--lookup-field <field>', 'v4: the custom field that identifies a person (not id or fid)')
    .option('--use-user-id', 'v4: use the userId as the lookup value')
    .option('--business-unit <id>', 'the business unit (0Uv…) prospects go to')
    .option('--campaign-id <id>', 'the campaign new prospects are created in')
    .option(
      '--account-id <piAId>',
      'the tracking account id: page views become visits; analytics.js loads pd.js',
    )
    .option(
      '--tracker-host <host[:port]>',
      'where browsers reach the tracker (default: the marketing engine)',
    )
    .option('--audience <name=listId...>', 'an audience trait that maps to a list')
    .option('--allowed-origin <origin...>', 'browser pages that may send (default: any origin)');
}

/** `handoff ingest sources …` and `handoff ingest failures`. */
export function addIngestCommands(ingest: Command): void {
  const sources = ingest.command('sources').description('the Tracking API sources and their write keys');
  const service = (database: Database) => new SourceService(database, () => new Date());

  sources
    .command('list')
    .description('list sources')
    .action((_flags: CliFlags, command: Command) =>
      withIngestStore(optionsOf<CliFlags>(command), async (database) => {
        const list = await service(database).list();
        if (list.length === 0) console.log('no sources');
        for (const s of list) {
          const { apiVersion, businessUnitId, lookupField, useUserIdAsLookup } = s.settings;
          console.log(
            `${s.id}  ${s.name}  v${apiVersion}  unit ${businessUnitId ?? '(default)'}` +
              (lookupField ? `  lookup ${lookupField}${useUserIdAsLookup ? ' = userId' : ''}` : ''),
          );
        }
      }),
    );

  withSettingsOptions(
    sources.command('create <name>').description('create a source and show its write key once'),
  ).action((name: string, _flags: SourceFlags, command: Command) => {
    const flags = optionsOf<SourceFlags>(command);
    return withIngestStore(flags, async (database) => {
      const { source, writeKey } = await service(database).create(name, settingsFrom(flags));
      console.log(`source     ${source.id}  ${source.name}`);
      console.log(`write key  ${writeKey}  (shown once: it is stored hashed)`);
    });
  });

  withSettingsOptions(
    sources.command('configure <source>').description('change a source’s destination settings'),
  ).action((idOrName: string, _flags: SourceFlags, command: Command) => {
    const flags = optionsOf<SourceFlags>(command);
    return withIngestStore(flags, async (database) => {
      const source = await service(database).configure(idOrName, settingsFrom(flags));
      console.log(JSON.stringify(source.settings, null, 2));
    });
  });

  sources
    .command('rotate <source>')
    .description('replace a source’s write key')
    .action((idOrName: string, _flags: CliFlags, command: Command) =>
      withIngestStore(optionsOf<CliFlags>(command), async (database) => {
        const writeKey = await service(database).rotate(idOrName);
        console.log(`write key  ${writeKey}  (the old key stops working within seconds)`);
      }),
    );

  sources
    .command('remove <source>')
    .description('delete a source')
    .action((idOrName: string, _flags: CliFlags, command: Command) =>
      withIngestStore(optionsOf<CliFlags>(command), async (database) => {
        await service(database).remove(idOrName);
        console.log(`removed ${idOrName}`);
      }),
    );

  ingest
    .command('failures')
    .description('deliveries that failed for good, with the reason; --retry sends them again')
    .option('--retry', 'put every failed delivery back in line')
    .option('--limit <n>', 'how many to show', '50')
    .action((_flags: CliFlags, command: Command) => {
      const flags = optionsOf<CliFlags & { retry?: boolean; limit: string }>(command);
      return withIngestStore(flags, async (database) => {
        const failed = await ingestStore.selectByStatus(database.db, 'failed', {
          limit: Number(flags.limit) || 50,
        });
        for (const e of failed) {
          console.log(`#${e.seq}  ${e.message.type}  ${e.message.messageId}  ${e.lastError ?? ''}`);
        }
        if (failed.length === 0) console.log('no failed deliveries');
        if (flags.retry) {
          const n = await ingestStore.retryFailed(database.db, 'all', new Date().toISOString());
          console.log(`${n} put back in line; a running ingest delivers them`);
        }
      });
    });
}
