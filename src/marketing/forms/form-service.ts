import { FORM_FIELDS, FORMS, LANDING_PAGES } from '../collections/collection-defs.js';
import type { CollectionRecord, CollectionService } from '../collections/collection-service.js';
import { parseActions } from '../domain/automation.js';
import type { BusinessUnit } from '../domain/business-unit.js';
import type { InputRule, SubmissionOutcome, SubmissionService } from './submission.js';
import { redirectLocation } from '../domain/redirect-location.js';

/** A form as the hosted page shows it: its definition, its fields in order, and their rules. */
export interface HostedForm {
  id: number;
  name: string;
  campaignId: number | null;
  successLocation: string | null;
  thankYouContent: string | null;
  fields: Array<InputRule & { label: string }>;
  completionActions: ReturnType<typeof parseActions>;
}

export interface LandingPage {
  id: number;
  name: string;
  title: string;
  description: string | null;
  campaignId: number | null;
  form: HostedForm | null;
}

/** A stored text, or null for none or empty. */
export const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);

/** The engine's hosted forms and the landing pages around them. */
export class FormService {
  constructor(
    private readonly deps: {
      collections: CollectionService;
      submissions: SubmissionService;
    },
  ) {}

  private async live(def: typeof FORMS, unit: BusinessUnit, id: number): Promise<CollectionRecord | null> {
    if (!Number.isSafeInteger(id)) return null;
    const record = await this.deps.collections.read(def, unit.id, id).catch(() => null);
    return record && !record.isDeleted ? record : null;
  }

  /** Null when there is no such live form. */
  async form(unit: BusinessUnit, formId: number): Promise<HostedForm | null> {
    const form = await this.live(FORMS, unit, formId);
    if (!form) return null;
    const fields = await this.deps.collections.query(FORM_FIELDS, {
      unitId: unit.id,
      deleted: 'false',
      where: [['form_id', '=', formId]],
      afterId: 0,
      descending: false,
      limit: 1000,
    });
    fields.sort((a, b) => Number(a.values.sortOrder ?? 0) - Number(b.values.sortOrder ?? 0) || a.id - b.id);
    return {
      id: form.id,
      name: String(form.values.name),
      campaignId: typeof form.values.campaignId === 'number' ? form.values.campaignId : null,
      successLocation: redirectLocation(text(form.values.successLocation)),
      thankYouContent: text(form.values.thankYouContent),
      completionActions: parseActions(form.values.completionActions, 'completionActions'),
      fields: fields.map((f) => {
        const target = String(f.values.prospectApiFieldId);
        return {
          // The input is named after the field it fills: `email`, `firstName` …
          input: target,
          target,
          label: text(f.values.label) ?? target,
          required: f.values.isRequired === true,
          type: text(f.values.type) ?? (target === 'email' ? 'email' : 'text'),
          options: (text(f.values.options) ?? '')
            .split('\n')
            .map((o) => o.trim())
            .filter(Boolean),
          errorMessage: text(f.values.errorMessage),
        };
      }),
    };
  }

  /** Null when there is no such live landing page. */
  async landingPage(unit: BusinessUnit, id: number): Promise<LandingPage | null> {
    const page = await this.live(LANDING_PAGES, unit, id);
    if (!page) return null;
    const formId = typeof page.values.formId === 'number' ? page.values.formId : null;
    return {
      id: page.id,
      name: String(page.values.name),
      title: text(page.values.title) ?? String(page.values.name),
      description: text(page.values.description),
      campaignId: typeof page.values.campaignId === 'number' ? page.values.campaignId : null,
      form: formId === null ? null : await this.form(unit, formId),
    };
  }

  submit(
    unit: BusinessUnit,
    form: HostedForm,
    input: Record<string, string>,
    visitorId: number | null,
    landingPage?: LandingPage,
  ): Promise<SubmissionOutcome> {
    return this.deps.submissions.submit(
      unit,
      form.fields,
      input,
      {
        formId: form.id,
        landingPageId: landingPage?.id,
        campaignId: landingPage?.campaignId ?? form.campaignId,
        completionActions: form.completionActions,
      },
      visitorId,
    );
  }
}
