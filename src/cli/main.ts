#!/usr/bin/env node
import { createRequire } from 'node:module';
import { Command, Option } from 'commander';
import type { CliFlags } from './config.js';
import { ConfigError } from './config-error.js';
import type { CredentialsFlags } from './credentials-command.js';
import { addIngestCommands } from './ingest-commands.js';
import type { ServerSet } from './servers.js';

// Each command loads its own modules when it runs: loading every server and client up front
// took a second and a half, so even `handoff --version` or a misspelt command waited for it.
const serve = (flags: CliFlags, set: ServerSet) =>
  import('./serve-command.js').then((m) => m.runServers(flags, set));
const syncCommands = () => import('./sync-command.js');

/**
 * A command that both runs (`handoff sync`) and has subcommands (`handoff sync status`) takes a
 * misspelt subcommand as an argument: say it is unknown, with commander's "did you mean".
 */
function refuseUnknownSubcommand(command: Command): void {
  if (command.args.length > 0) (command as unknown as { unknownCommand(): never }).unknownCommand();
}

/** Where a command finds its data: the data dir, the configuration file, the database. */
function addStoreOptions(command: Command): Command {
  return command
    .option('--data-dir <dir>', 'where data and credentials live (env HANDOFF_DATA_DIR)', undefined)
    .option('--config <file>', 'configuration file (default handoff.config.json)', undefined)
    .option('--database-url <url>', 'postgres://… to use PostgreSQL (env HANDOFF_DATABASE_URL)', undefined);
}

function addServerOptions(command: Command): Command {
  return addStoreOptions(command.option('--host <host>', 'interface to bind (env HANDOFF_HOST)', undefined))
    .option('--crm-port <port>', 'CRM port, 0 for any free port (env HANDOFF_CRM_PORT)', undefined)
    .option('--marketing-port <port>', 'marketing engine port (env HANDOFF_MARKETING_PORT)', undefined)
    .option('--ingest-port <port>', 'ingest port (env HANDOFF_INGEST_PORT)', undefined)
    .option('--console-port <port>', 'console port (env HANDOFF_CONSOLE_PORT)', undefined)
    .option(
      '--faults',
      'turn fault injection on: /_handoff/faults and configured faults (env HANDOFF_FAULTS=on)',
    );
}

const program = new Command()
  .name('handoff')
  .description('Handoff: a Salesforce-compatible CRM, a marketing engine, and the sync between them')
  .version(packageVersion(), '-V, --version', 'print the version')
  .addOption(
    new Option(
      '--log-level <level>',
      'how much to log (env HANDOFF_LOG_LEVEL; default warn for servers)',
    ).choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  )
  // Every logger reads HANDOFF_LOG_LEVEL when it is made: the flag sets it before any is.
  .hook('preAction', (command) => {
    const { logLevel } = command.opts<{ logLevel?: string }>();
    if (logLevel) process.env.HANDOFF_LOG_LEVEL = logLevel;
  });

addServerOptions(
  program.command('demo').description('run every embedded server in one process, with sample data'),
)
  .option('--no-sync', 'do not run the connector between the CRM and the marketing engine')
  .action((flags: CliFlags) => serve(flags, 'demo'));
addServerOptions(program.command('crm').description('run the Salesforce-compatible CRM alone')).action(
  (flags: CliFlags) => serve(flags, 'crm'),
);
addServerOptions(
  program
    .command('console')
    .description(
      'run the admin console alone for the data dir (or configured orgs): watch and steer a running sync',
    ),
).action((flags: CliFlags) => serve(flags, 'console'));
addServerOptions(
  program
    .command('marketing')
    .description(
      'run the Account Engagement-compatible marketing engine alone, trusting the CRM of the data dir',
    ),
).action((flags: CliFlags) => serve(flags, 'marketing'));

const syncCommand = addStoreOptions(program.command('sync'))
  .description(
    'sync the CRM and the marketing engine of the data dir: passes every second, or one with --once',
  )
  .option('--once', 'one full pass, then exit')
  .option('--interval <ms>', 'time between passes', '1000')
  .option(
    '--metrics-port <port>',
    'serve /metrics, /healthz and /readyz on this port (env HANDOFF_METRICS_PORT)',
  )
  .allowExcessArguments() // refused in the action, with a suggestion
  .action(
    (flags: CliFlags & { once?: boolean; interval: string; metricsPort?: string }, command: Command) => {
      refuseUnknownSubcommand(command);
      return syncCommands().then((m) => m.runSync(flags));
    },
  );
syncCommand
  .command('pause')
  .description('stop syncing (cursors stay put; nothing is missed on resume)')
  .action((_flags: unknown, command: Command) =>
    syncCommands().then((m) => m.runSyncPause(command.optsWithGlobals<CliFlags>(), true)),
  );
syncCommand
  .command('resume')
  .description('sync again, from where the pause left off')
  .action((_flags: unknown, command: Command) =>
    syncCommands().then((m) => m.runSyncPause(command.optsWithGlobals<CliFlags>(), false)),
  );
