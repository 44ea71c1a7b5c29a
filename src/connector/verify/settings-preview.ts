import { PRIORITY } from '../domain/change-priority.js';
import type { SyncValue } from '../domain/decide-field.js';
import type { CrmObject, FieldMapping } from '../domain/field-mapping.js';
import { planPair } from '../domain/pair-plan.js';
import { SyncFields } from '../domain/sync-fields.js';
import * as queue from '../store/work-queue.js';
import type { SyncRules } from '../sync-types.js';
import { readPairs, withSyncedState } from './pair-reader.js';
import { callsFrom, countCalls } from './api-calls.js';
import type { VerifyOptions } from './verify-pairs.js';

/** One write a change of settings would make, for the preview's samples. */
export interface PreviewWrite {
  crmObject: CrmObject;
  crmId: string;
  prospectId: number;
  field: string;
  crmField: string;
  toSide: 'crm' | 'marketing';
  before: SyncValue;
  after: SyncValue;
  reason: string;
}

/** What saving mappings and rules would write, computed without writing anything. */
export interface SettingsPreview {
  /** What is wrong with the settings (then nothing else is computed). */
  problems: Array<{ path: string; message: string }>;
  /** Linked pairs looked at. */
  pairs: number;
  /** Records each side would have written, and how many writes each field would get. */
  toCrm: { records: number; fields: Record<string, number> };
  toMarketing: { records: number; fields: Record<string, number> };
  /** The first writes, before and after (at most `sampleSize`). */
  samples: PreviewWrite[];
  /** The calls the preview made on each side. */
  calls: { crm: number; marketing: number };
  /** The CRM records whose pairs would be written (`Lead:<id>`): queued when the settings are saved. */
  keys: string[];
}

/**
 * What new mappings and rules would write to the linked pairs both sides hold now: both sides
 * read in bulk as a verify reads them (pair-reader.ts), every pair that differs on the new
 * mappings planned as the sync would plan it (domain/pair-plan.ts, with the pair's synced
 * state). Fields the new settings map for the first time are decided by their policy, as the
 * sync's first sync of a field is. Nothing is written; `applySettingsPreview` queues the pairs
 * once the settings are saved, so the sync then writes what the preview showed.
 */
export async function previewSettings(
  options: VerifyOptions,
  settings: { mappings: Record<CrmObject, FieldMapping[]>; rules: SyncRules },
  sampleSize = 20,
): Promise<SettingsPreview> {
  const { engine } = options;
  const calls = callsFrom(options);
  const preview: SettingsPreview = {
    problems: [],
    pairs: 0,
    toCrm: { records: 0, fields: {} },
    toMarketing: { records: 0, fields: {} },
    samples: [],
    calls: { crm: 0, marketing: 0 },
    keys: [],
  };
  const checked = await engine.checkSettings(settings.mappings, settings.rules);
  preview.problems = checked.problems;
  if (checked.problems.length === 0) {
    const read = await readPairs(
      options,
      checked.mappings,
      new SyncFields(checked.mappings, settings.rules.sharing),
      settings.rules.sharing,
    );
    preview.pairs = read.links.length;
    for (const { link, record, prospect } of await withSyncedState(options, read.differing)) {
      const plan = planPair(
        checked.mappings[link.crmObject],
        engine.crmTypes[link.crmObject],
        link,
        record,
        prospect,
      );
      if (plan.changes.length === 0) continue;
      preview.keys.push(`${link.crmObject}:${link.crmId}`);
      for (const side of ['crm', 'marketing'] as const) {
        const changes = plan.changes.filter((c) => c.toSide === side);
        if (changes.length === 0) continue;
        const tally = side === 'crm' ? preview.toCrm : preview.toMarketing;
        tally.records += 1;
        for (const change of changes) {
          const name = `${link.crmObject}.${side === 'crm' ? change.crmField : change.field}`;
          tally.fields[name] = (tally.fields[name] ?? 0) + 1;
        }
      }
      for (const change of plan.changes) {
        if (preview.samples.length >= sampleSize) break;
        preview.samples.push({
          crmObject: link.crmObject,
          crmId: link.crmId,
          prospectId: link.prospectId,
          field: change.field,
          crmField: change.crmField,
          toSide: change.toSide,
          before: change.previous,
          after: change.value,
          reason: change.reason,
        });
      }
    }
  }
  preview.calls = calls();
  await countCalls(options, preview.calls);
  return preview;
}

/**
 * Queues the pairs a preview found the saved settings write to: the sync decides them again
 * under the new settings, within its budgets and batches and into the sync log.
 */
export async function applySettingsPreview(
  options: VerifyOptions,
  preview: SettingsPreview,
): Promise<number> {
  await queue.enqueue(
    options.database,
    options.unitId,
    preview.keys.map((key) => ({ key, priority: PRIORITY.change, payload: null })),
    options.now().toISOString(),
  );
  return preview.keys.length;
}
