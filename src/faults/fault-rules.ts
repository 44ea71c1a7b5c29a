import { z } from 'zod';

/**
 * What a fault does to a matching request. These three every service shares; each service adds
 * the error answers its real counterpart gives (see `faultRuleSchema`).
 */
export const COMMON_FAULT_KINDS = [
  'latency', // the request is served after `latencyMs`
  'drop', // the connection is closed before anything is applied
  'lost-answer', // the request is applied, then the connection is closed instead of answering
] as const;

export type CommonFaultKind = (typeof COMMON_FAULT_KINDS)[number];

/** The schema of a fault rule for a service whose own error faults are `errorKinds`. */
export function faultRuleSchema<K extends string>(errorKinds: readonly K[]) {
  return z.object({
    /** `METHOD /path/pattern`: `*` matches one path segment, `**` any number; method `*` matches all. */
    route: z.string().regex(/^(\*|[A-Z]+) \/\S*$/, 'route looks like "POST /services/data/*/sobjects/Lead"'),
    fault: z.enum([...COMMON_FAULT_KINDS, ...errorKinds] as [
      CommonFaultKind | K,
      ...(CommonFaultKind | K)[],
    ]),
    probability: z.number().min(0).max(1).default(1),
    /** How many times it may fire; unlimited when absent. */
    times: z.number().int().min(1).optional(),
    latencyMs: z.number().int().min(0).max(120_000).default(0),
  });
}

export interface FaultRuleConfig<K extends string = string> {
  route: string;
  /**
   * Whose requests it may fault: a rule added at run time by a business unit's administrator
   * faults that unit's requests only. Absent (the operator's own config): every request.
   */
  scope?: string;
  fault: CommonFaultKind | K;
  probability: number;
  times?: number;
  latencyMs: number;
}

export interface FaultRule<K extends string = string> extends FaultRuleConfig<K> {
  id: number;
  fired: number;
}

function routeMatcher(route: string): (method: string, path: string) => boolean {
  const [method = '*', pattern = '/'] = route.split(' ');
  const source = pattern
    .split('/')
    .map((segment) =>
      segment === '**'
        ? '.*'
        : segment
            .split('*')
            .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
            .join('[^/]*'),
    )
    .join('/');
  const regex = new RegExp(`^${source}$`);
  return (m, path) => (method === '*' || method === m.toUpperCase()) && regex.test(path);
}

/**
 * The active fault rules and the choice of which, if any, applies to a request. The first
 * matching rule that is still allowed to fire and wins its dice roll is the fault.
 */
export class FaultInjector<K extends string = string> {
  private rules: Array<FaultRule<K> & { matches: (method: string, path: string) => boolean }> = [];
  private nextId = 1;

  constructor(
    readonly schema: z.ZodType<FaultRuleConfig<K>, unknown>,
    private readonly random: () => number = Math.random,
  ) {}

  add(input: unknown, scope?: string): FaultRule<K> {
    const config = this.schema.parse(input);
    const rule = {
      ...config,
      ...(scope === undefined ? {} : { scope }),
      id: this.nextId++,
      fired: 0,
      matches: routeMatcher(config.route),
    };
    this.rules.push(rule);
    return this.view(rule);
  }

  /** Removes a rule; with a scope, only one of that scope's. */
  remove(id: number, scope?: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((r) => r.id !== id || !inScope(r, scope));
    return this.rules.length !== before;
  }

  /** Removes every rule; with a scope, every one of that scope's. */
  clear(scope?: string): void {
    this.rules = scope === undefined ? [] : this.rules.filter((r) => !inScope(r, scope));
  }

  /** False when no rule is set: the request path then pays nothing for fault injection. */
  get active(): boolean {
    return this.rules.length > 0;
  }

  /** The rules; with a scope, that scope's only. */
  list(scope?: string): FaultRule<K>[] {
    return this.rules.filter((r) => inScope(r, scope)).map((r) => this.view(r));
  }

  private view(rule: FaultRule<K>): FaultRule<K> {
    const { id, route, fault, probability, times, latencyMs, fired, scope } = rule;
    return {
      id,
      route,
      fault,
      probability,
      latencyMs,
      fired,
      ...(times === undefined ? {} : { times }),
      ...(scope === undefined ? {} : { scope }),
    };
  }

  /**
   * The fault for this request, counted as fired, or null. `scope` is the request's own (its
   * business unit): a scoped rule faults only requests of its scope.
   */
  pick(method: string, path: string, scope?: string): FaultRule<K> | null {
    if (this.rules.length === 0) return null;
    for (const rule of this.rules) {
      if (rule.scope !== undefined && rule.scope !== scope) continue;
      if (rule.times !== undefined && rule.fired >= rule.times) continue;
      if (!rule.matches(method, path)) continue;
      if (this.random() >= rule.probability) continue;
      rule.fired++;
      return this.view(rule);
    }
    return null;
  }
}

/** Whether a rule belongs to a scope (every rule, when no scope is asked for). */
function inScope(rule: { scope?: string }, scope: string | undefined): boolean {
  return scope === undefined || rule.scope === scope;
}
