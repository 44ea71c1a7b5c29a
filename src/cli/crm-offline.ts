import { openCrm, type CrmServices } from '../crm/crm-services.js';
import { resolveConfig, type CliFlags, type ResolvedConfig } from './config.js';
import { openDataStore } from './data-store.js';
import { crmSettings } from './server-config.js';

/**
 * The CRM's services on the data dir's store, for the commands that change the org without a
 * server (`handoff credentials`, `handoff connected-app add`); closed after `work`.
 */
export async function withCrmServices<T>(
  flags: CliFlags,
  work: (crm: CrmServices, config: ResolvedConfig) => Promise<T>,
): Promise<T> {
  const config = resolveConfig(flags);
  const database = openDataStore(config);
  try {
    const crm = await openCrm({ database, config: crmSettings(config) });
    try {
      return await work(crm, config);
    } finally {
      await crm.close();
    }
  } finally {
    await database.close();
  }
}
