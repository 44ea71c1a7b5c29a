import type { ProspectValue } from './domain/prospect-fields.js';
import type { CollectionService, CollectionRecord } from './collections/collection-service.js';
import { ACTIVITY_TYPES, EXTERNAL_ACTIVITIES, VISITOR_ACTIVITIES } from './collections/collection-defs.js';
import type { BusinessUnit } from './domain/business-unit.js';
import { MarketingError } from './domain/marketing-error.js';
import type { ProspectService } from './prospect-service.js';
import type { UnitOfWork } from '../store/unit-of-work.js';

/**
 * Account Engagement's default scoring: points an activity adds to its prospect's score, by
 * visitor activity type. Email clicks and file downloads are both Click (1).
 */
export const DEFAULT_SCORING: Record<number, number> = {
  1: 3, // Click: an email link or a file download
  2: 1, // View: a page view
  3: -5, // Error: a form submission with errors
  4: 50, // Success: a form or form handler submission
  24: 20, // Attended Webinar
  25: 5, // Registered for Webinar
};

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
      /** Points an activity type adds to its prospect's score (over DEFAULT_SCORING). */
      scoring?: Record<number, number>;
    },
  ) {
    this.scoring = { ...DEFAULT_SCORING, ...deps.scoring };
  }

  private readonly scoring: Record<number, number>;

  /** The points an activity of this type adds to its prospect's score. */
  pointsFor(type: number): number {
    return this.scoring[type] ?? 0;
  }

  async record(unit: BusinessUnit, activity: NewActivity): Promise<CollectionRecord> {
    const typeName = ACTIVITY_TYPES[activity.type];
    if (!typeName) throw new MarketingError(62, `Invalid visitor activity type: ${activity.type}`);
    return this.deps.unitOfWork.run(async () => {
      const record = await this.deps.collections.createAsEngine(VISITOR_ACTIVITIES, unit.id, {
        ...activity,
        typeName,
      });
      if (activity.prospectId) {
        // The activity's points go on the prospect's score in the same transaction, so the
        // score's history shows each change beside the activity that made it.
        const points = this.pointsFor(activity.type);
        const values: Record<string, ProspectValue> = { lastActivityAt: record.values.createdAt ?? null };
        if (points !== 0) {
          const prospect = await this.deps.prospects.read(unit.id, activity.prospectId);
          values.score = Number(prospect.values.score ?? 0) + points;
        }
        await this.deps.prospects.update(unit, { type: 'system' }, activity.prospectId, values);
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
