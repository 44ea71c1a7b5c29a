import { credentialsPath } from './credentials.js';
import { resolveConfig, type CliFlags } from './config.js';
import { joiningWithoutCredentials, startServers, type ServerSet } from './servers.js';

/**
 * `handoff demo`, `crm`, `marketing`, `ingest`, `console`: starts the servers of the set, prints
 * where each answers and with which credentials, then `ready`; SIGINT or SIGTERM stops them.
 */
export async function runServers(flags: CliFlags, set: ServerSet): Promise<void> {
  const config = resolveConfig(flags);
  const servers = await startServers(config, {
    set,
    sampleData: set === 'demo',
    // `--no-sync` (or HANDOFF_SYNC=off): the demo without its connector, to measure the servers alone.
    sync: (flags as { sync?: boolean }).sync !== false && process.env.HANDOFF_SYNC !== 'off',
    log: (line) => console.log(line),
  });
  const { crm, marketing } = servers.credentials;
  if (servers.crmUrl && !servers.credentialsKnown) {
    console.log(`CRM (Salesforce REST API)  ${servers.crmUrl}`);
    console.log(`  serving the org already in this database; ${joiningWithoutCredentials(config.dataDir)}`);
  } else if (servers.crmUrl) {
    console.log(`CRM (Salesforce REST API)  ${servers.crmUrl}`);
    console.log(`  login URL      ${crm.loginUrl}`);
    console.log(`  client id      ${crm.clientId}`);
    console.log(`  client secret  ${crm.clientSecret}`);
    console.log(`  username       ${crm.username}`);
    console.log(`  password       ${crm.password}`);
  }
  if (servers.marketingUrl && marketing) {
    console.log(`Marketing (Account Engagement API)  ${servers.marketingUrl}`);
    console.log(`  business unit  ${marketing.businessUnitId}  (Pardot-Business-Unit-Id)`);
    console.log('  auth           Bearer token from the CRM login above');
    if (servers.landingPageUrl) console.log(`  landing page   ${servers.landingPageUrl}  (a form, tracked)`);
  }
  const { ingest } = servers.credentials;
  if (servers.ingestUrl && ingest) {
    console.log(`Ingest (Segment Tracking API)  ${servers.ingestUrl}`);
    console.log(`  write key      ${ingest.writeKey}  (Basic auth user name, empty password)`);
  }
  if (servers.connector && set === 'demo')
    console.log('Connector  syncing the CRM and the marketing engine every second');
  if (servers.consoleUrl) {
    console.log(`Console  ${servers.consoleUrl}`);
    console.log(`  log in as      ${crm.username} / ${crm.password}  (the CRM admin above)`);
  }
  if (servers.credentialsKnown) console.log(`credentials written to ${credentialsPath(config.dataDir)}`);
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
