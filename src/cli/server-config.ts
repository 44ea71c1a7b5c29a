import { mergeMappings } from '../connector/connector-config.js';
import type { ConnectorConfig } from '../connector/connector-services.js';
import type { CrmConfigInput } from '../crm/crm-config.js';
import type { SalesforceLogin } from '../clients/salesforce-oauth.js';
import { resolveSecret, SecretError, secretKey } from '../store/sealed-secrets.js';
import { ConfigError, type ResolvedConfig } from './config.js';
import { readCredentials, type Credentials } from './credentials.js';

/*
 * The settings the servers and the connector start with, from the configuration and the data
 * dir's credentials, secrets unsealed.
 */

/** The connector's configuration from a data dir's credentials: the demo org and unit. */
export function demoConnectorConfig(
  credentials: Credentials,
  configured: ResolvedConfig['connector'] = undefined,
  /** The demo unit's daily API limit, as `marketing.unit.dailyApiLimit` sets it (else the engine's 100,000). */
  unitDailyLimit = 100_000,
): ConnectorConfig {
  const { crm, marketing } = credentials;
  if (!marketing)
    throw new ConfigError('no marketing credentials: start `handoff demo` (or `handoff marketing`) first');
  const login = { flow: 'password' as const, ...crm };
  return {
    crm: login,
    marketing: { baseUrl: marketing.baseUrl, businessUnitId: marketing.businessUnitId, login },
    // The demo's sample data predates its connector: linked on the first start.
    backfillOnFirstStart: true,
    ...connectorSettings(configured),
    // The embedded unit's limit is known: the connector's share is of that.
    marketingApi: { dailyLimit: unitDailyLimit, ...configured?.marketingApi },
  };
}

/** What `connector` in handoff.config.json sets besides the connections. */
function connectorSettings(
  configured: ResolvedConfig['connector'],
): Pick<
  ConnectorConfig,
  | 'mappings'
  | 'rules'
  | 'leaseMs'
  | 'crmApiShare'
  | 'activities'
  | 'changeEvents'
  | 'coalesceMs'
  | 'safetyPollMs'
  | 'idlePollBoundMs'
  | 'marketingApi'
  | 'verify'
> {
  return {
    mappings: mergeMappings(configured?.mappings),
    rules: configured?.rules,
    leaseMs: configured?.leaseSeconds === undefined ? undefined : configured.leaseSeconds * 1000,
    crmApiShare: configured?.crmApiShare,
    activities: configured?.activities,
    changeEvents: configured?.changeEvents,
    coalesceMs: configured?.coalesceMs,
    safetyPollMs: configured?.safetyPollMs,
    idlePollBoundMs: configured?.idlePollBoundMs,
    marketingApi: configured?.marketingApi,
    verify: configured?.verify,
  };
}

/**
 * The connector of `handoff sync`, `doctor` and `backfill`: between the orgs of
 * `connector.connections` (their secrets decrypted), or else the data dir's embedded ones.
 */
export function connectorConfigFor(config: ResolvedConfig): ConnectorConfig {
  const connections = config.connector?.connections;
  if (!connections) {
    const credentials = readCredentials(config.dataDir);
    if (!credentials)
      throw new ConfigError(
        `no credentials in ${config.dataDir} and no connector.connections: start \`handoff demo\` first, or configure the orgs`,
      );
    return demoConnectorConfig(credentials, config.connector, config.marketing?.unit?.dailyApiLimit);
  }
  const secret = (v: string) => configuredSecret(v, config.dataDir, 'connector.connections');
  const login = (l: SalesforceLogin): SalesforceLogin => {
    if (l.flow === 'password')
      return { ...l, clientSecret: secret(l.clientSecret), password: secret(l.password) };
    if (l.flow === 'client_credentials') return { ...l, clientSecret: secret(l.clientSecret) };
    return {
      ...l,
      refreshToken: secret(l.refreshToken),
      ...(l.clientSecret ? { clientSecret: secret(l.clientSecret) } : {}),
    };
  };
  const crm = login(connections.crm);
  const { marketing } = connections;
  return {
    crm,
    marketing: {
      baseUrl: marketing.baseUrl,
      businessUnitId: marketing.businessUnitId,
      login: marketing.login ? login(marketing.login) : crm,
    },
    ...connectorSettings(config.connector),
  };
}

/**
 * The CRM's settings from the configuration, as every command that opens the CRM must give them:
 * fault injection as turned on, and connected apps' secrets unsealed (openCrm registers the
 * apps, so a sealed value given as it is would become the app's secret).
 */
export function crmSettings(config: ResolvedConfig): CrmConfigInput {
  return {
    ...config.crm,
    faultInjection: config.faultsEnabled,
    connectedApps: config.crm?.connectedApps?.map((app) => ({
      ...app,
      clientSecret: configuredSecret(app.clientSecret, config.dataDir, 'crm.connectedApps'),
    })),
  };
}

/** A secret from the configuration: plain, or sealed (enc:v1:…) under the data dir's key. */
function configuredSecret(value: string, dataDir: string, setting: string): string {
  try {
    return resolveSecret(value, () => secretKey(dataDir));
  } catch (error) {
    if (error instanceof SecretError) throw new ConfigError(`${setting}: ${error.message}`);
    throw error;
  }
}