syncCommand
  .command('status')
  .description('cursors, linked pairs, queue depth by priority and open sync errors')
  .action((_flags: unknown, command: Command) =>
    syncCommands().then((m) => m.runSyncStatus(command.optsWithGlobals<CliFlags>())),
  );
syncCommand
  .command('log <record>')
  .description(
    'what the sync wrote for a record (CRM id or prospect id): field, side, value, why, which call',
  )
  .action((record: string, _flags: unknown, command: Command) =>
    syncCommands().then((m) => m.runSyncLog(command.optsWithGlobals<CliFlags>(), record)),
  );
syncCommand
  .command('backfill')
  .description('initial sync of every Lead and Contact already in the CRM, with progress; resumable')
  .option('--restart', 'forget an earlier backfill and go through everything again')
  .action((_flags: unknown, command: Command) =>
    syncCommands().then((m) =>
      m.runSyncBackfill(command.optsWithGlobals<CliFlags & { restart?: boolean }>()),
    ),
  );
syncCommand
  .command('verify')
  .description(
    'compare every linked pair on every mapped field, both sides read in bulk: differences by class and field, and a CSV',
  )
  .option('--repair', 'settle drift, conflicts, orphans and unlinked duplicates through the sync')
  .option('--csv <file>', 'where to write the differences (default handoff-verify-<time>.csv)')
  .action((_flags: unknown, command: Command) =>
    import('./verify-command.js').then((m) =>
      m.runSyncVerify(command.optsWithGlobals<CliFlags & { repair?: boolean; csv?: string }>()),
    ),
  );
syncCommand
  .command('preview')
  .description(
    'what the mappings and rules of the configuration (--config FILE) would write to the linked pairs, before they are saved',
  )
  .option('--save', 'then save them, as the console does: the sync writes what was shown')
  .action((_flags: unknown, command: Command) =>
    import('./verify-command.js').then((m) =>
      m.runSyncPreview(command.optsWithGlobals<CliFlags & { save?: boolean }>()),
    ),
  );
syncCommand
  .command('errors')
  .description(
    'writes a side refused for good: the person, the refused values, both records and a hint; --retry or --skip settles them',
  )
  .option('--retry [ids]', 'try these errors again on the next pass: ids (12 or 12,14) or all (the default)')
  .option('--skip <ids>', 'give up on these errors, leaving the records as they are: ids or all')
  .action((_flags: unknown, command: Command) =>
    syncCommands().then((m) =>
      m.runSyncErrors(command.optsWithGlobals<CliFlags & { retry?: string | true; skip?: string }>()),
    ),
  );

program
  .command('secret')
  .description('secrets for handoff.config.json')
  .command('encrypt [value]')
  .description('print a secret (argument or standard input) encrypted as enc:v1:…, under the data dir key')
  .option('--data-dir <dir>', 'where data and its secret.key live (env HANDOFF_DATA_DIR)', undefined)
  .action((value: string | undefined, flags: CliFlags) =>
    syncCommands().then((m) => m.runSecretEncrypt(flags, value)),
  );

addStoreOptions(program.command('credentials'))
  .description(
    'working CRM credentials for this data dir from the org already in its database (a second process or machine): a new connected app, the admin password checked (standard input) or reset',
  )
  .option(
    '--crm-url <url>',
    'where the CRM answers, for credentials.json (default: as already written there)',
  )
  .option('--reset-password', 'set a new admin password instead of checking the one on standard input')
  .action((flags: CredentialsFlags) =>
    import('./credentials-command.js').then((m) => m.runCredentials(flags)),
  );

addStoreOptions(
  program
    .command('connected-app')
    .description('connected apps of the CRM for the OAuth web-server flow')
    .command('add'),
)
  .description('a connected app with its callback URLs; prints its consumer key and secret once')
  .requiredOption('--name <name>', 'the app’s name, shown on the login page')
  .requiredOption('--callback-url <url...>', 'where the app may have its users sent back (exact URLs)')
  .action((flags: CliFlags & { name: string; callbackUrl: string[] }) =>
    import('./connected-app-command.js').then((m) => m.runConnectedAppAdd(flags)),
  );

program
  .command('doctor')
  .description(
    'check the connector: both logins, CRM rights, the marketing unit, mappings and the API budget',
  )
  .option('--data-dir <dir>', 'where data and credentials live (env HANDOFF_DATA_DIR)', undefined)
  .option('--config <file>', 'configuration file (default handoff.config.json)', undefined)
  .action((flags: CliFlags) => syncCommands().then((m) => m.runDoctorCommand(flags)));

const ingestCommand = program
  .command('ingest')
  .description(
    'run the Segment-compatible ingest alone (needs the marketing engine of the data dir), or manage it',
  );
addServerOptions(ingestCommand.allowExcessArguments()).action((flags: CliFlags, command: Command) => {
  refuseUnknownSubcommand(command);
  return serve(flags, 'ingest');
});
addIngestCommands(ingestCommand);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`configuration error:\n${error.message}`);
  } else {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  }
  process.exit(1);
});

/** The version of the installed package (package.json sits two levels up, from src/ and dist/). */
function packageVersion(): string {
  const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };
  return pkg.version;
}
