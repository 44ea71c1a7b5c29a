import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { DifferenceClass } from '../domain/pair-difference.js';
import { saveVerifyRun, selectVerifyRuns } from '../store/verify-store.js';
import { claimLease } from '../store/work-queue.js';
import { verifyPairs, type VerifyOptions, type VerifyResult } from './verify-pairs.js';
import { repairDifferences, type RepairResult } from './verify-repair.js';
import { countCalls } from './api-calls.js';

/** Which differences a repair settles: all, or those of one class or one field (`Lead.jobTitle`). */
export type RepairScope = boolean | { class?: DifferenceClass; field?: string };

/**
 * One verify, repaired as asked (all it found, or one class or field of it), and kept in the
 * store with its counts and first differences for the console's list and trend.
 */
export async function verifyAndRecord(
  options: VerifyOptions,
  repair: RepairScope = false,
): Promise<VerifyResult & { repair?: RepairResult }> {
  const verified = await verifyPairs(options);
  let repaired: RepairResult | undefined;
  if (repair) {
    const scope = repair === true ? {} : repair;
    const chosen = verified.differences.filter(
      (d) =>
        (!scope.class || d.class === scope.class) &&
        (!scope.field || `${d.crmObject}.${d.field ?? '*'}` === scope.field),
    );
    repaired = await repairDifferences(options, { ...verified, differences: chosen });
  }
  await countCalls(options, verified.calls);
  await saveVerifyRun(options.database.db, options.unitId, {
    startedAt: verified.startedAt,
    finishedAt: options.now().toISOString(),
    pairs: verified.pairs,
    byClass: verified.byClass,
    byField: verified.byField,
    calls: verified.calls,
    ...(repaired ? { repair: repaired } : {}),
    differences: verified.differences,
  });
  return repaired ? { ...verified, repair: repaired } : verified;
}

/**
 * Runs a verify every `everyMs` (`connector.verify.everyHours`): checked every five minutes,
 * run when the unit's last run is older than that, by one process of a deployment at a time
 * (a lease in the store).
 */
export class VerifySchedule {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private readonly owner = `verify:${randomUUID().slice(0, 8)}`;

  constructor(
    private readonly options: VerifyOptions & {
      everyMs: number;
      repair: boolean;
      log: Logger;
      /** How often the schedule looks (default every five minutes, or `everyMs` if shorter). */
      checkMs?: number;
    },
  ) {}

  start(): void {
    if (this.timer) return;
    const checkMs = this.options.checkMs ?? Math.min(300_000, this.options.everyMs);
    this.timer = setInterval(() => void this.check(), checkMs);
    this.timer.unref();
    void this.check();
  }

  /** Runs a verify if one is due; resolves once it (or a running one) is done. */
  check(): Promise<void> {
    this.running ??= this.runIfDue().finally(() => (this.running = null));
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  private async runIfDue(): Promise<void> {
    const { database, unitId, now, everyMs, log } = this.options;
    try {
      const [last] = await selectVerifyRuns(database.db, unitId, 1);
      const at = now();
      if (last && at.getTime() - Date.parse(last.startedAt) < everyMs) return;
      const until = new Date(at.getTime() + 3_600_000).toISOString();
      if (!(await claimLease(database, `${unitId}:verify`, this.owner, at.toISOString(), until))) return;
      const result = await verifyAndRecord(this.options, this.options.repair);
      log.info(
        { pairs: result.pairs, differences: result.differences.length, repair: result.repair },
        'scheduled verify done',
      );
    } catch (error) {
      log.warn({ err: error }, 'scheduled verify failed');
    }
  }
}
