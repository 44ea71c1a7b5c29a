import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import { api, get, post } from '../api.js';
import { show } from '../format.js';
import { Loading, Notice } from '../components/Status.js';
import { HeaderRow } from '../components/Table.js';
import { Tabs } from '../components/Tabs.js';

type Row = Record<string, unknown>;
type Tab = 'Lead' | 'Contact' | 'prospects' | 'demo';
const TABS: Array<[Tab, string]> = [
  ['Lead', 'Leads'],
  ['Contact', 'Contacts'],
  ['prospects', 'Prospects'],
  ['demo', 'Demo landing page'],
];

export function Records() {
  const [tab, setTab] = useState<Tab>('Lead');
  return (
    <div className="records">
      <Tabs label="Records" tabs={TABS} current={tab} onChange={setTab}>
        {tab === 'Lead' || tab === 'Contact' ? (
          <CrmRecords object={tab} />
        ) : tab === 'prospects' ? (
          <Prospects />
        ) : (
          <Demo />
        )}
      </Tabs>
    </div>
  );
}

/** An inline editor for a record's editable fields; null values are cleared fields. */
function Editor({
  row,
  fields,
  onSave,
  onCancel,
  busy,
}: {
  row: Row;
  fields: readonly string[];
  onSave: (values: Record<string, string | null>) => void;
  onCancel: () => void;
  busy: boolean;
}) {
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(fields.map((f) => [f, row[f] === null || row[f] === undefined ? '' : String(row[f])])),
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSave(Object.fromEntries(Object.entries(values).map(([f, v]) => [f, v === '' ? null : v])));
  };
  const id = String(row.Id ?? row.id);
  return (
    <form className="editor" onSubmit={submit} aria-label={`Edit ${id}`}>
      {fields.map((f) => (
        <div key={f} className="field">
          <label htmlFor={`${id}-${f}`}>{f}</label>
          <input
            id={`${id}-${f}`}
            value={values[f] ?? ''}
            onChange={(e) => setValues({ ...values, [f]: e.target.value })}
          />
        </div>
      ))}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          Save
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** Which row is being edited, the save that ends it, and what the page last said. */
function useRecordEditor(path: string, queryKey: string, saved: string) {
  const queries = useQueryClient();
  const [editing, setEditing] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const refresh = () => void queries.invalidateQueries({ queryKey: [queryKey] });
  const save = useMutation({
    mutationFn: ({ id, fields }: { id: string; fields: Record<string, string | null> }) =>
      api('PATCH', `${path}/${id}`, { fields }),
    onSuccess: () => {
      setEditing(null);
      setDone(saved);
      refresh();
    },
  });
  return { editing, setEditing, done, setDone, save, refresh };
}

/** A row's Edit button (and the row's other actions), or its editor while it is edited. */
function RowActions({
  row,
  label,
  fields,
  editor,
  children,
}: {
  row: Row;
  label: string;
  fields: readonly string[];
  editor: ReturnType<typeof useRecordEditor>;
  children?: ReactNode;
}) {
  const id = String(row.Id ?? row.id);
  return (
    <td className="row-actions">
      {editor.editing === id ? (
        <Editor
          row={row}
          fields={fields}
          busy={editor.save.isPending}
          onSave={(values) => editor.save.mutate({ id, fields: values })}
          onCancel={() => editor.setEditing(null)}
        />
      ) : (
        <>
          <button type="button" onClick={() => editor.setEditing(id)} aria-label={`Edit ${label}`}>
            Edit
          </button>
          {children}
        </>
      )}
    </td>
  );
}

function CrmRecords({ object }: { object: 'Lead' | 'Contact' }) {
  const { data, error } = useQuery({
    queryKey: ['crm', object],
    queryFn: () => get<{ records: Row[]; editable: string[] }>(`crm/${object}`),
    refetchInterval: 5_000,
  });
  const editor = useRecordEditor(`crm/${object}`, 'crm', 'Saved in the CRM; the sync carries it over.');
  const convert = useMutation({
    mutationFn: (id: string) => post<{ contactId: string }>(`crm/Lead/${id}/convert`),
    onSuccess: (a) => {
      editor.setDone(`Converted: Contact ${a.contactId}.`);
      editor.refresh();
    },
  });
  if (!data) return <Loading error={error} />;
  const columns = [
    'FirstName',
    'LastName',
    'Email',
    object === 'Lead' ? 'Company' : 'Title',
    object === 'Lead' ? 'Status' : 'Phone',
  ];
  return (
    <section aria-label={`${object}s`}>
      <Notice error={editor.save.error ?? convert.error} ok={editor.done} />
      <div className="table-wrap">
        <table>
          <caption>Most recently changed {object}s</caption>
          <thead>
            <HeaderRow names={['Id', ...columns]} actions="Actions" />
          </thead>
          <tbody>
            {data.records.map((r) => {
              const id = String(r.Id);
              return (
                <tr key={id} data-email={show(r.Email)}>
                  <td>
                    <a href={`#/explorer/${id}`}>{id}</a>
                  </td>
                  {columns.map((c) => (
                    <td key={c}>{show(r[c])}</td>
                  ))}
                  <RowActions row={r} label={show(r.Email)} fields={data.editable} editor={editor}>
                    {object === 'Lead' && (
                      <button
                        type="button"
                        onClick={() => convert.mutate(id)}
                        disabled={convert.isPending}
                        aria-label={`Convert ${show(r.Email)}`}
                      >
                        Convert
                      </button>
                    )}
                  </RowActions>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

interface User {
  id: number;
  email: string;
  firstName: string | null;
  lastName: string | null;
}

function Prospects() {
  const { data, error } = useQuery({
    queryKey: ['prospects'],
    queryFn: () => get<{ prospects: Row[]; users: User[]; editable: string[] }>('prospects'),
    refetchInterval: 5_000,
  });
  const editor = useRecordEditor(
    'prospects',
    'prospects',
    'Saved in the marketing engine; the sync carries it over.',
  );
  const [assignee, setAssignee] = useState<Record<string, string>>({});
  const assign = useMutation({
    mutationFn: ({ id, userId }: { id: string; userId: number }) =>
      post(`prospects/${id}/assign`, { userId }),
    onSuccess: () => {
      editor.setDone('Assigned: the sync hands the prospect to sales.');
      editor.refresh();
    },
  });
  if (!data) return <Loading error={error} />;
  const userName = (id: unknown) => {
    const u = data.users.find((x) => x.id === id);
    return u ? [u.firstName, u.lastName].filter(Boolean).join(' ') || u.email : '—';
  };
  return (
    <section aria-label="Prospects">
      <Notice error={editor.save.error ?? assign.error} ok={editor.done} />
      <div className="table-wrap">
        <table>
          <caption>Newest prospects</caption>
          <thead>
            <HeaderRow
              names={['Id', 'Email', 'Name', 'Company', 'Score', 'Grade', 'Assigned to']}
              actions="Actions"
            />
          </thead>
          <tbody>
            {data.prospects.map((p) => {
              const id = String(p.id);
              return (
                <tr key={id} data-email={show(p.email)}>
                  <td>
                    <a href={`#/explorer/${id}`}>{id}</a>
                  </td>
                  <td>{show(p.email)}</td>
                  <td>{[p.firstName, p.lastName].filter(Boolean).join(' ') || '—'}</td>
                  <td>{show(p.company)}</td>
                  <td>{show(p.score)}</td>
                  <td>{show(p.grade)}</td>
                  <td>{userName(p.assignedToId)}</td>
                  <RowActions row={p} label={show(p.email)} fields={data.editable} editor={editor}>
                    <label className="visually-hidden" htmlFor={`assign-${id}`}>
                      Assign {show(p.email)} to
                    </label>
                    <select
                      id={`assign-${id}`}
                      value={assignee[id] ?? ''}
                      onChange={(e) => setAssignee({ ...assignee, [id]: e.target.value })}
                    >
                      <option value="">choose a user</option>
                      {data.users.map((u) => (
                        <option key={u.id} value={u.id}>
                          {u.email}
                        </option>
                      ))}
                    </select>
                    <button
                      type="button"
                      disabled={!assignee[id] || assign.isPending}
                      onClick={() => assign.mutate({ id, userId: Number(assignee[id]) })}
                      aria-label={`Assign ${show(p.email)}`}
                    >
                      Assign
                    </button>
                  </RowActions>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Demo() {
  const { data, error } = useQuery({
    queryKey: ['demo'],
    queryFn: () => get<{ landingPageUrl: string | null }>('demo'),
  });
  if (!data) return <Loading error={error} />;
  if (!data.landingPageUrl)
    return <p className="empty">This console runs without the demo's landing page.</p>;
  return (
    <section aria-label="Demo landing page">
      <p>
        A landing page of the marketing engine with a form and the tracking script. Submit it: the submitter
        becomes a prospect assigned to the admin, then a CRM Lead with the form's Task.{' '}
        <a href={data.landingPageUrl} target="_blank" rel="noreferrer">
          Open it in a new tab
        </a>
      </p>
      <iframe className="landing" title="Demo landing page" src={data.landingPageUrl} />
    </section>
  );
}
