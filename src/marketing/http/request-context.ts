import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BusinessUnit } from '../domain/business-unit.js';
import { MarketingError } from '../domain/marketing-error.js';
import type { Actor } from '../domain/prospect.js';
import type { MarketingServices } from '../marketing-services.js';

/** Who is calling, in which business unit, learned by the auth hook. */
export interface MarketingRequestContext {
  unit: BusinessUnit;
  crmUserId: string;
  /** The caller's Account Engagement user id in this unit. */
  userId: number;
  actor: Actor;
  /** Whether the request holds one of the unit's concurrent slots (released on response). */
  holdsSlot: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    marketing: MarketingRequestContext;
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const raw = request.headers[name];
  return Array.isArray(raw) ? raw[0] : raw;
}

/**
 * Every API call: a CRM-issued bearer token (184), the `Pardot-Business-Unit-Id` header (181),
 * a unit that exists, is active and is granted to the caller (201), a free concurrent slot (66)
 * and room in the unit's daily limit (122) — checked in that order.
 */
/**
 * Who history should say made a change. Account Engagement cannot tell a connector's writes
 * from any other API call; Handoff's connector, console and ingest say what they are with
 * `X-Handoff-Actor`, and real services ignore it. `sync` is more than a label — the sync may
 * write a prospect's CRM links — so it is taken only from the identity a connector runs as,
 * an administrator of the unit; anyone else claiming it is an ordinary API caller.
 */
const ACTOR_TYPES = new Set<Actor['type']>(['api', 'sync', 'user', 'form']);
async function actorType(
  request: FastifyRequest,
  mayActAsSync: () => Promise<boolean>,
): Promise<Actor['type']> {
  const claimed = header(request, 'x-handoff-actor')?.trim().toLowerCase() as Actor['type'] | undefined;
  if (!claimed || !ACTOR_TYPES.has(claimed)) return 'api';
  if (claimed === 'sync' && !(await mayActAsSync())) return 'api';
  return claimed;
}

export function authenticate(
  app: FastifyInstance,
  services: MarketingServices,
  /**
   * When the checks run. v3/v4 take `format=json` from the form body too, so their errors
   * (token, header, unit) can only be written in the asked format once the body is read.
   */
  stage: 'onRequest' | 'preValidation' = 'onRequest',
): void {
  app.decorateRequest('marketing', null as unknown as MarketingRequestContext);
  const release = (request: FastifyRequest) => {
    if (request.marketing?.holdsSlot) {
      request.marketing.holdsSlot = false;
      services.units.leave(request.marketing.unit.id);
    }
  };
  app.addHook(stage, async (request: FastifyRequest, reply: FastifyReply) => {
    const auth = header(request, 'authorization');
    const token = auth ? /^Bearer\s+(.+)$/i.exec(auth.trim())?.[1] : undefined;
    const session = token ? await services.tokens.verify(token) : null;
    if (!session) throw new MarketingError(184);
    const unitId = header(request, 'pardot-business-unit-id')?.trim();
    if (!unitId) throw new MarketingError(181);
    const unit = services.units.get(unitId);
    if (!unit || !unit.active) throw new MarketingError(201);
    const userId = await services.units.userId(unit.id, session.userId);
    if (userId === undefined) throw new MarketingError(201);
    if (!services.units.enter(unit.id)) throw new MarketingError(66);
    request.marketing = {
      unit,
      crmUserId: session.userId,
      userId,
      actor: {
        type: await actorType(request, () => services.units.isAdministrator(session.userId, unit.id)),
        id: session.userId,
      },
      holdsSlot: true,
    };
    // A connection that closes before the answer is sent (the client gave up, an answer lost)
    // skips onResponse: the slot must be given back all the same.
    reply.raw.once('close', () => release(request));
    if (!(await services.units.consume(unit))) throw new MarketingError(122);
  });
  app.addHook('onResponse', async (request) => release(request));
}
