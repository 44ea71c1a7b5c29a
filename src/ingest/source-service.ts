import { createHash, randomBytes } from 'node:crypto';
import type { Database } from '../store/database.js';
import { destinationSettingsSchema, type DestinationSettings, type Source } from './domain/source.js';
import * as store from './store/ingest-store.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A Segment-style write key: 32 letters and digits. */
export function newWriteKey(): string {
  const bytes = randomBytes(32);
  let key = '';
  for (const byte of bytes) key += ALPHABET[byte % ALPHABET.length];
  return key;
}

/** How long sources read from the store are trusted before being read again. */
const CACHE_MS = 5_000;

function hashKey(writeKey: string): string {
  return createHash('sha256').update(writeKey).digest('hex');
}

export class SourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceError';
  }
}

/**
 * Ingest sources and their write keys. Keys are stored hashed (sha256: they are long random
 * secrets, so a slow hash buys nothing) and shown only when made. Lookups are cached; a key
 * not in the cache is looked for in the store, so sources made by the CLI work at once.
 */
export class SourceService {
  private byHash = new Map<string, Source>();
  private loadedAt = 0;

  constructor(
    private readonly database: Database,
    private readonly now: () => Date,
  ) {}

  async list(): Promise<Source[]> {
    return (await store.selectSources(this.database.db)).map(({ writeKeyHash: _hash, ...source }) => source);
  }

  async get(idOrName: string): Promise<Source> {
    const found = (await this.list()).find((s) => s.id === idOrName || s.name === idOrName);
    if (!found) throw new SourceError(`no source ${idOrName}`);
    return found;
  }

  async create(
    name: string,
    settings: Partial<DestinationSettings> = {},
  ): Promise<{ source: Source; writeKey: string }> {
    if (name.trim() === '') throw new SourceError('a source needs a name');
    if ((await this.list()).some((s) => s.name === name))
      throw new SourceError(`a source named ${name} exists`);
    const parsed = destinationSettingsSchema.safeParse(settings);
    if (!parsed.success)
      throw new SourceError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    const source: Source = {
      id: `src_${randomBytes(9).toString('base64url')}`,
      name,
      settings: parsed.data,
      createdAt: this.now().toISOString(),
    };
    const writeKey = newWriteKey();
    await store.insertSource(this.database.db, source, hashKey(writeKey));
    this.invalidate();
    return { source, writeKey };
  }

  /** A source with a known write key (the demo's, kept in credentials.json), made if missing. */
  async ensure(name: string, writeKey: string, settings: Partial<DestinationSettings> = {}): Promise<Source> {
    const existing = (await this.list()).find((s) => s.name === name);
    if (existing) return existing;
    const { source } = await this.create(name, settings);
    await store.updateSourceKey(this.database.db, source.id, hashKey(writeKey));
    this.invalidate();
    return source;
  }

  /** A new write key for the source; the old one stops working at once. */
  async rotate(idOrName: string): Promise<string> {
    const source = await this.get(idOrName);
    const writeKey = newWriteKey();
    await store.updateSourceKey(this.database.db, source.id, hashKey(writeKey));
    this.invalidate();
    return writeKey;
  }

  async configure(idOrName: string, settings: Partial<DestinationSettings>): Promise<Source> {
    const source = await this.get(idOrName);
    const parsed = destinationSettingsSchema.safeParse({ ...source.settings, ...settings });
    if (!parsed.success)
      throw new SourceError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    await store.updateSourceSettings(this.database.db, source.id, parsed.data);
    this.invalidate();
    return { ...source, settings: parsed.data };
  }

  async remove(idOrName: string): Promise<void> {
    const source = await this.get(idOrName);
    await store.deleteSource(this.database.db, source.id);
    this.invalidate();
  }

  /** The source a write key belongs to, or undefined. */
  async authenticate(writeKey: string): Promise<Source | undefined> {
    const hash = hashKey(writeKey);
    // The cache is trusted for a few seconds: a key rotated or a source removed by the CLI (another
    // process) stops working within that time.
    if (Date.now() - this.loadedAt > CACHE_MS) await this.reload();
    const cached = this.byHash.get(hash);
    if (cached) return cached;
    // Unknown key: reload, at most once a second, so a flood of bad keys cannot hammer the store.
    if (Date.now() - this.loadedAt < 1_000) return undefined;
    await this.reload();
    return this.byHash.get(hash);
  }

  /** By id, from the cache (delivery reads settings per event). */
  async byId(id: string): Promise<Source | undefined> {
    if (Date.now() - this.loadedAt > CACHE_MS) await this.reload();
    for (const source of this.byHash.values()) if (source.id === id) return source;
    await this.reload();
    for (const source of this.byHash.values()) if (source.id === id) return source;
    return undefined;
  }

  private async reload(): Promise<void> {
    const next = new Map<string, Source>();
    for (const { writeKeyHash, ...source } of await store.selectSources(this.database.db))
      next.set(writeKeyHash, source);
    this.byHash = next;
    this.loadedAt = Date.now();
  }

  private invalidate(): void {
    this.byHash = new Map();
    this.loadedAt = 0;
  }
}
