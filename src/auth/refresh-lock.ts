// One refresh at a time per gate + resource, across every sentrail process of the user (five Claude
// Code sessions each run a bridge): with refresh-token rotation, two processes refreshing with the
// same refresh token would have the second one turned away (and may get the grant revoked).
//
// The lock is a file created exclusively (`open(…, 'wx')`) in the state dir, holding the holder's
// pid, the time it was taken and a random nonce. A holder that died leaves its file behind: after
// the TTL the file is stale and a waiter takes it over. Two waiters may decide that at the same
// moment, so the takeover moves the file aside under a name of its own (rename is atomic: only one
// of them gets it) and checks that what it moved is the stale file it saw; if it moved a fresh lock
// instead (taken meanwhile), it puts it back. Release removes the file only while it is still ours.
// No signals, no pid liveness checks: pids are recorded for people, which keeps this portable.
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { dirs, gateKey } from '../config/paths.ts';
import { accountKey } from './token-entry.ts';

export interface LockOptions {
  /** A lock older than this is taken over (its holder died or hung). */
  ttlMs?: number;
  /** How long to wait for the lock before giving up. */
  waitMs?: number;
  /** How often to look again while waiting. */
  pollMs?: number;
}

export interface HeldLock {
  readonly file: string;
  /** Removes the lock file if it is still ours; never throws. */
  release(): Promise<void>;
}

export class LockTimeoutError extends Error {
  constructor(readonly file: string, waitedMs: number) {
    super(`another sentrail process held the refresh lock ${file} for more than ${Math.round(waitedMs / 1000)} s`);
    this.name = 'LockTimeoutError';
  }
}

export const DEFAULT_LOCK_TTL_MS = 30_000;

/** The refresh lock of one gate + resource: `locks/refresh-<host>-<hash>.lock` in the state dir. */
export function refreshLockFile(gate: string, resource: string, stateDir: string = dirs.state()): string {
  return path.join(stateDir, 'locks', `refresh-${gateKey(accountKey(gate, resource))}.lock`);
}

interface LockContent {
  pid: number;
  at: number;
  nonce: string;
}

const code = (err: unknown) => (err as NodeJS.ErrnoException).code;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function tryCreate(file: string, content: LockContent): Promise<boolean> {
  let handle;
  try {
    handle = await open(file, 'wx', 0o600);
  } catch (err) {
    if (code(err) === 'EEXIST') return false;
    throw err;
  }
  try {
    await handle.writeFile(JSON.stringify(content));
  } finally {
    await handle.close();
  }
  return true;
}

/** The lock's text and its age; null when there is no lock file. */
async function inspect(file: string): Promise<{ text: string; ageMs: number } | null> {
  try {
    const text = await readFile(file, 'utf8');
    let at = NaN;
    try {
      at = (JSON.parse(text) as Partial<LockContent>).at ?? NaN;
    } catch {
      // written but not yet filled (its holder is between open and write), or damaged
    }
    if (!Number.isFinite(at)) at = (await stat(file)).mtimeMs;
    return { text, ageMs: Date.now() - at };
  } catch (err) {
    if (code(err) === 'ENOENT') return null;
    throw err;
  }
}

/** Moves a stale lock out of the way, unless it changed since it was seen as stale. */
async function takeOver(file: string, staleText: string, nonce: string): Promise<void> {
  const aside = `${file}.${nonce}.stale`;
  try {
    await rename(file, aside);
  } catch (err) {
    if (code(err) === 'ENOENT') return; // another waiter moved it first
    throw err;
  }
  const moved = await readFile(aside, 'utf8').catch(() => staleText);
  if (moved !== staleText) {
    // A fresh lock, taken after we looked: give it back. link() fails when the name is taken
    // again already; then that newer lock stands and the one we moved is lost to its holder,
    // whose release() will see the file is not its own.
    await link(aside, file).catch(() => {});
  }
  await unlink(aside).catch(() => {});
}

/** Waits for the lock file `file` (its folder is created); throws LockTimeoutError after `waitMs`. */
export async function acquireLock(file: string, opts: LockOptions = {}): Promise<HeldLock> {
  const ttlMs = opts.ttlMs ?? DEFAULT_LOCK_TTL_MS;
  const waitMs = opts.waitMs ?? ttlMs + 10_000;
  const pollMs = opts.pollMs ?? 50;
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const nonce = randomBytes(8).toString('hex');
  const content: LockContent = { pid: process.pid, at: Date.now(), nonce };
  const started = Date.now();
  for (;;) {
    content.at = Date.now();
    if (await tryCreate(file, content)) break;
    const seen = await inspect(file);
    if (seen && seen.ageMs > ttlMs) {
      await takeOver(file, seen.text, nonce);
      continue;
    }
    if (Date.now() - started > waitMs) throw new LockTimeoutError(file, Date.now() - started);
    // A little jitter keeps waiters that started together from polling in lockstep.
    await sleep(pollMs + Math.floor(Math.random() * pollMs));
  }
  const mine = JSON.stringify(content);
  return {
    file,
    async release() {
      try {
        if ((await readFile(file, 'utf8')) === mine) await unlink(file);
      } catch {
        // gone already, or not ours: nothing to release
      }
    },
  };
}

/** Runs `fn` holding the lock; the lock is released whether `fn` succeeds or throws. */
export async function withLock<T>(file: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const lock = await acquireLock(file, opts);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
