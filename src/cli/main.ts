#!/usr/bin/env node
import { Command } from 'commander';
import { credentialsPath } from './credentials.js';
import { ConfigError, resolveConfig, type CliFlags } from './config.js';
import { startServers } from './servers.js';

function addServerOptions(command: Command): Command {
  return command
    .option('--host <host>', 'interface to bind (env HANDOFF_HOST)', undefined)
    .option('--data-dir <dir>', 'where data and credentials live (env HANDOFF_DATA_DIR)', undefined)
    .option('--config <file>', 'configuration file (default handoff.config.json)', undefined)
    .option('--database-url <url>', 'postgres://… to use PostgreSQL (env HANDOFF_DATABASE_URL)', undefined)
    .option('--crm-port <port>', 'CRM port, 0 for any free port (env HANDOFF_CRM_PORT)', undefined)
    .option('--marketing-port <port>', 'marketing engine port (env HANDOFF_MARKETING_PORT)', undefined)
    .option('--ingest-port <port>', 'ingest port (env HANDOFF_INGEST_PORT)', undefined)
    .option('--console-port <port>', 'console port (env HANDOFF_CONSOLE_PORT)', undefined);
}

async function run(flags: CliFlags, sampleData: boolean): Promise<void> {
  const config = resolveConfig(flags);
  const servers = await startServers(config, { sampleData, log: (line) => console.log(line) });
  const { crm } = servers.credentials;
  console.log(`CRM (Salesforce REST API)  ${servers.crmUrl}`);
  console.log(`  login URL      ${crm.loginUrl}`);
  console.log(`  client id      ${crm.clientId}`);
  console.log(`  client secret  ${crm.clientSecret}`);
  console.log(`  username       ${crm.username}`);
  console.log(`  password       ${crm.password}`);
  console.log(`credentials written to ${credentialsPath(config.dataDir)}`);
  console.log('ready');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping`);
    servers.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

const program = new Command()
  .name('handoff')
  .description('Handoff: a Salesforce-compatible CRM, a marketing engine, and the sync between them');

addServerOptions(
  program.command('demo').description('run every embedded server in one process, with sample data'),
).action((flags: CliFlags) => run(flags, true));
addServerOptions(program.command('crm').description('run the Salesforce-compatible CRM alone')).action(
  (flags: CliFlags) => run(flags, false),
);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`configuration error:\n${error.message}`);
  } else {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  }
  process.exit(1);
});
