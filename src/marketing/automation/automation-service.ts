import type { Logger } from 'pino';
import { RepeatedLog } from '../../log.js';
import type { Database } from '../../store/database.js';
import type { UnitOfWork } from '../../store/unit-of-work.js';
import type { BusinessUnitService } from '../business-units.js';
import { AUTOMATION_RULES } from '../collections/collection-defs.js';
import type { CollectionService } from '../collections/collection-service.js';
import { parseActions, parseConditions, type Action, type Condition } from '../domain/automation.js';
import type { BusinessUnit } from '../domain/business-unit.js';
import type { ProspectService } from '../prospect-service.js';
import { saveSetting, settingOrCreate } from '../store/unit-store.js';
import type { ActionRunner } from './action-runner.js';
import {
  saveRuleRun,
  selectChangedProspects,
  selectInactiveProspects,
  selectRuleRun,
} from './automation-store.js';
import { meetsAll } from './conditions.js';

interface Rule {
  id: number;
  name: string;
  conditions: Condition[];
  actions: Action[];
  matchType: 'all' | 'any';
  repeatable: boolean;
  updatedAt: string;
}

const PAGE = 500;

/**
 * Automation rules: each acts on every prospect that meets its conditions, once per prospect —
 * or, when repeatable, again each time the prospect comes to match after it stopped. Rules run
 * on change (a prospect written in this process is looked at moments after its commit) and on
 * a schedule, which looks at every prospect changed since the last pass (and at all of them
 * when a rule is new or edited), so writes of other processes and restarts are covered.
 */
export class AutomationService {
  private readonly pending = new Map<string, Set<number>>();
  private timer: NodeJS.Timeout | null = null;
  private soon: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  /** A pass that fails fails again next time: logged once a minute, counted. */
  private readonly repeatedLog: RepeatedLog;

  constructor(
    private readonly deps: {
      database: Database;
      units: BusinessUnitService;
      collections: CollectionService;
      prospects: ProspectService;
      actions: ActionRunner;
      unitOfWork: UnitOfWork;
      now: () => Date;
      log: Logger;
      /** The schedule: a pass over changed prospects this often. */
      intervalMs?: number;
    },
  ) {
    this.repeatedLog = new RepeatedLog(deps.log);
    deps.prospects.observe(async (write) => {
      if (write.kind === 'deleted') return;
      deps.unitOfWork.afterCommit(() => this.schedule(write.unit.id, write.prospectId));
    });
  }

  start(): void {
    this.stopped = false;
    const tick = () => {
      this.timer = setTimeout(() => {
        void this.runScheduled()
          .catch((error: unknown) =>
            this.repeatedLog.write(
              'error',
              (error as Error).message,
              { err: error },
              'automation pass failed',
            ),
          )
          .finally(() => {
            if (!this.stopped) tick();
          });
      }, this.deps.intervalMs ?? 60_000);
    };
    tick();
  }

  /** Looks at the prospect soon (its rules, after the current burst of writes). */
  schedule(unitId: string, prospectId: number): void {
    let ids = this.pending.get(unitId);
    if (!ids) this.pending.set(unitId, (ids = new Set()));
    ids.add(prospectId);
    if (!this.stopped && !this.soon)
      this.soon = setTimeout(() => {
        this.runPending().catch((error: unknown) =>
          this.deps.log.error({ err: error }, 'automation rules failed on changed prospects'),
        );
      }, 20);
  }

  /** Looks at every prospect scheduled so far. */
  async runPending(): Promise<void> {
    this.soon = null;
    if (this.running) {
      await this.running;
      if (this.pending.size > 0) return this.runPending();
      return;
    }
    // Stopped (the store may be closing): what is pending waits for the next start's schedule.
    if (this.stopped) return;
    this.running = (async () => {
      while (this.pending.size > 0) {
        const batch = [...this.pending.entries()];
        this.pending.clear();
        for (const [unitId, ids] of batch) {
          const unit = this.deps.units.get(unitId);
          if (!unit) continue;
          const rules = await this.rules(unit);
          if (rules.length === 0) continue;
          for (const id of ids) await this.evaluate(unit, id, rules);
        }
      }
    })().finally(() => {
      this.running = null;
    });
    await this.running;
  }

