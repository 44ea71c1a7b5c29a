import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { writePrivateFile } from '../store/private-files.js';

const savedSchema = z.record(z.string(), z.number());

/**
 * The console's live sessions, held on the server. The cookie is sealed, but a sealed cookie
 * alone stays valid until it expires, so a copy taken before logout would still work after
 * it: the cookie carries a session id, and only ids listed here are honoured. Logout, and
 * expiry, remove the id. With a file (the data dir's, private) the list survives a restart,
 * so a restart neither logs everyone out nor brings a logged-out cookie back.
 */
export class ConsoleSessions {
  private readonly live = new Map<string, number>();

  constructor(
    private readonly lifetimeMs: number,
    private readonly file?: string,
    private readonly now: () => number = Date.now,
  ) {
    if (!file) return;
    try {
      const saved = savedSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
      for (const [id, expires] of Object.entries(saved)) if (expires > this.now()) this.live.set(id, expires);
    } catch {
      // No file yet, or an unreadable one: nobody is logged in.
    }
  }

  /** A new session id, live until logout or its lifetime ends. */
  open(): string {
    this.forgetExpired();
    const id = randomBytes(18).toString('base64url');
    this.live.set(id, this.now() + this.lifetimeMs);
    this.save();
    return id;
  }

  isLive(id: unknown): boolean {
    if (typeof id !== 'string') return false;
    const expires = this.live.get(id);
    return expires !== undefined && expires > this.now();
  }

  close(id: unknown): void {
    if (typeof id === 'string' && this.live.delete(id)) this.save();
  }

  private forgetExpired(): void {
    const now = this.now();
    for (const [id, expires] of this.live) if (expires <= now) this.live.delete(id);
  }

  private save(): void {
    if (this.file) writePrivateFile(this.file, JSON.stringify(Object.fromEntries(this.live)));
  }
}
