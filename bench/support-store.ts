// Writing records straight through the CRM's store, for benches that measure reading them:
// loading is not what they measure, and the API would take longer than the bench itself.
import { join } from 'node:path';
import { openCrm, type CrmServices } from '../src/crm/crm-services.js';
import type { ObjectDef, RecordValues } from '../src/crm/domain/schema/field-def.js';
import { openDatabase } from '../src/store/database.js';
import { jsonClient, startServer } from './support.js';

/**
 * Starts `handoff crm` once, so the org and its credentials exist, and stops it: the data dir
 * and the admin's user id, the owner of what is written next.
 */
export async function newOrg(): Promise<{ dataDir: string; ownerId: string }> {
  const first = await startServer();
  const answer = await jsonClient(first, 1)(
    'GET',
    '/services/data/v60.0/query?q=' + encodeURIComponent('SELECT Id FROM User LIMIT 1'),
  );
  await first.stop();
  const ownerId = (JSON.parse(answer.body) as { records: Array<{ Id: string }> }).records[0]!.Id;
  return { dataDir: first.dataDir, ownerId };
}

/** The data dir's CRM opened in this process (the server stopped), closed after `work`. */
export async function withStoreCrm<T>(dataDir: string, work: (crm: CrmServices) => Promise<T>): Promise<T> {
  const database = openDatabase({ kind: 'sqlite', filename: join(dataDir, 'handoff.db') });
  const crm = await openCrm({ database });
  try {
    return await work(crm);
  } finally {
    await crm.close();
    await database.close();
  }
}

/** A new record's system fields, as a create sets them, owned and made by `ownerId` at `at`. */
export function systemValues(crm: CrmServices, def: ObjectDef, ownerId: string, at: string): RecordValues {
  return {
    Id: crm.records.allocateId(def.keyPrefix),
    IsDeleted: false,
    CreatedDate: at,
    CreatedById: ownerId,
    LastModifiedDate: at,
    LastModifiedById: ownerId,
    SystemModstamp: at,
    OwnerId: ownerId,
  };
}