  /** The scheduled pass: every prospect changed since the last one, or all after a rule change. */
  async runScheduled(): Promise<void> {
    const db = this.deps.database.db;
    for (const unit of this.deps.units.list()) {
      const rules = await this.rules(unit);
      if (rules.length === 0) continue;
      const started = this.deps.now().toISOString();
      const key = `automation-pass:${unit.id}`;
      const last = await settingOrCreate(db, key, '');
      const rulesChanged = rules.some((r) => r.updatedAt > last);
      const since = last === '' || rulesChanged ? null : last;
      const seen = new Set<number>();
      await this.scan(
        (afterId) => selectChangedProspects(db, unit.id, since, afterId, PAGE),
        async (id) => {
          seen.add(id);
          await this.evaluate(unit, id, rules);
        },
      );
      // Inactivity comes with time, not with a change: those prospects are looked at too.
      const days = rules.flatMap((r) => r.conditions.flatMap((c) => (c.kind === 'inactive' ? [c.days] : [])));
      if (days.length > 0) {
        const before = new Date(this.deps.now().getTime() - Math.min(...days) * 86_400_000).toISOString();
        await this.scan(
          (afterId) => selectInactiveProspects(db, unit.id, before, afterId, PAGE),
          async (id) => {
            if (!seen.has(id)) await this.evaluate(unit, id, rules);
          },
        );
      }
      await saveSetting(db, key, started);
    }
  }

  /** Pages through ids (PAGE at a time, by id) and does `each` to every one. */
  private async scan(
    page: (afterId: number) => Promise<number[]>,
    each: (id: number) => Promise<void>,
  ): Promise<void> {
    for (let afterId = 0; ;) {
      const ids = await page(afterId);
      for (const id of ids) await each(id);
      if (ids.length < PAGE) return;
      afterId = ids[ids.length - 1]!;
    }
  }

  private async rules(unit: BusinessUnit): Promise<Rule[]> {
    const records = await this.deps.collections.query(AUTOMATION_RULES, {
      unitId: unit.id,
      deleted: 'false',
      where: [],
      afterId: 0,
      descending: false,
      limit: 1000,
    });
    return records
      .filter((r) => r.values.isPaused !== true)
      .map((r) => ({
        id: r.id,
        name: String(r.values.name),
        conditions: parseConditions(r.values.conditions),
        actions: parseActions(r.values.actions),
        matchType: r.values.matchType === 'any' ? 'any' : 'all',
        repeatable: r.values.isRepeatable === true,
        updatedAt: String(r.values.updatedAt),
      }));
  }

  private async evaluate(unit: BusinessUnit, prospectId: number, rules: Rule[]): Promise<void> {
    const { prospects, actions, unitOfWork } = this.deps;
    for (const rule of rules) {
      try {
        // One transaction per rule and prospect: a rule whose action fails (a deleted list)
        // leaves the others to act, and is tried again on the next pass.
        await unitOfWork.run(async (db) => {
          const prospect = await prospects.read(unit.id, prospectId);
          if (prospect.isDeleted) return;
          const matched = await meetsAll(db, prospect, rule.conditions, rule.matchType, this.deps.now());
          const run = await selectRuleRun(db, rule.id, prospectId);
          const act = matched && (!run || (rule.repeatable ? !run.matched : run.runs === 0));
          if (act) await actions.run(unit, prospectId, rule.actions, { ruleId: rule.id });
          if (act || run || matched)
            await saveRuleRun(db, {
              unitId: unit.id,
              ruleId: rule.id,
              prospectId,
              ran: act,
              matched,
              at: this.deps.now().toISOString(),
            });
        });
      } catch (error) {
        this.deps.log.warn({ err: error, rule: rule.id, prospectId }, 'automation rule failed on a prospect');
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.soon) clearTimeout(this.soon);
    await this.running;
  }
}
