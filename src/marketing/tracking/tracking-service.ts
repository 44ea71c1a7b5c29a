import { createHmac } from 'node:crypto';
import { sameSecret } from '../../same-secret.js';
import { GroupCommit } from '../../store/group-commit.js';
import type { UnitOfWork } from '../../store/unit-of-work.js';
import type { ActivityService } from '../activity-service.js';
import { VISITOR_PAGE_VIEWS, VISITORS, VISITS } from '../collections/collection-defs.js';
import type { CollectionService } from '../collections/collection-service.js';
import type { BusinessUnit } from '../domain/business-unit.js';
import type { ProspectService } from '../prospect-service.js';
import * as store from './tracking-store.js';

/** A visit ends after this long without a page view (Account Engagement's 30 minutes). */
const VISIT_TIMEOUT_MS = 30 * 60_000;

export interface Hit {
  unit: BusinessUnit;
  /** The visitor the browser's cookie names (already verified), or null for a new one. */
  visitorId: number | null;
  campaignId: number | null;
  ipAddress: string | null;
}

export interface PageView extends Hit {
  url: string;
  title: string | null;
}

export interface Tracked {
  visitorId: number;
  prospectId: number | null;
}

type Work = { kind: 'view'; hit: PageView } | { kind: 'identify'; hit: Hit; email: string };

/**
 * Visitors and what they do on tracked pages: page views grouped into visits, and the moment a
 * visitor becomes a prospect (a form, `pi_email`, an identify call), when its anonymous
 * activities move to the prospect and score there. Hits are written with group commit: a
 * browser is answered only once its page view is durable.
 */
export class TrackingService {
  private readonly commits: GroupCommit<Work, Tracked>;

  constructor(
    private readonly deps: {
      collections: CollectionService;
      prospects: ProspectService;
      activities: ActivityService;
      unitOfWork: UnitOfWork;
      now: () => Date;
      /** Signs visitor ids, so a page cannot claim another visitor (and its prospect). */
      secret: Buffer;
    },
  ) {
    const apply = (work: Work) =>
      work.kind === 'view' ? this.view(work.hit) : this.identifyNow(work.hit, work.email);
    this.commits = new GroupCommit<Work, Tracked>(
      (group) =>
        deps.unitOfWork.run(async () => {
          const out: Tracked[] = [];
          for (const work of group) out.push(await apply(work));
          return out;
        }),
      { maxGroup: 500, alone: (work) => deps.unitOfWork.run(() => apply(work)) },
    );
  }

  /** Records a page view (type 2 View) in the visitor's current visit, making the visitor if new. */
  pageView(hit: PageView): Promise<Tracked> {
    return this.commits.submit({ kind: 'view', hit });
  }

  /** Ties the visitor to the prospect with this email (made if there is none); counts no page view. */
  identify(hit: Hit, email: string): Promise<Tracked> {
    return this.commits.submit({ kind: 'identify', hit, email });
  }

  sign(unit: BusinessUnit, visitorId: number): string {
    return createHmac('sha256', this.deps.secret)
      .update(`${unit.id}:${visitorId}`)
      .digest('base64url')
      .slice(0, 22);
  }

  /** The visitor id a cookie pair names, when its signature holds. */
  verified(unit: BusinessUnit, visitorId: string | undefined, signature: string | undefined): number | null {
    if (!visitorId || !signature || !/^\d{1,15}$/.test(visitorId)) return null;
    return sameSecret(signature, this.sign(unit, Number(visitorId))) ? Number(visitorId) : null;
  }

  /**
   * Gives the visitor to the prospect, inside the caller's transaction (a form submission): its
   * anonymous activities, visits and page views move over, and their points go on the score.
   */
  async linkVisitor(unit: BusinessUnit, visitorId: number, prospectId: number): Promise<void> {
    await this.deps.unitOfWork.run(async (db) => {
      const visitor = await store.selectVisitor(db, unit.id, visitorId);
      if (!visitor || visitor.prospectId === prospectId) return;
      const at = this.deps.now().toISOString();
      const moved = await store.moveVisitorToProspect(db, unit.id, visitorId, prospectId, at);
      if (moved.types.length === 0) return;
      const points = moved.types.reduce((sum, type) => sum + this.deps.activities.pointsFor(type), 0);
      const prospect = await this.deps.prospects.read(unit.id, prospectId);
      const last = prospect.values.lastActivityAt;
      await this.deps.prospects.update(unit, { type: 'system', id: 'tracking' }, prospectId, {
        score: Number(prospect.values.score ?? 0) + points,
        lastActivityAt:
          typeof last === 'string' && last > (moved.lastActivityAt ?? '') ? last : moved.lastActivityAt,
      });
    });
  }

  close(): Promise<void> {
    return this.commits.close();
  }

  private async visitor(
    hit: Hit,
  ): Promise<{ id: number; prospectId: number | null; latest?: store.LatestVisit }> {
    const db = this.deps.unitOfWork.current();
    if (hit.visitorId !== null) {
      const known = await store.selectVisitorWithVisit(db, hit.unit.id, hit.visitorId);
      if (known) return known;
    }
    const made = await this.deps.collections.createAsEngine(VISITORS, hit.unit.id, {
      pageViewCount: 0,
      ipAddress: hit.ipAddress,
      campaignId: hit.campaignId,
    });
    return { id: made.id, prospectId: null };
  }

  private async view(hit: PageView): Promise<Tracked> {
    const db = this.deps.unitOfWork.current();
    const { unit, campaignId } = hit;
    const visitor = await this.visitor(hit);
    const at = this.deps.now().toISOString();
    const { latest } = visitor;
    let visitId: number;
    if (latest && Date.parse(at) - Date.parse(latest.lastAt) < VISIT_TIMEOUT_MS) {
      await store.extendVisit(db, latest, at);
      visitId = latest.id;
    } else {
      const visit = await this.deps.collections.createAsEngine(VISITS, unit.id, {
        visitorId: visitor.id,
        prospectId: visitor.prospectId,
        visitorPageViewCount: 1,
        firstVisitorPageViewAt: at,
        lastVisitorPageViewAt: at,
        durationInSeconds: 0,
        campaignId,
      });
      visitId = visit.id;
    }
    await this.deps.collections.createAsEngine(VISITOR_PAGE_VIEWS, unit.id, {
      url: hit.url.slice(0, 2048),
      title: hit.title?.slice(0, 2048) ?? null,
      visitorId: visitor.id,
      visitId,
      prospectId: visitor.prospectId,
      campaignId,
    });
    await this.deps.activities.record(unit, {
      type: 2,
      prospectId: visitor.prospectId,
      visitorId: visitor.id,
      visitId,
      campaignId,
      details: (hit.title || hit.url).slice(0, 2048),
    });
    await store.countPageView(db, visitor.id, at);
    return { visitorId: visitor.id, prospectId: visitor.prospectId };
  }

  private async identifyNow(hit: Hit, email: string): Promise<Tracked> {
    const visitor = await this.visitor(hit);
    const { prospect } = await this.deps.prospects.upsertLatestByEmail(
      hit.unit,
      { type: 'system', id: 'tracking' },
      email,
      {},
      false,
    );
    await this.linkVisitor(hit.unit, visitor.id, prospect.id);
    return { visitorId: visitor.id, prospectId: prospect.id };
  }
}
