import { z } from 'zod';
import { httpRequest } from '../http-transport.js';

/** A visitor as the tracker names it: its id and the signature that proves it. */
export interface TrackedVisitor {
  id: number;
  sign: string;
}

export interface TrackerHit {
  /** The tracking account id (piAId) of the business unit. */
  accountId: string;
  url: string;
  title?: string | null;
  campaignId?: number | null;
  /** The visitor this hit is from; none, and the tracker makes one. */
  visitor?: TrackedVisitor;
  /** Ties the visitor to the prospect with this email instead of counting a page view. */
  email?: string;
}

/** Why the tracker refused a hit: `status` 4xx for good, 5xx (or 0, no answer) for now. */
export class TrackerError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'TrackerError';
  }

  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

const answerSchema = z.union([
  z.object({ tracked: z.literal(true), visitorId: z.number().int(), sign: z.string().min(1) }),
  z.object({ tracked: z.literal(false) }),
]);

/**
 * The tracker's `GET /analytics` (what pd.js calls for each page), called from a server: for
 * page views a server or an SDK reports instead of the tracking script, so they become the
 * visitor's page views and visits, and the prospect's once the visitor is tied to it. The
 * visitor travels as `visitor_id` and its signature, as pd.js sends them beside its cookies.
 */
export class TrackerClient {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 30_000,
  ) {}

  /** Records the hit; `undefined` when the unit may not track this visitor (consent). */
  async hit(hit: TrackerHit): Promise<TrackedVisitor | undefined> {
    const url = new URL('/analytics', this.baseUrl);
    const query = url.searchParams;
    query.set('account_id', hit.accountId);
    query.set('url', hit.url);
    if (hit.title) query.set('title', hit.title);
    if (hit.campaignId) query.set('campaign_id', String(hit.campaignId));
    if (hit.visitor) {
      query.set('visitor_id', String(hit.visitor.id));
      query.set('visitor_id_sign', hit.visitor.sign);
    }
    if (hit.email !== undefined) query.set('pi_email', hit.email);
    let answer;
    try {
      answer = await httpRequest(url, {
        method: 'GET',
        headers: { accept: 'application/json' },
        timeoutMs: this.timeoutMs,
      });
    } catch (error) {
      throw new TrackerError(`tracker unreachable: ${(error as Error).message}`, 0);
    }
    if (answer.status !== 200) {
      throw new TrackerError(
        `tracker answered ${answer.status}: ${answer.text.slice(0, 200)}`,
        answer.status,
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(answer.text);
    } catch {
      throw new TrackerError('tracker answered something other than JSON', 502);
    }
    const parsed = answerSchema.safeParse(body);
    if (!parsed.success) throw new TrackerError('tracker answered an unexpected shape', 502);
    return parsed.data.tracked ? { id: parsed.data.visitorId, sign: parsed.data.sign } : undefined;
  }
}
