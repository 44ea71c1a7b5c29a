import type { BusinessUnit } from '../domain/business-unit.js';
import type { HostedForm, LandingPage } from './form-service.js';

/** The honeypot: an input people never see or fill; a bot that fills it is quietly ignored. */
export const HONEYPOT = 'pi_extra_field';

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

export interface FormView {
  form: HostedForm;
  action: string;
  values: Record<string, string>;
  errors: Record<string, string>;
  visitor: { id: number; sign: string } | null;
}

function fieldHtml(field: HostedForm['fields'][number], value: string, error: string | undefined): string {
  const id = `pi_${field.input}`;
  const name = escapeHtml(field.input);
  const required = field.required ? ' required aria-required="true"' : '';
  const invalid = error ? ` aria-invalid="true" aria-describedby="${id}_error"` : '';
  const label = `<label for="${id}">${escapeHtml(field.label)}${field.required ? ' <span aria-hidden="true">*</span>' : ''}</label>`;
  const errorHtml = error ? `<p class="error" id="${id}_error" role="alert">${escapeHtml(error)}</p>` : '';
  let control: string;
  switch (field.type) {
    case 'hidden':
      return `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`;
    case 'textarea':
      control = `<textarea id="${id}" name="${name}"${required}${invalid}>${escapeHtml(value)}</textarea>`;
      break;
    case 'dropdown':
      control = `<select id="${id}" name="${name}"${required}${invalid}><option value=""></option>${field.options
        .map((o) => `<option${o === value ? ' selected' : ''}>${escapeHtml(o)}</option>`)
        .join('')}</select>`;
      break;
    case 'radio':
      return `<fieldset class="field"><legend>${escapeHtml(field.label)}</legend>${field.options
        .map(
          (o, i) =>
            `<label><input type="radio" name="${name}" id="${id}_${i}" value="${escapeHtml(o)}"${o === value ? ' checked' : ''}> ${escapeHtml(o)}</label>`,
        )
        .join('')}${errorHtml}</fieldset>`;
    case 'checkbox':
      return `<div class="field"><input type="checkbox" id="${id}" name="${name}" value="true"${value === 'true' ? ' checked' : ''}${invalid}> ${label}${errorHtml}</div>`;
    default:
      control = `<input type="${field.type === 'email' ? 'email' : 'text'}" id="${id}" name="${name}" value="${escapeHtml(value)}"${required}${invalid}>`;
  }
  return `<div class="field">${label}${control}${errorHtml}</div>`;
}

/** The form itself: fields, errors beside them, the visitor, and the honeypot. */
export function formHtml(view: FormView): string {
  const { form, errors } = view;
  const summary =
    Object.keys(errors).length > 0
      ? '<p class="errors" role="alert">Please correct the errors below.</p>'
      : '';
  const visitor = view.visitor
    ? `<input type="hidden" name="visitor_id" value="${view.visitor.id}"><input type="hidden" name="visitor_id_sign" value="${escapeHtml(view.visitor.sign)}">`
    : '';
  return `<form method="post" action="${escapeHtml(view.action)}" class="form" novalidate>${summary}
${form.fields.map((f) => fieldHtml(f, view.values[f.input] ?? '', errors[f.input])).join('\n')}
${visitor}<div class="hp" aria-hidden="true"><label for="${HONEYPOT}">Leave this empty</label><input type="text" id="${HONEYPOT}" name="${HONEYPOT}" tabindex="-1" autocomplete="off"></div>
<p><button type="submit">Submit</button></p></form>`;
}

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}
.field{margin:0 0 1rem}label{display:block;font-weight:600}input[type=text],input[type=email],textarea,select{width:100%;padding:.4rem;font:inherit;box-sizing:border-box}
input[type=checkbox]+label{display:inline}.error,.errors{color:#b00020}.hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}
button{font:inherit;padding:.5rem 1.25rem}`;

/** A whole page: a title, content, and (on landing pages) the tracking snippet. */
export function page(options: {
  title: string;
  body: string;
  tracking?: { unit: BusinessUnit; host: string; campaignId: number | null };
}): string {
  const { tracking } = options;
  const snippet = tracking
    ? `<script>piAId='${tracking.unit.trackingId}';piCId='${tracking.campaignId ?? ''}';piHostname='${escapeHtml(tracking.host)}';</script><script async src="/pd.js"></script>`
    : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(options.title)}</title><style>${STYLE}</style>${snippet}</head><body>
${options.body}
</body></html>`;
}

export function landingPageHtml(pageDef: LandingPage, formView: FormView | null): string {
  return `<main><h1>${escapeHtml(pageDef.title)}</h1>${pageDef.description ? `<p>${escapeHtml(pageDef.description)}</p>` : ''}${formView ? formHtml(formView) : ''}</main>`;
}

/** After a success without a success location: the form's thank-you content, as text. */
export function thankYouHtml(form: HostedForm): string {
  return `<main><p role="status">${escapeHtml(form.thankYouContent ?? 'Thank you.')}</p></main>`;
}
