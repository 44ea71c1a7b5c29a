import { FORM_HANDLER_FIELDS, FORM_HANDLERS } from '../collections/collection-defs.js';
import type { CollectionService } from '../collections/collection-service.js';
import type { ActivityService } from '../activity-service.js';
import type { BusinessUnitService } from '../business-units.js';
import { isMarketingError } from '../domain/marketing-error.js';
import type { ProspectValue } from '../domain/prospect-fields.js';
import type { ProspectService } from '../prospect-service.js';
import type { UnitOfWork } from '../../store/unit-of-work.js';

/** What a submission came to: where to send the submitter, and what happened. */
export type Submission =
  | { ok: true; prospectId: number; created: boolean; redirect: string | null }
  | { ok: false; errors: Record<string, string>; redirect: string | null };

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Form handlers: the customer's own HTML form posts here. Each handler field names the form
 * input and the prospect field it fills. A valid submission finds the prospect by email as the
 * unit's rules say (the most recently updated one where a unit allows several) or makes it,
 * fills the mapped fields — an empty input never blanks a value — and records a Success
 * activity, all in one transaction committed before the submitter is redirected. An invalid one
 * changes nothing and is recorded as an Error activity on the prospect, when there is one.
 */
export class FormHandlerService {
  constructor(
    private readonly deps: {
      units: BusinessUnitService;
      collections: CollectionService;
      prospects: ProspectService;
      activities: ActivityService;
      unitOfWork: UnitOfWork;
    },
  ) {}

  /** Null when the unit or the handler does not exist. */
  async submit(unitId: string, handlerId: number, input: Record<string, string>): Promise<Submission | null> {
    const { units, collections, prospects, activities, unitOfWork } = this.deps;
    const unit = units.get(unitId);
    if (!unit || !Number.isSafeInteger(handlerId)) return null;
    let handler;
    try {
      handler = await collections.read(FORM_HANDLERS, unit.id, handlerId);
    } catch (error) {
      if (isMarketingError(error)) return null;
      throw error;
    }
    const fields = await collections.query(FORM_HANDLER_FIELDS, {
      unitId: unit.id,
      deleted: 'false',
      where: [['form_handler_id', '=', handlerId]],
      afterId: 0,
      descending: false,
      limit: 1000,
    });
    const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
    const success = text(handler.values.successLocation);
    const failure = text(handler.values.errorLocation);
    const campaignId = typeof handler.values.campaignId === 'number' ? handler.values.campaignId : null;

    const values: Record<string, ProspectValue> = {};
    const errors: Record<string, string> = {};
    let email = '';
    for (const field of fields) {
      const name = String(field.values.name);
      const target = String(field.values.prospectApiFieldId);
      const value = (input[name] ?? '').trim();
      if (target === 'email') email = value;
      if (value === '') {
        if (field.values.isRequired === true || target === 'email') errors[name] = 'This field is required';
        continue;
      }
      if (target === 'email' && !EMAIL.test(value)) errors[name] = 'Please input a valid email address';
      // An empty input leaves the field as it is: values only ever fill.
      values[target] = value;
    }
    if (Object.keys(errors).length > 0) {
      // The error is recorded where there is a prospect to record it on; nothing else changes.
      if (EMAIL.test(email)) {
        const [known] = await prospects.byEmail(unit.id, email);
        if (known)
          await activities.record(unit, {
            type: 3,
            prospectId: known.id,
            formHandlerId: handlerId,
            campaignId,
            details: Object.entries(errors)
              .map(([k, v]) => `${k}: ${v}`)
              .join('; '),
          });
      }
      return { ok: false, errors, redirect: failure };
    }
    const { email: _email, ...rest } = values;
    return unitOfWork.run(async () => {
      const { prospect, created } = await prospects.upsertLatestByEmail(
        unit,
        { type: 'form', id: String(handlerId) },
        email,
        rest,
        false,
      );
      await activities.record(unit, {
        type: 4,
        prospectId: prospect.id,
        formHandlerId: handlerId,
        campaignId,
      });
      return { ok: true as const, prospectId: prospect.id, created, redirect: success };
    });
  }
}
