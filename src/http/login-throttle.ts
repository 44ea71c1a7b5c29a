/** Wrong passwords a username may be given in a window before its logins are refused. */
export const MAX_LOGIN_FAILURES = 10;
/** The window, and how long a locked username waits from its first failure in it. */
export const LOGIN_WINDOW_MS = 15 * 60_000;
/** Usernames remembered at most: a flood of made-up names cannot grow memory without bound. */
const MAX_TRACKED = 10_000;

interface Failures {
  count: number;
  since: number;
}

/** Whether a login may be tried now, and if not, from when. */
export type LoginGate = { allowed: true } | { allowed: false; retryAt: Date };

/**
 * Lockout after repeated wrong passwords, counted per username (not per address, which any
 * other process on the same host shares, and which an attacker changes at will). A locked
 * username is refused, right password or not, until the window that locked it ends; the
 * answer says when. One instance per login surface (CRM OAuth and SOAP share theirs, since
 * they log in the same users).
 */
export class LoginThrottle {
  private readonly failures = new Map<string, Failures>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxFailures = MAX_LOGIN_FAILURES,
    private readonly windowMs = LOGIN_WINDOW_MS,
  ) {}

  /** Checked before the password is: a locked username is refused without trying it. */
  check(username: string): LoginGate {
    const seen = this.current(username);
    if (seen && seen.count >= this.maxFailures)
      return { allowed: false, retryAt: new Date(seen.since + this.windowMs) };
    return { allowed: true };
  }

  failed(username: string): void {
    const key = normalize(username);
    const seen = this.current(username);
    if (!seen && this.failures.size >= MAX_TRACKED) this.forgetExpired();
    if (!seen && this.failures.size >= MAX_TRACKED) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
    this.failures.set(
      key,
      seen ? { count: seen.count + 1, since: seen.since } : { count: 1, since: this.now() },
    );
  }

  succeeded(username: string): void {
    this.failures.delete(normalize(username));
  }

  private current(username: string): Failures | undefined {
    const seen = this.failures.get(normalize(username));
    if (seen && this.now() - seen.since >= this.windowMs) {
      this.failures.delete(normalize(username));
      return undefined;
    }
    return seen;
  }

  private forgetExpired(): void {
    const now = this.now();
    for (const [key, seen] of this.failures) if (now - seen.since >= this.windowMs) this.failures.delete(key);
  }
}

/** Usernames are matched without regard to case, as logins are. */
function normalize(username: string): string {
  return username.trim().toLowerCase();
}

/** "try again after 2026-12-06T10:15:00.000Z", for the error a locked login gets. */
export function lockedMessage(retryAt: Date): string {
  return `Too many failed logins for this user: try again after ${retryAt.toISOString()}`;
}
