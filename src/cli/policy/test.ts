// `sentrail policy test [paths...]`: finds test files, resolves each one's policy, runs the cases,
// and exits as policy.md says: 2 invalid input, else 1 a case failed or erred, else 3 coverage
// under the threshold, else 0.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { compilePolicySet, type CompiledPolicySet } from '../../policy/compile.ts';
import { formatDiagnostic, hasErrors, sortDiagnostics, type Diagnostic } from '../../policy/diagnostics.ts';
import { displayPath, loadPolicyPath, TEST_FILE } from '../../policy/load.ts';
import { parseTestFile } from '../../policy/test-file.ts';
import { computeCoverage, runCase, summarize, type CaseResult } from '../../policy/test-runner.ts';
import { CliError, usageError } from '../errors.ts';
import { ExitCode } from '../exit-codes.ts';
import { createTerminal } from '../terminal.ts';
import { createJsonReporter, createJunitReporter, createTextReporter, type FileReport, type Reporter } from './reporters.ts';
import { policyForTestFile } from './resolve-policy.ts';
import type { RemoteCase, RemoteTarget } from './test-remote.ts';

export interface TestOptions {
  paths: string[];
  policy?: string;
  gate?: string;
  coverage?: boolean;
  coverageThreshold?: string;
  format?: string;
  /** Also send every case to the gate's evaluate-action endpoint and report where it disagrees. */
  remote?: boolean;
  yes?: boolean;
  cloudUrl?: string;
  apiKey?: string;
  allowHttp?: boolean;
}

const SKIP_DIRS = new Set(['node_modules', '.git']);

async function findTestFiles(target: string): Promise<string[]> {
  let info;
  try {
    info = await stat(target);
  } catch {
    throw usageError(`no such file or folder: ${target}`);
  }
  if (!info.isDirectory()) {
    if (!TEST_FILE.test(target)) throw usageError(`${target} is not a test file (test files are named *.test.yaml, *.test.yml or *.test.json)`);
    return [target];
  }
  const out: string[] = [];
  const entries = (await readdir(target, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) out.push(...(await findTestFiles(path.join(target, e.name))));
    } else if (TEST_FILE.test(e.name)) out.push(path.join(target, e.name));
  }
  return out;
}

function parseThreshold(value: string | undefined): number | null {
  if (value === undefined) return null;
  const n = Number(value.replace(/%$/, ''));
  if (!Number.isFinite(n) || n < 0 || n > 100) throw usageError(`--coverage-threshold ${value}: must be a percentage between 0 and 100`);
  return n;
}

function createReporter(format: string | undefined): Reporter {
  switch (format ?? 'text') {
    case 'text':
      return createTextReporter(process.stdout, createTerminal(process.stdout));
    case 'json':
      return createJsonReporter(process.stdout);
    case 'junit':
      return createJunitReporter(process.stdout);
    default:
      throw usageError(`--format ${format}: must be one of text, json, junit`);
  }
}

export async function runPolicyTest(opts: TestOptions): Promise<number> {
  const threshold = parseThreshold(opts.coverageThreshold);
  const reporter = createReporter(opts.format);
  const wantCoverage = Boolean(opts.coverage) || threshold !== null;
  if (!opts.remote && opts.yes) throw usageError('--yes only applies with --remote');
  // Loaded only with --remote; found (and the live-workspace guard applied) before any case runs.
  const remoteModule = opts.remote ? await import('./test-remote.ts') : null;
  const remote: RemoteTarget | null = remoteModule ? await remoteModule.openRemote(opts) : null;
  const remoteCases: RemoteCase[] = [];
  const files = (await Promise.all((opts.paths.length > 0 ? opts.paths : ['.']).map(findTestFiles))).flat();
  if (files.length === 0) {
    throw usageError(`no test files under ${(opts.paths.length > 0 ? opts.paths : ['.']).join(', ')}`, 'Test files are named *.test.yaml, *.test.yml or *.test.json.');
  }

  const diagnostics: Diagnostic[] = [];
  // A folder's policy is loaded once however many test files use it.
  const policies = new Map<string, { set: CompiledPolicySet | null }>();
  const reports: FileReport[] = [];
  const runs: { set: CompiledPolicySet; results: CaseResult[] }[] = [];

  for (const file of files) {
    const shown = displayPath(file);
    const parsed = parseTestFile(await readFile(file, 'utf8'), shown);
    if (!parsed.testFile) {
      diagnostics.push(...parsed.diagnostics);
      continue;
    }
    let source;
    try {
      source = await policyForTestFile(file, parsed.testFile.policy, opts);
    } catch (err) {
      if (!(err instanceof CliError)) throw err;
      const message = `${err.message}. ${err.hint ?? ''}`.trim();
      const results = parsed.testFile.cases.map((c): CaseResult => ({ name: c.name, line: c.line, status: c.skip !== undefined ? 'SKIP' : 'ERROR', expected: c.expect, message: c.skip ?? message }));
      parsed.testFile.cases.forEach((testCase, i) => remoteCases.push({ file: shown, testCase, result: results[i]! }));
      const report = { file: shown, policy: null, results };
      reports.push(report);
      reporter.file(report);
      continue;
    }
    const key = path.resolve(source.target);
    let entry = policies.get(key);
    if (!entry) {
      const loaded = await loadPolicyPath(source.target);
      const invalid = hasErrors(loaded.diagnostics);
      if (invalid) diagnostics.push(...loaded.diagnostics.filter((d) => d.severity === 'error'));
      entry = { set: invalid ? null : compilePolicySet(loaded.document) };
      policies.set(key, entry);
    }
    if (!entry.set) continue;
    const results = parsed.testFile.cases.map((c) => runCase(entry!.set!, c));
    parsed.testFile.cases.forEach((testCase, i) => remoteCases.push({ file: shown, testCase, result: results[i]! }));
    runs.push({ set: entry.set, results });
    const report = { file: shown, policy: displayPath(source.target), results };
    reports.push(report);
    reporter.file(report);
  }

  if (diagnostics.length > 0) {
    process.stderr.write(sortDiagnostics(diagnostics).map(formatDiagnostic).join('\n') + '\n');
  }
  const summary = summarize(reports.flatMap((r) => r.results));
  const coverage = wantCoverage ? computeCoverage(runs) : null;
  let remoteReport = null;
  if (remote && remoteModule && diagnostics.length === 0) {
    const sendable = remoteCases.filter((c) => c.result.actual).length;
    process.stderr.write(`sentrail: sending ${sendable} case${sendable === 1 ? '' : 's'} to ${remote.endpoint}; each one writes an audit entry at the gate\n`);
    remoteReport = await remoteModule.checkAtGate(remote, remoteCases);
  }
  reporter.end({ files: reports, summary, coverage, coverageThreshold: threshold, diagnostics, remote: remoteReport });

  if (diagnostics.length > 0) return ExitCode.INVALID_INPUT;
  if (summary.failed + summary.errored > 0) return ExitCode.FAILURE;
  if (remoteReport && remoteReport.summary.disagreed + remoteReport.summary.errored > 0) return ExitCode.FAILURE;
  if (coverage && threshold !== null && coverage.percent < threshold) return ExitCode.COVERAGE_BELOW_THRESHOLD;
  return ExitCode.OK;
}
