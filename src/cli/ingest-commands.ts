import type { Command } from 'commander';
import type { IngestAdmin } from '../ingest/ingest-admin.js';
import type { DestinationSettings } from '../ingest/domain/source.js';
import type { CliFlags } from './config.js';
import { ConfigError } from './config-error.js';

/** The ingest of the data dir's store, for the commands that manage it offline. */
async function withIngestAdmin<T>(flags: CliFlags, work: (admin: IngestAdmin) => Promise<T>): Promise<T> {
  // Loaded when a command runs (see main.ts): the store and the ingest are most of the CLI.
  const [{ SourceError }, { openIngestAdmin }, { resolveConfig }, { openDataStore }] = await Promise.all([
    import('../ingest/source-service.js'),
    import('../ingest/ingest-admin.js'),
    import('./config.js'),
    import('./data-store.js'),
  ]);
  const config = resolveConfig(flags);
  const database = openDataStore(config);
  try {
    return await work(await openIngestAdmin(database));
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

  sources
    .command('list')
    .description('list sources')
    .action((_flags: CliFlags, command: Command) =>
      withIngestAdmin(optionsOf<CliFlags>(command), async (admin) => {
        const list = await admin.sources.list();
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
    return withIngestAdmin(flags, async (admin) => {
      const { source, writeKey } = await admin.sources.create(name, settingsFrom(flags));
      console.log(`source     ${source.id}  ${source.name}`);
      console.log(`write key  ${writeKey}  (shown once: it is stored hashed)`);
    });
  });

  withSettingsOptions(
    sources.command('configure <source>').description('change a source’s destination settings'),
  ).action((idOrName: string, _flags: SourceFlags, command: Command) => {
    const flags = optionsOf<SourceFlags>(command);
    return withIngestAdmin(flags, async (admin) => {
      const source = await admin.sources.configure(idOrName, settingsFrom(flags));
      console.log(JSON.stringify(source.settings, null, 2));
    });
  });

  sources
    .command('rotate <source>')
    .description('replace a source’s write key')
    .action((idOrName: string, _flags: CliFlags, command: Command) =>
      withIngestAdmin(optionsOf<CliFlags>(command), async (admin) => {
        const writeKey = await admin.sources.rotate(idOrName);
        console.log(`write key  ${writeKey}  (the old key stops working within seconds)`);
      }),
    );

  sources
    .command('remove <source>')
    .description('delete a source')
    .action((idOrName: string, _flags: CliFlags, command: Command) =>
      withIngestAdmin(optionsOf<CliFlags>(command), async (admin) => {
        await admin.sources.remove(idOrName);
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
      return withIngestAdmin(flags, async (admin) => {
        const failed = await admin.failures(Number(flags.limit) || 50);
        for (const e of failed) {
          console.log(`#${e.seq}  ${e.message.type}  ${e.message.messageId}  ${e.lastError ?? ''}`);
        }
        if (failed.length === 0) console.log('no failed deliveries');
        if (flags.retry) {
          const n = await admin.retryFailed();
          console.log(`${n} put back in line; a running ingest delivers them`);
        }
      });
    });
}
