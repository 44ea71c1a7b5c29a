import type { CrmServices } from './crm-services.js';
import { applyDerivedFields } from './domain/record-rules.js';
import type { RecordValues } from './domain/schema/field-def.js';
import { insertRecords, selectByFieldValues, selectByIds } from './store/record-store.js';

export interface OrgSeed {
  orgName: string;
  admin: { username: string; password: string; email: string; firstName: string; lastName: string };
  connectedApp: { clientId: string; clientSecret: string; name?: string; certificate?: string | null };
}

export interface OrgIdentity {
  orgId: string;
  adminUserId: string;
  /** True when this call created the org (first start). */
  created: boolean;
}

function systemRecord(id: string, createdBy: string, at: string, values: RecordValues): RecordValues {
  return {
    Id: id,
    IsDeleted: false,
    CreatedDate: at,
    CreatedById: createdBy,
    LastModifiedDate: at,
    LastModifiedById: createdBy,
    SystemModstamp: at,
    ...values,
  };
}

/**
 * Creates the org on first start: the Organization record, the admin user with a password, and
 * the connected app the demo's clients log in through (client credentials run as the admin).
 * Later starts find the org and change nothing.
 */
export async function ensureOrg(services: CrmServices, seed: OrgSeed): Promise<OrgIdentity> {
  const userDef = services.records.objectDef('User');
  const orgDef = services.records.objectDef('Organization');
  const usernameField = services.schema.field(userDef, 'Username');
  if (!usernameField) throw new Error('User.Username is missing from the schema');
  const existingOrg = services.orgId();
  if (existingOrg) {
    const [admin] = await selectByFieldValues(
      services.database.db,
      services.database.dialect,
      userDef,
      usernameField,
      [seed.admin.username],
    );
    services.setOrg({ orgId: existingOrg, adminUserId: admin?.id ?? '' });
    return { orgId: existingOrg, adminUserId: admin?.id ?? '', created: false };
  }
  const at = services.now().toISOString();
  const orgId = services.records.allocateId(orgDef.keyPrefix);
  const adminId = await services.unitOfWork.run(async (db) => {
    const id = services.records.allocateId(userDef.keyPrefix);
    const admin = systemRecord(id, id, at, {
      Username: seed.admin.username,
      FirstName: seed.admin.firstName,
      LastName: seed.admin.lastName,
      Email: seed.admin.email,
      Alias: seed.admin.firstName.slice(0, 1).toLowerCase() + seed.admin.lastName.slice(0, 4).toLowerCase(),
      IsActive: true,
      Title: 'Administrator',
      TimeZoneSidKey: 'GMT',
    });
    applyDerivedFields(userDef, admin);
    await insertRecords(db, userDef, [admin]);
    await insertRecords(db, orgDef, [
      systemRecord(orgId, id, at, {
        Name: seed.orgName,
        OrganizationType: 'Enterprise Edition',
        IsSandbox: false,
        InstanceName: 'HX1',
        TimeZoneSidKey: 'GMT',
        LanguageLocaleKey: 'en_US',
        DefaultLocaleSidKey: 'en_US',
      }),
    ]);
    return id;
  });
  services.setOrg({ orgId, adminUserId: adminId });
  await services.oauth.setPassword(adminId, seed.admin.password);
  await services.oauth.registerConnectedApp({
    clientId: seed.connectedApp.clientId,
    clientSecret: seed.connectedApp.clientSecret,
    name: seed.connectedApp.name ?? 'Handoff',
    runAsUserId: adminId,
    certificate: seed.connectedApp.certificate ?? null,
  });
  return { orgId, adminUserId: adminId, created: true };
}

/** The org's admin: the user who created the Organization record (the first start's admin). */
export async function findOrgAdmin(
  services: CrmServices,
): Promise<{ orgId: string; userId: string; username: string } | null> {
  const orgId = services.orgId();
  if (!orgId) return null;
  const [org] = await selectByIds(services.database.db, services.records.objectDef('Organization'), [orgId]);
  const userId = typeof org?.CreatedById === 'string' ? org.CreatedById : null;
  if (!userId) return null;
  const [user] = await selectByIds(services.database.db, services.records.objectDef('User'), [userId]);
  return typeof user?.Username === 'string' ? { orgId, userId, username: user.Username } : null;
}
