// `sentrail audit [--since 1h] [--decision D] [--tool GLOB] [--json] [--follow]` and `sentrail
// audit verify`: the bridge's local audit (docs/bridge.md, "Audit"), read back as a table or as
// JSON lines, followed like `tail -f`, and its hash chain checked.
import { statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { auditDir, CURRENT, readAuditFiles } from '../audit/audit-files.ts';
import { sha256 } from '../audit/audit-log.ts';
import { verifyChain, type AuditRecord } from '../audit/record.ts';
import { matchesPattern, parsePattern } from '../policy/pattern.ts';
import { usageError } from './errors.ts';
import { ExitCode } from './exit-codes.ts';
import { createTerminal } from './terminal.ts';

export interface AuditOptions {
  what?: string;
  since?: string;
  decision?: string;
  tool?: string;
  json?: boolean;
  follow?: boolean;
}

const DECISIONS = ['allow', 'block', 'require_approval', 'fail_closed', 'error'];
const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `15m`, `1h`, `2d`, or a date; the earliest time to show. */
export function parseSince(text: string, now = Date.now()): number {
  const m = /^(\d+(?:\.\d+)?)([smhd])$/.exec(text.trim());
  if (m) return now - Number(m[1]) * UNITS[m[2]!]!;
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw usageError(`--since ${text}: not a duration (30s, 15m, 1h, 2d) or a date (2026-12-01, 2026-12-01T09:00Z)`);
  return t;
}

function filterFor(opts: AuditOptions): (r: AuditRecord) => boolean {
  const since = opts.since ? parseSince(opts.since) : null;
  if (opts.decision && !DECISIONS.includes(opts.decision)) throw usageError(`--decision ${opts.decision}: must be one of ${DECISIONS.join(', ')}`);
  const tool = opts.tool ? parsePattern(opts.tool) : null;
  return (r) => (since === null || Date.parse(r.time) >= since) && (!opts.decision || r.decision === opts.decision) && (!tool || matchesPattern(tool, r.tool));
}

function parseLine(line: string): AuditRecord | null {
  try {
    return JSON.parse(line) as AuditRecord;
  } catch {
    return null; // `audit verify` names it; the listing skips it
  }
}

const COLUMNS: [string, (r: AuditRecord) => string][] = [
  ['TIME', (r) => r.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z')],
  ['DECISION', (r) => r.decision],
  ['BY', (r) => r.source],
  ['TOOL', (r) => r.tool],
  ['AGENT', (r) => r.agent],
  ['POLICY', (r) => r.policy ?? ''],
  ['APPROVAL', (r) => (r.approvalId ? `${r.approvalId}${r.outcome ? ` (${r.outcome})` : ''}` : r.outcome ?? '')],
  ['MS', (r) => String(r.latencyMs)],
];

function table(records: AuditRecord[]): string {
  const rows = records.map((r) => COLUMNS.map(([, get]) => get(r)));
  const widths = COLUMNS.map(([h], i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [fmt(COLUMNS.map(([h]) => h)), ...rows.map(fmt)].join('\n');
}

export async function runAudit(opts: AuditOptions): Promise<number> {
  if (opts.what === 'verify') return verify(opts);
  if (opts.what !== undefined) throw usageError(`unknown audit command: ${opts.what} (did you mean: sentrail audit verify?)`);
  const keep = filterFor(opts);
  const records = readAuditFiles().flatMap((f) => f.lines.map(parseLine)).filter((r): r is AuditRecord => r !== null && keep(r));
  const c = createTerminal(process.stdout).color;
  if (opts.json) for (const r of records) process.stdout.write(JSON.stringify(r) + '\n');
  else if (records.length > 0 || opts.follow) process.stdout.write(table(records) + '\n');
  else process.stdout.write(c.dim(`no audit lines${opts.since || opts.decision || opts.tool ? ' match' : ` yet in ${auditDir()}`}`) + '\n');
  if (!opts.follow) return ExitCode.OK;
  return follow(keep, (r) => process.stdout.write((opts.json ? JSON.stringify(r) : table([r]).split('\n')[1]) + '\n'));
}

/** Like `tail -f`: new lines of the current file as they come; a rotation starts the new file from its top. */
async function follow(keep: (r: AuditRecord) => boolean, print: (r: AuditRecord) => void): Promise<number> {
  const file = path.join(auditDir(), CURRENT);
  const sizeOf = () => {
    try {
      return statSync(file).size;
    } catch {
      return 0;
    }
  };
  let offset = sizeOf();
  let partial = '';
  const stop = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  let stopped = false;
  void stop.then(() => (stopped = true));
  while (!stopped) {
    const size = sizeOf();
    if (size < offset) offset = 0; // rotated: the current file is a new one
    if (size > offset) {
      const handle = await open(file, 'r');
      try {
        const buf = Buffer.alloc(size - offset);
        await handle.read(buf, 0, buf.length, offset);
        offset = size;
        const lines = (partial + buf.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          const r = parseLine(line);
          if (r && keep(r)) print(r);
        }
      } finally {
        await handle.close();
      }
    }
    await Promise.race([stop, new Promise((r) => setTimeout(r, 250))]);
  }
  return ExitCode.OK;
}

function verify(opts: AuditOptions): number {
  const files = readAuditFiles();
  const report = verifyChain(files, sha256);
  if (opts.json) {
    process.stdout.write(JSON.stringify({ dir: auditDir(), ...report }, null, 2) + '\n');
    return report.ok ? ExitCode.OK : ExitCode.FAILURE;
  }
  const c = createTerminal(process.stdout).color;
  if (report.ok) {
    const anchor = report.anchoredAfterRotation ? ' (it starts after older files were rotated away)' : '';
    process.stdout.write(`${c.green('✔')} ${report.lines} lines in ${report.files} file${report.files === 1 ? '' : 's'}: every line follows the one before it${anchor}\n`);
    return ExitCode.OK;
  }
  for (const p of report.problems) process.stdout.write(`${p.file}:${p.line}: ${p.message}\n`);
  process.stdout.write(`${c.red('✖')} the audit chain is broken in ${report.problems.length} place${report.problems.length === 1 ? '' : 's'}\n`);
  return ExitCode.FAILURE;
}
