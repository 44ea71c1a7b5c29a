import type { UnitOfWork } from '../../store/unit-of-work.js';
import type { ActivityService } from '../activity-service.js';
import type { ActionRunner } from '../automation/action-runner.js';
import type { Action } from '../domain/automation.js';
import type { BusinessUnit } from '../domain/business-unit.js';
import { isMarketingError } from '../domain/marketing-error.js';
import { coerceProspectValue, isValidEmail, type ProspectValue } from '../domain/prospect-fields.js';
import type { ProspectService } from '../prospect-service.js';
import type { TrackingService } from '../tracking/tracking-service.js';
import type { WebhookService } from '../webhooks/webhook-service.js';

/** One input of a form or form handler, and the prospect field it fills. */
export interface InputRule {
  /** The input's name in the submission. */
  input: string;
  /** A v5 prospect field name (`email`, `firstName`, `Favorite_Color__c`). */
  target: string;
  required: boolean;
  /** text, email, textarea, dropdown, radio, checkbox, hidden. */
  type: string;
  /** The allowed values of a dropdown or radio input. */
  options: string[];
  /** Shown when the input is missing or wrong (a default otherwise). */
  errorMessage: string | null;
}

/** Where a submission came from: its activity and completion actions say so. */
export interface SubmissionSource {
  formId?: number;
  formHandlerId?: number;
  landingPageId?: number;
  campaignId: number | null;
  completionActions: Action[];
}

export type SubmissionOutcome =
  | { ok: true; prospectId: number; created: boolean }
  | { ok: false; errors: Record<string, string>; values: Record<string, string> };

const CHECKED = new Set(['on', 'true', '1', 'yes']);

/**
 * What every form and form handler submission does. A valid one finds the prospect by email as
 * the unit's rules say (the most recently updated one where a unit allows several) or makes
 * it, fills the mapped fields — an empty input never blanks a value — records a Success
 * activity, ties the visitor to the prospect (its anonymous activities move over), runs the
 * completion actions and queues the `form.success` webhook, all in one transaction committed
 * before the submitter hears of success. An invalid one changes nothing but an Error activity
 * on the prospect with that email, when there is one.
 */
export class SubmissionService {
  constructor(
    private readonly deps: {
      prospects: ProspectService;
      activities: ActivityService;
      tracking: TrackingService;
      actions: ActionRunner;
      webhooks: WebhookService;
      unitOfWork: UnitOfWork;
    },
  ) {}

  async submit(
    unit: BusinessUnit,
    rules: InputRule[],
    input: Record<string, string>,
    source: SubmissionSource,
    visitorId: number | null,
  ): Promise<SubmissionOutcome> {
    const { prospects, activities, unitOfWork } = this.deps;
    const values: Record<string, ProspectValue> = {};
    const errors: Record<string, string> = {};
    const given: Record<string, string> = {};
    let email = '';
    for (const rule of rules) {
      let value = (input[rule.input] ?? '').trim();
      if (rule.type === 'checkbox') value = CHECKED.has(value.toLowerCase()) ? 'true' : '';
      given[rule.input] = value;
      if (rule.target === 'email') email = value;
      const fail = (fallback: string) => (errors[rule.input] = rule.errorMessage ?? fallback);
      if (value === '') {
        if (rule.required || rule.target === 'email') fail('This field is required');
        continue;
      }
      if (rule.target === 'email' && !isValidEmail(value)) {
        fail('Please input a valid email address');
        continue;
      }
      if (
        (rule.type === 'dropdown' || rule.type === 'radio') &&
        rule.options.length > 0 &&
        !rule.options.includes(value)
      ) {
        fail('Please select one of the choices');
        continue;
      }
      const field = await prospects.resolveField(unit.id, rule.target, 'v5');
      if (!field || field.readOnly || field.syncOnly) {
        fail('This field cannot be filled in');
        continue;
      }
      try {
        values[field.name] = coerceProspectValue(field, value, unit.timeZone);
      } catch (error) {
        if (!isMarketingError(error)) throw error;
        fail('Please input a valid value');
      }
    }
    const activity = {
      formId: source.formId ?? null,
      formHandlerId: source.formHandlerId ?? null,
      landingPageId: source.landingPageId ?? null,
      campaignId: source.campaignId,
      visitorId,
    };
    if (Object.keys(errors).length > 0) {
      // The error is recorded where there is a prospect to record it on; nothing else changes.
      if (isValidEmail(email)) {
        const known = (await prospects.latestByEmails(unit.id, [email])).get(email.toLowerCase());
        if (known)
          await activities.record(unit, {
            type: 3,
            prospectId: known.id,
            ...activity,
            details: Object.entries(errors)
              .map(([k, v]) => `${k}: ${v}`)
              .join('; '),
          });
      }
      return { ok: false, errors, values: given };
    }
    const { email: _email, ...rest } = values;
    const actor = source.formId
      ? { type: 'form' as const, id: `form:${source.formId}` }
      : { type: 'form' as const, id: String(source.formHandlerId) };
    return unitOfWork.run(async () => {
      const { prospect, created } = await prospects.upsertLatestByEmail(unit, actor, email, rest, false);
      if (visitorId !== null) await this.deps.tracking.linkVisitor(unit, visitorId, prospect.id);
      const success = await activities.record(unit, { type: 4, prospectId: prospect.id, ...activity });
      // The first conversion: when, from what, and the campaign of the page that made it (the
      // CRM's pi__conversion_date__c and pi__campaign__c come from these).
      if (prospect.values.convertedAt == null) {
        await prospects.update(unit, { type: 'system' }, prospect.id, {
          convertedAt: success.values.createdAt ?? null,
          convertedFromObjectType: source.formHandlerId
            ? 'FormHandler'
            : source.landingPageId
              ? 'LandingPage'
              : 'Form',
          ...(prospect.values.campaignId == null && source.campaignId !== null
            ? { campaignId: source.campaignId }
            : {}),
        });
      }
      if (source.completionActions.length > 0)
        await this.deps.actions.run(unit, prospect.id, source.completionActions, {
          formId: source.formId,
          formHandlerId: source.formHandlerId,
        });
      await this.deps.webhooks.emit(unit.id, 'form.success', {
        prospectId: prospect.id,
        email,
        formId: source.formId ?? null,
        formHandlerId: source.formHandlerId ?? null,
        landingPageId: source.landingPageId ?? null,
        campaignId: source.campaignId,
      });
      return { ok: true as const, prospectId: prospect.id, created };
    });
  }
}
