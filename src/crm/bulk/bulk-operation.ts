import { HandoffError } from '../../errors/handoff-error.js';
import type { CallContext } from '../domain/call-context.js';
import type { SaveResult } from '../domain/save-result.js';
import type { FieldDef, ObjectDef } from '../domain/schema/field-def.js';
import type { SchemaRegistry } from '../domain/schema/schema-registry.js';
import type { RecordService } from '../record-service.js';

/**
 * What both Bulk APIs (1.0 batches and 2.0 jobs) do with a chunk of rows: the same operations,
 * through the same record service as REST, so a row is refused or saved exactly as a REST call
 * would be.
 */

/** Bulk's marker for "set this field to null" (an empty CSV cell means "leave it as it is"). */
export const NULL_MARKER = '#N/A';

export interface BulkOperationSpec {
  operation: string;
  externalIdFieldName: string | null;
}

/** Maps a header (CSV columns, or the fields of JSON/XML records) to fields: unknown or relationship columns fail. */
export function columnFields(schema: SchemaRegistry, def: ObjectDef, header: readonly string[]): FieldDef[] {
  return header.map((column) => {
    if (column.includes('.')) {
      throw new HandoffError('INVALID_FIELD', `Relationship columns are not supported: ${column}`);
    }
    const f = schema.field(def, column);
    if (!f) throw new HandoffError('INVALID_FIELD', `Field name not found : ${column}`);
    return f;
  });
}

/** A CSV row as a record's input: empty cells left out, `#N/A` as null. */
export function csvInput(fields: readonly FieldDef[], values: readonly string[]): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  fields.forEach((f, i) => {
    const value = values[i] ?? '';
    if (value === '') return;
    input[f.name] = value === NULL_MARKER ? null : value;
  });
  return input;
}

/** Applies one chunk of inputs by the job's operation; a result per input, in order. */
export function applyBulkOperation(
  records: RecordService,
  schema: SchemaRegistry,
  job: BulkOperationSpec,
  def: ObjectDef,
  ctx: CallContext,
  inputs: Array<Record<string, unknown>>,
): Promise<SaveResult[]> {
  const idOf = (input: Record<string, unknown>) => (typeof input.Id === 'string' ? input.Id : '');
  switch (job.operation) {
    case 'insert':
      return records.createMany(
        ctx,
        inputs.map((input) => ({ type: def.name, input })),
        false,
      );
    case 'update':
      return records.updateMany(
        ctx,
        inputs.map(({ Id, ...input }) => ({ type: def.name, id: Id, input })),
        false,
      );
    case 'upsert': {
      const field = job.externalIdFieldName ?? '';
      const f = schema.field(def, field);
      return records.upsertMany(
        ctx,
        def.name,
        field,
        inputs.map((input) => ({ value: String(input[f?.name ?? field] ?? ''), input })),
        false,
      );
    }
    case 'delete':
      return records.deleteMany(ctx, inputs.map(idOf), false);
    case 'hardDelete':
      return records.deleteMany(ctx, inputs.map(idOf), false, { hard: true });
    default:
      throw new HandoffError('INVALID_INPUT', `unknown operation ${job.operation}`);
  }
}

/** Whether an upsert's external id field can key it (an external id, or Id). */
export function checkExternalIdField(schema: SchemaRegistry, def: ObjectDef, name: string | null): void {
  const f = schema.field(def, name ?? '');
  if (!f || !(f.externalId || f.name === 'Id')) {
    throw new HandoffError('INVALID_FIELD', `External ID field not found: ${name ?? ''}`);
  }
}
