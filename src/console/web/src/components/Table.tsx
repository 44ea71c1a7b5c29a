/** The header cell over a column of row buttons: named for screen readers, blank on screen. */
export function ActionsHeader({ label = 'Actions' }: { label?: string }) {
  return (
    <th scope="col">
      <span className="visually-hidden">{label}</span>
    </th>
  );
}

/** A table's header row: its column names, and a last column of row buttons when `actions`. */
export function HeaderRow({ names, actions }: { names: readonly string[]; actions?: string }) {
  return (
    <tr>
      {names.map((name) => (
        <th key={name} scope="col">
          {name}
        </th>
      ))}
      {actions && <ActionsHeader label={actions} />}
    </tr>
  );
}
