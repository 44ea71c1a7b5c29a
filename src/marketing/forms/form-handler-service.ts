import { FORM_HANDLER_FIELDS, FORM_HANDLERS } from '../collections/collection-defs.js';
import type { CollectionService } from '../collections/collection-service.js';
import type { BusinessUnit } from '../domain/business-unit.js';
import { parseActions } from '../domain/automation.js';
import { isMarketingError } from '../domain/marketing-error.js';
import { text } from './form-service.js';
import type { SubmissionService } from './submission.js';
import { redirectLocation } from '../domain/redirect-location.js';

/** What a submission came to: where to send the submitter, and what happened. */
export type Submission =
  | { ok: true; prospectId: number; created: boolean; redirect: string | null }
  | { ok: false; errors: Record<string, string>; redirect: string | null };

/**
 * Form handlers: the customer's own HTML form posts here. Each handler field names the form
 * input and the prospect field it fills; the submission itself is SubmissionService's.
 */
export class FormHandlerService {
  constructor(
    private readonly deps: {
      collections: CollectionService;
      submissions: SubmissionService;
    },
  ) {}

  /** Null when the handler does not exist. */
  async submit(
    unit: BusinessUnit,
    handlerId: number,
    input: Record<string, string>,
    visitorId: number | null,
  ): Promise<Submission | null> {
    const { collections, submissions } = this.deps;
    if (!Number.isSafeInteger(handlerId)) return null;
    let handler;
    try {
      handler = await collections.read(FORM_HANDLERS, unit.id, handlerId);
    } catch (error) {
      if (isMarketingError(error)) return null;
      throw error;
    }
    if (handler.isDeleted) return null;
    const fields = await collections.query(FORM_HANDLER_FIELDS, {
      unitId: unit.id,
      deleted: 'false',
      where: [['form_handler_id', '=', handlerId]],
      afterId: 0,
      descending: false,
      limit: 1000,
    });
    const outcome = await submissions.submit(
      unit,
      fields.map((f) => ({
        input: String(f.values.name),
        target: String(f.values.prospectApiFieldId),
        required: f.values.isRequired === true,
        type: 'text',
        options: [],
        errorMessage: null,
      })),
      input,
      {
        formHandlerId: handlerId,
        campaignId: typeof handler.values.campaignId === 'number' ? handler.values.campaignId : null,
        completionActions: parseActions(handler.values.completionActions, 'completionActions'),
      },
      visitorId,
    );
    return outcome.ok
      ? { ...outcome, redirect: redirectLocation(text(handler.values.successLocation)) }
      : { ok: false, errors: outcome.errors, redirect: redirectLocation(text(handler.values.errorLocation)) };
  }
}
