// The log: one line per event to stderr and to a file (a stdio server's stdout is the protocol,
// so nothing here ever writes to it). The file is 0600, size-capped, rotated once (`.1`).
import { appendFileSync, chmodSync, mkdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { Redactor } from './redact.ts';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface Logger {
  error(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
  readonly redactor: Redactor;
  readonly file: string | null;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where to append; null for stderr only. */
  file?: string | null;
  /** Rotate when the file would pass this size. */
  maxBytes?: number;
  stderr?: NodeJS.WritableStream | null;
  name?: string;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = RANK[opts.level ?? 'info'];
  const redactor = new Redactor();
  const file = opts.file ?? null;
  const maxBytes = opts.maxBytes ?? 5 * 1024 * 1024;
  const stderr = opts.stderr === undefined ? process.stderr : opts.stderr;
  const name = opts.name ?? 'sentrail';
  let size = 0;
  let fileOk = file !== null;
  if (file) {
    try {
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      try {
        size = statSync(file).size;
      } catch {
        size = 0;
      }
      appendFileSync(file, '', { mode: 0o600 });
      chmodSync(file, 0o600);
    } catch (err) {
      fileOk = false;
      stderr?.write(`${name}: cannot write the log file ${file}: ${(err as Error).message}\n`);
    }
  }
  const write = (lvl: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (RANK[lvl] > level) return;
    let extra = '';
    if (fields && Object.keys(fields).length > 0) {
      try {
        extra = ' ' + JSON.stringify(fields);
      } catch {
        extra = ' [unserializable fields]';
      }
    }
    const line = redactor.redact(`${message}${extra}`).replace(/\n/g, '\\n');
    stderr?.write(`${name}: ${lvl === 'info' ? '' : `${lvl}: `}${line}\n`);
    if (!fileOk || !file) return;
    const record = `${new Date().toISOString()} ${lvl.toUpperCase()} ${line}\n`;
    try {
      if (size + record.length > maxBytes) {
        renameSync(file, `${file}.1`);
        size = 0;
      }
      appendFileSync(file, record, { mode: 0o600 });
      size += Buffer.byteLength(record);
    } catch {
      fileOk = false;
    }
  };
  return {
    error: (m, f) => write('error', m, f),
    warn: (m, f) => write('warn', m, f),
    info: (m, f) => write('info', m, f),
    debug: (m, f) => write('debug', m, f),
    redactor,
    file: fileOk ? file : null,
  };
}
