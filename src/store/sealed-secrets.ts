import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePrivateFile } from './private-files.js';

/**
 * Secrets in configuration (client secrets, passwords, refresh tokens) are kept encrypted at
 * rest: `enc:v1:…` values are AES-256-GCM under a key that lives apart from the configuration —
 * `HANDOFF_SECRET_KEY` (64 hex characters) or, failing that, `secret.key` in the data dir (made
 * on first use, readable by its owner only). `env:NAME` takes the secret from the environment
 * instead, for hosts whose secret store injects variables. Plain values still work.
 */
const PREFIX = 'enc:v1:';

export class SecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretError';
  }
}

/** The key: from the environment, or the data dir's key file (made when `create` says so). */
export function secretKey(dataDir: string, create = false): Buffer {
  const fromEnv = process.env.HANDOFF_SECRET_KEY;
  if (fromEnv) {
    if (!/^[0-9a-fA-F]{64}$/.test(fromEnv))
      throw new SecretError('HANDOFF_SECRET_KEY must be 64 hex characters (32 bytes)');
    return Buffer.from(fromEnv, 'hex');
  }
  const file = join(dataDir, 'secret.key');
  if (!existsSync(file)) {
    if (!create) throw new SecretError(`no secret key: set HANDOFF_SECRET_KEY or keep ${file}`);
    writePrivateFile(file, `${randomBytes(32).toString('hex')}\n`);
  }
  const hex = readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new SecretError(`${file} does not hold a 32-byte hex key`);
  return Buffer.from(hex, 'hex');
}

export function encryptSecret(plain: string, key: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return `${PREFIX}${[iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url')).join('.')}`;
}

/** A configured value as usable: decrypted, read from the environment, or as written. */
export function resolveSecret(value: string, key: () => Buffer): string {
  if (value.startsWith('env:')) {
    const name = value.slice(4);
    const found = process.env[name];
    if (found === undefined) throw new SecretError(`the environment variable ${name} is not set`);
    return found;
  }
  if (!value.startsWith(PREFIX)) return value;
  const parts = value.slice(PREFIX.length).split('.');
  if (parts.length !== 3) throw new SecretError('a malformed enc:v1 secret');
  const [iv, tag, body] = parts.map((p) => Buffer.from(p, 'base64url')) as [Buffer, Buffer, Buffer];
  try {
    const decipher = createDecipheriv('aes-256-gcm', key(), iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch (error) {
    if (error instanceof SecretError) throw error;
    throw new SecretError('an enc:v1 secret does not decrypt with this key (was it encrypted with another?)');
  }
}
