// `sentrail policy diff A B [--requests FILE] [--json]`: what changes from policy A to policy B, as
// policies (src/policy/diff.ts) and as decisions over the test cases beside the sides, the
// --requests file and generated requests. Exit 0 no decision changes, 1 some do, 2 a side or a
// request file does not load, 4 `gate:` without a credential (docs/exit-codes.md).
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { compilePolicySet, type CompiledPolicySet } from '../../policy/compile.ts';
import { formatDiagnostic, hasErrors, sortDiagnostics, type Diagnostic } from '../../policy/diagnostics.ts';
import {
  describeRequest, describeSide, diffDecisions, diffDocuments, foldChanges, generateRequests,
  type DecisionChange, type DocumentDiff, type FieldChange, type LabelledRequest,
} from '../../policy/diff.ts';
import { displayPath, TEST_FILE } from '../../policy/load.ts';
import { parseRequestList, parseTestFile } from '../../policy/test-file.ts';
import type { Policy, PolicyDocument } from '../../policy/types.ts';
import { CliError, usageError } from '../errors.ts';
import { ExitCode } from '../exit-codes.ts';
import { createTerminal } from '../terminal.ts';
import { fetchGatePolicy, type GateOptions } from './gate-policy.ts';
import { readCliConfig } from '../../config/cli-config.ts';
import { loadCompiled } from './load-or-fail.ts';
import { cachedOrgPolicy } from './resolve-policy.ts';

export interface DiffOptions extends GateOptions {
  a: string;
  b: string;
  requests?: string;
  json?: boolean;
}

interface Side {
  /** As given: a path, `gate:`, `cache:`. */
  spec: string;
  /** What it was: the file or folder, or the gate URL. */
  source: string;
  document: PolicyDocument;
  set: CompiledPolicySet;
  /** The folder whose test files hold requests for it (none for gate: / cache:). */
  testFolder: string | null;
}

async function loadSide(spec: string, opts: DiffOptions): Promise<Side> {
  if (spec === 'gate:') {
    const { gate, document } = await fetchGatePolicy(opts);
    return { spec, source: gate, document, set: compilePolicySet(document), testFolder: null };
  }
  if (spec === 'cache:') {
    const gate = opts.gate ?? (await readCliConfig()).config.defaultGate ?? undefined;
    const { target } = await cachedOrgPolicy(gate);
    const { document, set } = await loadCompiled(target);
    return { spec, source: target, document, set, testFolder: null };
  }
  if (/^[a-z]+:$/i.test(spec)) throw usageError(`${spec} is not a side: use a policy file or folder, gate: or cache:`);
  let info;
  try {
    info = await stat(spec);
  } catch {
    throw usageError(`no such file or folder: ${spec}`);
  }
  const { document, set } = await loadCompiled(spec);
  return { spec, source: displayPath(spec), document, set, testFolder: info.isDirectory() ? spec : path.dirname(spec) };
}

function invalid(what: string, diagnostics: Diagnostic[]): CliError {
  const lines = sortDiagnostics(diagnostics).filter((d) => d.severity === 'error').map(formatDiagnostic);
  return new CliError('invalid-input', `${what}:\n${lines.join('\n')}`, { exitCode: ExitCode.INVALID_INPUT });
}

/** The cases of the test files in the sides' folders (each folder once, not recursive). */
async function testRequests(folders: string[]): Promise<LabelledRequest[]> {
  const out: LabelledRequest[] = [];
  for (const folder of [...new Set(folders.map((f) => path.resolve(f)))]) {
    const names = (await readdir(folder)).filter((n) => TEST_FILE.test(n)).sort();
    for (const name of names) {
      const file = displayPath(path.join(folder, name));
      const { testFile, diagnostics } = parseTestFile(await readFile(path.join(folder, name), 'utf8'), file);
      if (!testFile || hasErrors(diagnostics)) throw invalid(`${file} is not a valid test file`, diagnostics);
      for (const c of testFile.cases) out.push({ request: c.request, origin: 'test', from: `${file}: ${c.name}` });
    }
  }
  return out;
}

async function requestsFile(file: string): Promise<LabelledRequest[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw usageError(`--requests ${file}: no such file`);
  }
  const shown = displayPath(file);
  // A test file (cases with requests) or a plain list of requests.
  const asTests = parseTestFile(text, shown);
  if (asTests.testFile) return asTests.testFile.cases.map((c) => ({ request: c.request, origin: 'requests' as const, from: `${shown}: ${c.name}` }));
  const asList = parseRequestList(text, shown);
  if (asList.requests) return asList.requests.map((request, i) => ({ request, origin: 'requests' as const, from: `${shown}[${i}]` }));
  throw invalid(`--requests ${shown} is neither a test file nor a list of requests`, asList.diagnostics);
}

// ---- output

/** A value as a reader of the policy file would write it: `"x"`, `[a, b]` with JSON strings, `(absent)`. */
function show(v: unknown): string {
  if (v === undefined) return '(absent)';
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${show(x)}`).join(', ')}}`;
  return JSON.stringify(v);
}

