// `sentrail policy fmt <paths...> [--check] [--json]`: rewrites policy files in canonical form
// (src/policy/format.ts), like `gofmt -w`; with --check it writes nothing and lists the files that
// would change (`gofmt -l`, `prettier --check`), exit 1. A file that cannot be formatted is exit 2.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../config/atomic-file.ts';
import { formatDiagnostic, type Diagnostic } from '../../policy/diagnostics.ts';
import { formatPolicyText } from '../../policy/format.ts';
import { displayPath, listPolicyFiles } from '../../policy/load.ts';
import { usageError } from '../errors.ts';
import { ExitCode } from '../exit-codes.ts';

export interface FmtOptions {
  paths: string[];
  check?: boolean;
  json?: boolean;
}

export type FmtStatus = 'unchanged' | 'formatted' | 'would-change' | 'error';

export interface FmtFileReport {
  file: string;
  status: FmtStatus;
  diagnostics?: Diagnostic[];
}

/** Every policy file the arguments name: a file as given, a folder's policy files (test files excepted), each once. */
async function policyFilesOf(paths: string[]): Promise<{ files: string[]; missing: Diagnostic[] }> {
  const files: string[] = [];
  const missing: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const p of paths) {
    const listed = await listPolicyFiles(p);
    if (!Array.isArray(listed)) {
      missing.push(listed);
      continue;
    }
    for (const f of listed) {
      const key = path.resolve(f);
      if (!seen.has(key)) {
        seen.add(key);
        files.push(f);
      }
    }
  }
  return { files, missing };
}

/** Atomically, keeping the file's permissions (the temp file is chmod-ed past the umask). */
async function writeAtomic(file: string, text: string): Promise<void> {
  const { mode } = await stat(file);
  await writeFileAtomic(file, text, { mode: mode & 0o7777 });
}

async function formatOne(file: string, check: boolean): Promise<FmtFileReport> {
  const shown = displayPath(file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { file: shown, status: 'error', diagnostics: [{ severity: 'error', code: 'read-error', file: shown, line: 0, message: `cannot read: ${(err as Error).message}` }] };
  }
  const result = formatPolicyText(text, { file: shown });
  if (!result.ok) return { file: shown, status: 'error', diagnostics: result.diagnostics };
  if (!result.changed) return { file: shown, status: 'unchanged' };
  if (check) return { file: shown, status: 'would-change' };
  try {
    await writeAtomic(file, result.text);
  } catch (err) {
    return { file: shown, status: 'error', diagnostics: [{ severity: 'error', code: 'read-error', file: shown, line: 0, message: `cannot write: ${(err as Error).message}` }] };
  }
  return { file: shown, status: 'formatted' };
}

export async function runPolicyFmt(opts: FmtOptions): Promise<number> {
  if (opts.paths.length === 0) throw usageError('which files? pass policy files or folders, e.g. sentrail policy fmt policies/');
  const check = Boolean(opts.check);
  const { files, missing } = await policyFilesOf(opts.paths);
  const reports: FmtFileReport[] = missing.map((d) => ({ file: d.file, status: 'error' as const, diagnostics: [d] }));
  for (const file of files) reports.push(await formatOne(file, check));

  const count = (s: FmtStatus) => reports.filter((r) => r.status === s).length;
  const errors = count('error');
  const changed = count(check ? 'would-change' : 'formatted');
  const code = errors > 0 ? ExitCode.INVALID_INPUT : check && changed > 0 ? ExitCode.FAILURE : ExitCode.OK;

  if (opts.json) {
    process.stdout.write(JSON.stringify({ check, files: reports, changed, unchanged: count('unchanged'), errors }, null, 2) + '\n');
    return code;
  }
  for (const r of reports) {
    // stdout: one file name per line, nothing else (so `sentrail policy fmt --check . | xargs` works).
    if (r.status === 'would-change') process.stdout.write(`${r.file}\n`);
    else if (r.status === 'formatted') process.stdout.write(`formatted ${r.file}\n`);
    else if (r.status === 'error') for (const d of r.diagnostics ?? []) process.stderr.write(`${formatDiagnostic(d)}\n`);
  }
  if (check && changed > 0) {
    process.stderr.write(`sentrail: ${changed} file${changed === 1 ? '' : 's'} not formatted; run sentrail policy fmt ${opts.paths.join(' ')}\n`);
  }
  if (errors > 0) process.stderr.write(`sentrail: ${errors} file${errors === 1 ? '' : 's'} could not be formatted (left as they are)\n`);
  return code;
}
