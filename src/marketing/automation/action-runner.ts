import type { UnitOfWork } from '../../store/unit-of-work.js';
import { LIST_MEMBERSHIPS, USERS } from '../collections/collection-defs.js';
import type { CollectionService } from '../collections/collection-service.js';
import type { Action } from '../domain/automation.js';
import type { BusinessUnit } from '../domain/business-unit.js';
import { MarketingError } from '../domain/marketing-error.js';
import { coerceProspectValue } from '../domain/prospect-fields.js';
import type { Actor } from '../domain/prospect.js';
import type { ProspectService } from '../prospect-service.js';
import type { WebhookService } from '../webhooks/webhook-service.js';
import { nextTurn } from './automation-store.js';

/** Why actions run: a rule, or a form's (or form handler's) completion actions. */
export interface ActionOrigin {
  ruleId?: number;
  formId?: number;
  formHandlerId?: number;
}

/**
 * Does automation actions to one prospect, inside the caller's transaction: a rule's run, or a
 * form submission's completion actions, commit with what caused them.
 */
export class ActionRunner {
  constructor(
    private readonly deps: {
      collections: CollectionService;
      prospects: ProspectService;
      webhooks: WebhookService;
      unitOfWork: UnitOfWork;
    },
  ) {}

  async run(unit: BusinessUnit, prospectId: number, actions: Action[], origin: ActionOrigin): Promise<void> {
    const actor: Actor = {
      type: 'system',
      id: origin.ruleId
        ? `rule:${origin.ruleId}`
        : origin.formId
          ? `form:${origin.formId}`
          : `form-handler:${origin.formHandlerId}`,
    };
    await this.deps.unitOfWork.run(async () => {
      for (const action of actions) await this.one(unit, prospectId, action, actor, origin);
    });
  }

  private async one(
    unit: BusinessUnit,
    prospectId: number,
    action: Action,
    actor: Actor,
    origin: ActionOrigin,
  ): Promise<void> {
    const { collections, prospects } = this.deps;
    switch (action.kind) {
      case 'addToList': {
        const [member] = await collections.memberships(unit.id, { listId: action.listId, prospectId });
        if (!member)
          await collections.create(LIST_MEMBERSHIPS, unit.id, { listId: action.listId, prospectId });
        return;
      }
      case 'removeFromList': {
        const [member] = await collections.memberships(unit.id, { listId: action.listId, prospectId });
        if (member) await collections.remove(LIST_MEMBERSHIPS, unit.id, member.id);
        return;
      }
      case 'adjustScore': {
        const prospect = await prospects.read(unit.id, prospectId);
        await prospects.update(unit, actor, prospectId, {
          score: Number(prospect.values.score ?? 0) + action.points,
        });
        return;
      }
      case 'assignUser':
        return this.assign(unit, prospectId, action.userId, actor);
      case 'assignRoundRobin': {
        const key = `round-robin:${unit.id}:${origin.ruleId ? `rule:${origin.ruleId}` : actor.id}`;
        const turn = await nextTurn(this.deps.unitOfWork.current(), key);
        return this.assign(unit, prospectId, action.userIds[turn % action.userIds.length]!, actor);
      }
      case 'notify':
        return this.deps.webhooks.notify(unit.id, action.url, { prospectId, ...origin });
      case 'setField': {
        const field = await prospects.resolveField(unit.id, action.field, 'v5');
        if (!field || field.readOnly) throw new MarketingError(62, `Invalid field: ${action.field}`);
        await prospects.update(unit, actor, prospectId, {
          [field.name]: coerceProspectValue(field, action.value, unit.timeZone),
        });
        return;
      }
      case 'addTag':
        await collections.addTag(unit.id, { collection: 'prospects', id: prospectId }, { name: action.tag });
        return;
    }
  }

  private async assign(unit: BusinessUnit, prospectId: number, userId: number, actor: Actor): Promise<void> {
    const user = await this.deps.collections.read(USERS, unit.id, userId);
    if (user.isDeleted) throw new MarketingError(62, `Invalid user ID: ${userId}`);
    await this.deps.prospects.update(unit, actor, prospectId, { assignedToId: userId });
  }
}
