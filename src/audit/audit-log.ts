// The bridge's audit writer: one JSON line per decision, appended synchronously (a line is on disk
// before the client sees the answer, and lines keep their order), 0600, rotated by size with a
// bounded number of old files, each line chained to the one before (record.ts). Written by hand:
// rotating-file-stream and pino's transports write asynchronously, and the chain must know the
// hash of exactly the line last written, across rotations and restarts.
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { auditDir, CURRENT, rotatedName } from './audit-files.ts';
import { auditLine, GENESIS, type AuditRecord } from './record.ts';

export const DEFAULT_MAX_BYTES = 1024 * 1024;
export const DEFAULT_KEEP = 4;

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export interface AuditLog {
  append(record: AuditRecord): void;
  readonly dir: string;
}

/** The last line of a file, read from its end (the file may be large). */
function lastLine(file: string): string | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    const lines = buf.toString('utf8').split('\n').filter((l) => l !== '');
    return lines.at(-1) ?? null;
  } finally {
    closeSync(fd);
  }
}

export function openAuditLog(opts: { dir?: string; maxBytes?: number; keep?: number } = {}): AuditLog {
  const dir = opts.dir ?? auditDir();
  const maxBytes = opts.maxBytes ?? (Number(process.env.SENTRAIL_AUDIT_MAX_BYTES) || DEFAULT_MAX_BYTES);
  const keep = opts.keep ?? DEFAULT_KEEP;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const current = path.join(dir, CURRENT);
  // The chain goes on from wherever the last writer stopped (the current file, else the newest rotated one).
  let prev = GENESIS;
  for (const file of [current, path.join(dir, rotatedName(1))]) {
    const last = lastLine(file);
    if (last !== null) {
      prev = sha256(last);
      break;
    }
  }
  // One descriptor, kept open (O_APPEND): a write is one syscall, not open + write + close.
  let fd = -1;
  let size = 0;
  const openCurrent = () => {
    fd = openSync(current, 'a', 0o600);
    // An older file may have been created under another umask.
    chmodSync(current, 0o600);
    size = fstatSync(fd).size;
  };
  openCurrent();

  const rotate = () => {
    closeSync(fd);
    rmSync(path.join(dir, rotatedName(keep)), { force: true });
    for (let n = keep - 1; n >= 1; n--) {
      const from = path.join(dir, rotatedName(n));
      if (existsSync(from)) renameSync(from, path.join(dir, rotatedName(n + 1)));
    }
    renameSync(current, path.join(dir, rotatedName(1)));
    openCurrent();
  };

  return {
    dir,
    append(record) {
      const line = auditLine(record, prev);
      const bytes = Buffer.byteLength(line) + 1;
      if (size > 0 && size + bytes > maxBytes) rotate();
      writeSync(fd, line + '\n');
      size += bytes;
      prev = sha256(line);
    },
  };
}
