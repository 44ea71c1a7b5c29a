import { chmodSync, closeSync, mkdirSync, openSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The data directory and everything in it hold customer data and secrets: owner-only, whatever
 * the process's umask. A directory that already exists is made private too (an older data dir
 * made world-readable is closed on the next start).
 */
export function makePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/** Creates the file owner-only if it is missing, and makes it owner-only if it is not. */
export function touchPrivateFile(file: string): void {
  makePrivateDir(dirname(file));
  closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
}

/** Writes a file owner-only, all at once (a reader never sees half of it). */
export function writePrivateFile(file: string, text: string): void {
  makePrivateDir(dirname(file));
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, file);
}
