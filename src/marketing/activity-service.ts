import type { CollectionService, CollectionRecord } from './collections/collection-service.js';
import { ACTIVITY_TYPES, EXTERNAL_ACTIVITIES, VISITOR_ACTIVITIES } from './collections/collection-defs.js';
import type { BusinessUnit } from './domain/business-unit.js';
import { MarketingError } from './domain/marketing-error.js';
import type { ProspectService } from './prospect-service.js';
import type { UnitOfWork } from '../store/unit-of-work.js';

/** What happened, as the engine's tracking, forms and email record it. */
export interface NewActivity {
  type: number;
  prospectId?: number | null;
  visitorId?: number | null;
  visitId?: number | null;
  campaignId?: number | null;
  emailId?: number | null;
  listEmailId?: number | null;
  formId?: number | null;
  formHandlerId?: number | null;
  landingPageId?: number | null;
  fileId?: number | null;
  customRedirectId?: number | null;
  details?: string | null;
}

/**
 * Visitor activities: written by the engine (never through the API, as in Account
 * Engagement), each with its type name, and moving its prospect's `lastActivityAt`.
 */
export class ActivityService {
  constructor(
    private readonly deps: {
      collections: CollectionService;
      prospects: ProspectService;
      unitOfWork: UnitOfWork;
    },
  ) {}

  async record(unit: BusinessUnit, activity: NewActivity): Promise<CollectionRecord> {
    const typeName = ACTIVITY_TYPES[activity.type];
    if (!typeName) throw new MarketingError(62, `Invalid visitor activity type: ${activity.type}`);
    return this.deps.unitOfWork.run(async () => {
      const record = await this.deps.collections.createAsEngine(VISITOR_ACTIVITIES, unit.id, {
        ...activity,
        typeName,
      });
      if (activity.prospectId) {
        await this.deps.prospects.update(unit, { type: 'system' }, activity.prospectId, {
          lastActivityAt: record.values.createdAt ?? null,
        });
      }
      return record;
    });
  }

  /**
   * An external activity (`POST /api/v5/external-activities`): recorded on the live prospect
   * with that email — the most recently updated one where a unit allows several — and moving
   * its `lastActivityAt`. No prospect with the email: error 62, nothing recorded.
   */
  async recordExternal(
    unit: BusinessUnit,
    input: {
      extension: string;
      type: string;
      value: string | null;
      email: string;
      activityDate?: string | null;
    },
  ): Promise<CollectionRecord> {
    return this.deps.unitOfWork.run(async () => {
      const prospect = (await this.deps.prospects.latestByEmails(unit.id, [input.email])).get(
        input.email.toLowerCase(),
      );
      if (!prospect)
        throw new MarketingError(62, `Invalid value for field email: no prospect with email ${input.email}`);
      const record = await this.deps.collections.createAsEngine(EXTERNAL_ACTIVITIES, unit.id, {
        ...input,
        prospectId: prospect.id,
      });
      await this.deps.prospects.update(unit, { type: 'system' }, prospect.id, {
        lastActivityAt: input.activityDate ?? record.values.createdAt ?? null,
      });
      return record;
    });
  }
}
