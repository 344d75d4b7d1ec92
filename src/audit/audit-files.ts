// Where the audit lives and how its files rotate: `audit.jsonl` is written, `audit.1.jsonl` …
// `audit.N.jsonl` are older (N the oldest kept). Shared by the bridge's writer and `sentrail audit`.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { dirs } from '../config/paths.ts';
import type { AuditFileLines } from './record.ts';

export function auditDir(): string {
  return process.env.SENTRAIL_AUDIT_DIR || path.join(dirs.state(), 'audit');
}

export const CURRENT = 'audit.jsonl';
export const rotatedName = (n: number) => `audit.${n}.jsonl`;

/** The audit files, oldest first (the current one last). */
export function auditFiles(dir: string = auditDir()): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const rotated = names
    .map((n) => /^audit\.(\d+)\.jsonl$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a)
    .map((n) => path.join(dir, rotatedName(n)));
  return names.includes(CURRENT) ? [...rotated, path.join(dir, CURRENT)] : rotated;
}

export function readAuditFiles(dir: string = auditDir()): AuditFileLines[] {
  return auditFiles(dir).map((file) => {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // rotated away between the listing and the read
    }
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    return { file, lines };
  });
}