function policySummary(p: Policy): string {
  const on = p.toolName ?? p.toolNamePattern ?? p.actionPattern;
  return `${p.tool} ${on}, ${p.mode}, priority ${p.priority}${p.enabled ? '' : ', disabled'}`;
}

function fieldLines(fields: FieldChange[], indent: string): string[] {
  return fields.map((f) => `${indent}${f.field}: ${show(f.before)} → ${show(f.after)}`);
}

function textReport(a: Side, b: Side, docDiff: DocumentDiff, counts: Record<string, number>, decided: number, changes: DecisionChange[]): string {
  const lines: string[] = [];
  const version = (s: Side) => (s.document.version ? `, version ${s.document.version}` : '');
  // A path side is named as given; gate: and cache: also say which gate or file they were.
  const name = (s: Side) => (s.testFolder !== null ? s.spec : `${s.spec} ${s.source}`);
  lines.push(`A: ${name(a)} (${a.document.policies.length} policies${version(a)})`);
  lines.push(`B: ${name(b)} (${b.document.policies.length} policies${version(b)})`);
  lines.push('');
  const policyChanges = docDiff.added.length + docDiff.removed.length + docDiff.changed.length + docDiff.document.length;
  if (policyChanges === 0) lines.push('Policies: no change');
  else {
    lines.push('Policies:');
    lines.push(...fieldLines(docDiff.document, '  '));
    for (const p of docDiff.added) lines.push(`  + ${JSON.stringify(p.name)} (${policySummary(p)})`);
    for (const p of docDiff.removed) lines.push(`  - ${JSON.stringify(p.name)} (${policySummary(p)})`);
    for (const c of docDiff.changed) {
      lines.push(`  ~ ${JSON.stringify(c.name)}`);
      lines.push(...fieldLines(c.fields, '      '));
    }
  }
  lines.push('');
  const from = `${counts.test} from test files, ${counts.requests} from --requests, ${counts.generated} generated`;
  if (changes.length === 0) {
    lines.push(`Decisions: no change over ${decided} requests (${from})`);
    return lines.join('\n') + '\n';
  }
  lines.push(`Decisions: ${changes.length} of ${decided} requests change (${from})`);
  const rows = foldChanges(changes).map(({ change: c, alike }) => [
    describeRequest(c.request), describeSide(c.before), describeSide(c.after),
    (c.from ?? c.origin) + (alike > 0 ? ` (+${alike} alike: other risk levels, resource types or arguments)` : ''),
  ]);
  const header = ['request', 'A', 'B', 'from'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const row = (r: string[]) => `  ${r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')}`.trimEnd();
  lines.push(row(header));
  lines.push(row(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) lines.push(row(r));
  const uncertain = changes.flatMap((c) => [...c.before.uncertain, ...c.after.uncertain]);
  if (uncertain.length > 0) {
    lines.push('');
    lines.push('? the decision rests on a point Sentrail\'s pages read two ways: shown by the contract\'s reading, decided by the gate:');
    for (const u of [...new Set(uncertain)]) lines.push(`  ${u}`);
  }
  return lines.join('\n') + '\n';
}

export async function runPolicyDiff(opts: DiffOptions): Promise<number> {
  const a = await loadSide(opts.a, opts);
  const b = await loadSide(opts.b, opts);
  const given = [
    ...(await testRequests([a.testFolder, b.testFolder].filter((f): f is string => f !== null))),
    ...(opts.requests ? await requestsFile(opts.requests) : []),
  ];
  const generated: LabelledRequest[] = generateRequests([a.document, b.document]).map((request) => ({ request, origin: 'generated' }));
  const docDiff = diffDocuments(a.document, b.document);
  const { decided, changes } = diffDecisions(a.set, b.set, [...given, ...generated]);
  const counts = {
    test: given.filter((r) => r.origin === 'test').length,
    requests: given.filter((r) => r.origin === 'requests').length,
    generated: generated.length,
  };
  if (opts.json) {
    const sideJson = (s: Side) => ({ spec: s.spec, source: s.source, version: s.document.version, policies: s.document.policies.length });
    const policy = (p: Policy) => ({ name: p.name, tool: p.tool, mode: p.mode, priority: p.priority, enabled: p.enabled, location: p.location });
    process.stdout.write(
      JSON.stringify(
        {
          a: sideJson(a),
          b: sideJson(b),
          policies: { added: docDiff.added.map(policy), removed: docDiff.removed.map(policy), changed: docDiff.changed },
          document: docDiff.document,
          requests: { decided, ...counts },
          decisions: changes,
          changed: changes.length,
        },
        null,
        2,
      ) + '\n',
    );
  } else {
    const t = createTerminal(process.stdout);
    const text = textReport(a, b, docDiff, counts, decided, changes);
    process.stdout.write(changes.length > 0 ? text.replace(/^(Decisions: \d+ of.*)$/m, (m) => t.color.yellow(m)) : text);
  }
  return changes.length > 0 ? ExitCode.FAILURE : ExitCode.OK;
}
