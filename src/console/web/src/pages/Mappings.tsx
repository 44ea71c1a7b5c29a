import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api, ApiError, get, post, type SettingsPreview, type SyncSettings } from '../api.js';
import { Loading, Notice } from '../components/Status.js';
import { ActionsHeader } from '../components/Table.js';
import { Tabs } from '../components/Tabs.js';

type CrmObject = 'Lead' | 'Contact';
type Mapping = SyncSettings['mappings']['Lead'][number];
interface SettingsAnswer {
  settings: SyncSettings;
  fields: { crm: Record<CrmObject, string[]>; prospect: string[] };
}

const DIRECTIONS: Array<[Mapping['direction'], string]> = [
  ['both', 'Both ways'],
  ['crm-to-marketing', 'CRM → marketing'],
  ['marketing-to-crm', 'Marketing → CRM'],
];
const POLICIES: Array<[Mapping['conflict'], string]> = [
  ['crm', 'CRM wins'],
  ['marketing', 'Marketing wins'],
  ['latest', 'Latest change wins'],
  ['crm-unless-blank', 'CRM wins unless blank'],
];

export function Mappings() {
  const queries = useQueryClient();
  const { data, error } = useQuery({
    queryKey: ['settings'],
    queryFn: () => get<SettingsAnswer>('settings'),
  });
  const [draft, setDraft] = useState<SyncSettings | null>(null);
  const [object, setObject] = useState<CrmObject>('Lead');
  const save = useMutation({
    mutationFn: (settings: SyncSettings) => api<{ settings: SyncSettings }>('PUT', 'settings', settings),
    onSuccess: (answer) => {
      setDraft(answer.settings);
      void queries.invalidateQueries({ queryKey: ['settings'] });
    },
  });
  const preview = useMutation({
    mutationFn: (settings: SyncSettings) =>
      post<{ preview: Omit<SettingsPreview, 'keys'> }>('settings/preview', settings),
  });
  useEffect(() => {
    if (data && !draft) setDraft(data.settings);
  }, [data, draft]);

  if (!data || !draft) return <Loading error={error} />;
  const rows = draft.mappings[object];
  // Why the last save was refused, by row: `mappings.Lead.3` names the fourth Lead row.
  const refusedRows = new Map(
    [save.error, preview.error]
      .flatMap((e) => (e instanceof ApiError ? e.issues : []))
      .flatMap((issue) => {
        const match = /^mappings\.(Lead|Contact)\.(\d+)/.exec(issue.path);
        return match && match[1] === object ? [[Number(match[2]), issue.message] as const] : [];
      }),
  );
  const setRows = (next: Mapping[]) =>
    setDraft({ ...draft, mappings: { ...draft.mappings, [object]: next } });
  const setRow = (i: number, change: Partial<Mapping>) =>
    setRows(rows.map((row, j) => (j === i ? { ...row, ...change } : row)));
  const rules = draft.rules;
  const setRules = (change: Partial<SyncSettings['rules']>) =>
    setDraft({ ...draft, rules: { ...rules, ...change } });

  return (
    <form
      className="mappings"
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate(draft);
      }}
    >
      <Tabs
        label="CRM object"
        tabs={(['Lead', 'Contact'] as const).map(
          (o) => [o, `${o} mappings (${draft.mappings[o].length})`] as const,
        )}
        current={object}
        onChange={setObject}
      >
        <div className="table-wrap">
          <table>
            <caption>Prospect fields and {object} fields kept in step</caption>
            <thead>
              <tr>
                <th scope="col">Prospect field</th>
                <th scope="col">{object} field</th>
                <th scope="col">Direction</th>
                <th scope="col">When both changed</th>
                <ActionsHeader label="Remove" />
              </tr>
            </thead>
            <tbody>
              {rows.map((row, i) => (
                <tr
                  key={i}
                  data-field={row.prospectField}
                  className={refusedRows.has(i) ? 'refused' : undefined}
                  aria-invalid={refusedRows.has(i) || undefined}
                >
                  <td>
                    <Choice
                      label={`Prospect field of row ${i + 1}`}
                      value={row.prospectField}
                      options={withValue(data.fields.prospect, row.prospectField)}
                      onChange={(prospectField) => setRow(i, { prospectField })}
                    />
                  </td>
                  <td>
                    <Choice
                      label={`${object} field mapped to ${row.prospectField}`}
                      value={row.crmField}
                      options={withValue(data.fields.crm[object], row.crmField)}
                      onChange={(crmField) => setRow(i, { crmField })}
                    />
                  </td>
                  <td>
                    <Choice
                      label={`Direction of ${row.prospectField}`}
                      value={row.direction}
                      options={DIRECTIONS}
                      onChange={(direction) => setRow(i, { direction })}
                    />
                  </td>
                  <td>
                    <Choice
                      label={`Conflict policy of ${row.prospectField}`}
                      value={row.conflict}
                      options={POLICIES}
                      onChange={(conflict) => setRow(i, { conflict })}
                    />
                    {refusedRows.has(i) ? (
                      <p className="row-problem" role="alert">
                        {refusedRows.get(i)}
                      </p>
                    ) : null}
                  </td>
                  <td>
                    <button
                      type="button"
                      aria-label={`Remove the mapping of ${row.prospectField}`}
                      onClick={() => setRows(rows.filter((_, j) => j !== i))}
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <button
          type="button"
          onClick={() =>
            setRows([
              ...rows,
              {
                prospectField: data.fields.prospect[0] ?? 'email',
                crmField: data.fields.crm[object][0] ?? 'Email',
                direction: 'both',
                conflict: 'crm',
              },
            ])
          }
        >
          Add a mapping
        </button>
      </Tabs>

      <fieldset className="rules">
        <legend>Rules</legend>
        <label>
          <input
            type="checkbox"
            checked={rules.createProspects}
            onChange={(e) => setRules({ createProspects: e.target.checked })}
          />
          Make a prospect for a new Lead or Contact with an email
        </label>
        <label htmlFor="create-leads">Make a CRM Lead for a prospect</label>
        <select
          id="create-leads"
          value={rules.createLeads}
          onChange={(e) => setRules({ createLeads: e.target.value as SyncSettings['rules']['createLeads'] })}
        >
          <option value="assigned">once it is assigned to a user</option>
          <option value="form-success">once it submits a form</option>
          <option value="never">never</option>
        </select>
        <label>
          <input
            type="checkbox"
            checked={rules.followDeletions !== false}
            onChange={(e) => setRules({ followDeletions: e.target.checked })}
          />
          A record deleted on one side is deleted on the other
        </label>
        <label>
          <input
            type="checkbox"
            checked={rules.followEmailChanges !== false}
            onChange={(e) => setRules({ followEmailChanges: e.target.checked })}
          />
          A CRM email change updates the prospect's email
        </label>
        <label>
          <input
            type="checkbox"
            checked={Boolean(rules.sharing)}
            onChange={(e) => setRules({ sharing: e.target.checked ? { field: '', value: '' } : null })}
          />
          Share only CRM records with a field value (marketing data sharing)
        </label>
        {rules.sharing && (
          <div className="inline">
            <label htmlFor="sharing-field">Field</label>
            <select
              id="sharing-field"
              value={rules.sharing.field}
              onChange={(e) => setRules({ sharing: { ...rules.sharing!, field: e.target.value } })}
            >
              <option value="">choose a field</option>
              {data.fields.crm.Lead.filter((f) => data.fields.crm.Contact.includes(f)).map((f) => (
                <option key={f}>{f}</option>
              ))}
            </select>
            <label htmlFor="sharing-value">Value</label>
            <input
              id="sharing-value"
              value={rules.sharing.value}
              onChange={(e) => setRules({ sharing: { ...rules.sharing!, value: e.target.value } })}
            />
          </div>
        )}
      </fieldset>
      <Notice
        error={save.error ?? preview.error}
        ok={
          save.isSuccess
            ? 'Saved: the sync uses these from its next pass, and brings the pairs already linked into line.'
            : null
        }
      />
      <div className="actions">
        <button type="submit" className="primary" disabled={save.isPending}>
          {save.isPending ? 'Saving…' : 'Save mappings and rules'}
        </button>
        <button type="button" disabled={preview.isPending} onClick={() => preview.mutate(draft)}>
          {preview.isPending ? 'Previewing…' : 'Preview what saving writes'}
        </button>
        <button type="button" onClick={() => setDraft(data.settings)}>
          Undo changes
        </button>
      </div>
      {preview.data && <PreviewPanel preview={preview.data.preview} />}
    </form>
  );
}

/** What saving the draft would write to the linked pairs: counts per side and field, and samples. */
function PreviewPanel({ preview }: { preview: Omit<SettingsPreview, 'keys'> }) {
  const side = (label: string, tally: SettingsPreview['toCrm']) => (
    <li>
      {label}: {tally.records} records
      {Object.keys(tally.fields).length > 0 &&
        ` (${Object.entries(tally.fields)
          .map(([field, n]) => `${field} ${n}`)
          .join(', ')})`}
    </li>
  );
  return (
    <section className="preview" aria-label="Preview of saving">
      <h3>Saving would write, over {preview.pairs} linked pairs</h3>
      <ul>
        {side('To the CRM', preview.toCrm)}
        {side('To marketing', preview.toMarketing)}
      </ul>
      {preview.samples.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Record</th>
              <th>Field</th>
              <th>To</th>
              <th>Before</th>
              <th>After</th>
              <th>Why</th>
            </tr>
          </thead>
          <tbody>
            {preview.samples.map((s) => (
              <tr key={`${s.crmId}:${s.field}:${s.toSide}`}>
                <td>
                  {s.crmObject} {s.crmId}
                </td>
                <td>{s.toSide === 'crm' ? s.crmField : s.field}</td>
                <td>{s.toSide === 'crm' ? 'CRM' : 'marketing'}</td>
                <td>{s.before ?? '(empty)'}</td>
                <td>{s.after ?? '(empty)'}</td>
                <td>{s.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p>
        Nothing has been written. Save applies these settings and the sync writes the above to the pairs
        already linked.
      </p>
    </section>
  );
}

/** The choices, with the current value kept even if the side no longer has it (it shows, and fails the check). */
function withValue(choices: string[], value: string): string[] {
  return choices.includes(value) ? choices : [value, ...choices];
}

/** A labelled select of values (shown as themselves, or as `[value, label]` pairs). */
function Choice<T extends string>({
  label,
  value,
  options,
  onChange,
}: {
  label: string;
  value: T;
  options: ReadonlyArray<T | readonly [T, string]>;
  onChange: (value: T) => void;
}) {
  return (
    <select aria-label={label} value={value} onChange={(e) => onChange(e.target.value as T)}>
      {options.map((o) => {
        const [v, text] = typeof o === 'string' ? [o, o] : o;
        return (
          <option key={v} value={v}>
            {text}
          </option>
        );
      })}
    </select>
  );
}
