// The approvals' durable store: one JSON file per request in `<state folder>/approvals/`, so the
// requests survive a restart of the gate (and its kill -9).
//
// - Every write is atomic: a temp file in the same folder, fsync'd, renamed over the record, then
//   the folder fsync'd (where the platform allows). A kill at any point leaves the old record or
//   the new one, never half of one; a stray temp file is ignored (and removed at open).
// - Every transition is one transaction on one record: under the record's lock, read it, check
//   the move, write it. The lock is a file (src/auth/refresh-lock.ts: exclusive create, taken over
//   when stale), so gates sharing the folder (two ports, one state folder) share it safely: of
//   concurrent decisions, wherever they come from, one wins, and so one replay runs.
// - A record left `approved` by a gate that died while replaying it is failed
//   (`replay_interrupted`) when next read: the call may or may not have run, and running it again
//   could do it twice. The replaying process is known by pid and a per-process nonce (a restarted
//   gate may get the same pid, in a container always).
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { acquireLock, LockTimeoutError } from '../auth/refresh-lock.ts';
import {
  APPROVAL_TTL_MS,
  applyDecision,
  applyOutcome,
  asOf,
  newRecord,
  sortNewestFirst,
  type ApprovalOutcome,
  type ApprovalRecord,
  type ApprovalStore,
} from './approvals.ts';

/** This process, as recorded in the records it replays. */
export const PROCESS_NONCE = randomBytes(8).toString('hex');

/** A transition holds its lock for milliseconds: one older than this belongs to a dead process. */
const LOCK_TTL_MS = 10_000;
/** A temp file this old is a write that was cut short, not one under way. */
const STALE_TEMP_MS = 60_000;
/** Ids are the gate's own UUIDs; anything else never names a file (no path tricks through an id). */
const ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class ApprovalStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApprovalStoreError';
  }
}

export interface FileStoreOptions {
  /** The gate's state folder; records go to its `approvals/`. */
  stateDir: string;
  ttlMs?: number;
  now?: () => number;
  log: { warn(m: string): void };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Approved, and nobody is replaying it any more. */
function orphaned(r: ApprovalRecord): boolean {
  if (r.status !== 'approved') return false;
  if (r.replayingNonce === PROCESS_NONCE) return false;
  return r.replayingPid === undefined || r.replayingPid === process.pid || !alive(r.replayingPid);
}

async function fsyncDir(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Windows cannot open a folder for fsync; the rename is durable enough there
  } finally {
    await handle?.close();
  }
}

export async function openFileApprovalStore(opts: FileStoreOptions): Promise<ApprovalStore> {
  const dir = path.join(opts.stateDir, 'approvals');
  const locks = path.join(dir, 'locks');
  const now = opts.now ?? Date.now;
  const ttl = opts.ttlMs ?? APPROVAL_TTL_MS;
  try {
    await mkdir(locks, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new ApprovalStoreError(`cannot create the approvals folder ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const fileOf = (id: string) => path.join(dir, `${id}.json`);
  let writes = 0;
  // A folder the gate can read but not write would fail every deferred call later: find out now.
  const probe = path.join(dir, `.probe.${process.pid}.tmp`);
  try {
    await (await open(probe, 'w', 0o600)).close();
    await rm(probe, { force: true });
  } catch (err) {
    throw new ApprovalStoreError(`cannot write in the approvals folder ${dir}: ${(err as Error).message}`, { cause: err });
  }
  // Temp files of writes cut short (a kill -9): never a record, safe to remove once nobody writes
  // them. A minute old at least: a gate sharing the folder may be between its write and its rename.
  for (const name of await readdir(dir)) {
    if (!name.endsWith('.tmp')) continue;
    const file = path.join(dir, name);
    const age = await stat(file).then((st) => Date.now() - st.mtimeMs, () => 0);
    if (age > STALE_TEMP_MS) await rm(file, { force: true }).catch(() => undefined);
  }


  async function write(record: ApprovalRecord): Promise<void> {
    const tmp = path.join(dir, `.${record.id}.${process.pid}.${++writes}.tmp`);
    const handle = await open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(JSON.stringify(record, null, 2) + '\n');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, fileOf(record.id));
    await fsyncDir(dir);
  }

  async function read(id: string): Promise<ApprovalRecord | undefined> {
    if (!ID_PATTERN.test(id)) return undefined;
    let text: string;
    try {
      text = await readFile(fileOf(id), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      return JSON.parse(text) as ApprovalRecord;
    } catch {
      // Not a torn write (those cannot happen): someone edited it by hand. Reported, not served.
      opts.log.warn(`approval store: ${fileOf(id)} is not valid JSON; ignored`);
      return undefined;
    }
  }

  // In-process: transitions on one record queue up here rather than polling the lock file.
  const queues = new Map<string, Promise<unknown>>();
  function transact(id: string, change: (current: ApprovalRecord | undefined) => ApprovalRecord): Promise<ApprovalRecord> {
    // Not one of our ids: no such record (the change says so), and no lock file named after it.
    if (!ID_PATTERN.test(id)) return Promise.resolve().then(() => change(undefined));
    const previous = queues.get(id) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(async () => {
      let lock;
      try {
        lock = await acquireLock(path.join(locks, `${id}.lock`), { ttlMs: LOCK_TTL_MS, waitMs: LOCK_TTL_MS + 5000, pollMs: 20 });
      } catch (err) {
        if (err instanceof LockTimeoutError) throw new ApprovalStoreError(`approval ${id} stayed locked by another gate for over ${LOCK_TTL_MS / 1000} s`, { cause: err });
        throw err;
      }
      try {
        const next = change(await read(id));
        await write(next);
        return next;
      } finally {
        await lock.release();
      }
    });
    queues.set(id, run);
    void run.finally(() => {
      if (queues.get(id) === run) queues.delete(id);
    }).catch(() => undefined);
    return run;
  }

  /** The record as it reads now; an orphaned replay is failed (and stored so) on the way. */
  async function current(r: ApprovalRecord): Promise<ApprovalRecord> {
    if (!orphaned(r)) return asOf(r, now());
    const outcome: ApprovalOutcome = { error: { reason: 'replay_interrupted', message: 'The gate replaying this approved call stopped before its outcome was stored; it may or may not have run, so it is not run again' } };
    try {
      return await transact(r.id, (latest) => (latest && orphaned(latest) ? applyOutcome(latest, r.id, now(), outcome) : latest ?? r));
    } catch {
      return asOf(r, now());
    }
  }

  return {
    async create(call, why) {
      const record = newRecord(call, why, now(), ttl);
      await write(record);
      return record;
    },
    async get(id) {
      const r = await read(id);
      return r && current(r);
    },
    async list() {
      const names = (await readdir(dir)).filter((n) => n.endsWith('.json') && ID_PATTERN.test(n.slice(0, -5)));
      const records = await Promise.all(names.map((n) => read(n.slice(0, -5))));
      return sortNewestFirst(await Promise.all(records.filter((r): r is ApprovalRecord => r !== undefined).map(current)));
    },
    decide(id, decision, by, reason) {
      return transact(id, (r) => ({ ...applyDecision(r, id, now(), decision, by, reason), ...(decision === 'approved' ? { replayingNonce: PROCESS_NONCE } : {}) }));
    },
    recordOutcome(id, outcome) {
      return transact(id, (r) => applyOutcome(r, id, now(), outcome));
    },
    async close() {
      await Promise.allSettled([...queues.values()]);
    },
  };
}
