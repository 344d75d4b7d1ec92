// Runs test cases against a compiled policy set and computes coverage. Pure: the command layer
// finds files and policies; reporters format what this returns.
import { explain } from './decide.ts';
import type { CompiledPolicySet } from './compile.ts';
import type { Expectation, TestCase } from './test-file.ts';
import type { Decision, TraceEntry } from './types.ts';

export type CaseStatus = 'PASS' | 'FAIL' | 'ERROR' | 'SKIP';

export interface CaseResult {
  name: string;
  line: number;
  status: CaseStatus;
  expected: Expectation;
  actual?: Decision;
  trace?: TraceEntry[];
  /** SKIP: the reason; ERROR: what went wrong. */
  message?: string;
  /**
   * Where Sentrail's pages disagree on something this case's decision rests on: the status is the
   * contract's reading, and the gate decides these (policy.md, "Readings"). Absent when nothing is.
   */
  uncertain?: string[];
}

export function matchesExpectation(expect: Expectation, d: Decision): boolean {
  if (expect.mode !== undefined && expect.mode !== d.mode) return false;
  if (expect.policy !== undefined && expect.policy !== d.policy) return false;
  if (expect.policyId !== undefined && expect.policyId !== d.policyId) return false;
  return true;
}

export function runCase(set: CompiledPolicySet, c: TestCase): CaseResult {
  const base = { name: c.name, line: c.line, expected: c.expect };
  if (c.skip !== undefined) return { ...base, status: 'SKIP', message: c.skip };
  try {
    const { decision, trace, uncertain } = explain(set, c.request);
    const pass = matchesExpectation(c.expect, decision);
    return { ...base, status: pass ? 'PASS' : 'FAIL', actual: decision, ...(pass ? {} : { trace }), ...(uncertain.length > 0 ? { uncertain } : {}) };
  } catch (err) {
    return { ...base, status: 'ERROR', message: `evaluation failed: ${(err as Error).message}` };
  }
}

export interface Summary {
  passed: number;
  failed: number;
  errored: number;
  skipped: number;
}

export function summarize(results: readonly CaseResult[]): Summary {
  const s: Summary = { passed: 0, failed: 0, errored: 0, skipped: 0 };
  for (const r of results) {
    if (r.status === 'PASS') s.passed++;
    else if (r.status === 'FAIL') s.failed++;
    else if (r.status === 'ERROR') s.errored++;
    else s.skipped++;
  }
  return s;
}

/** policy.md's closing line: `N passed, N failed` (an ERROR counts as failed), `, N skipped` when any. */
export function closingLine(s: Summary): string {
  return `${s.passed} passed, ${s.failed + s.errored} failed${s.skipped > 0 ? `, ${s.skipped} skipped` : ''}`;
}

export interface UncoveredPolicy {
  name: string;
  file: string;
  line: number;
}

export interface Coverage {
  /** Enabled policies that decided at least one case, over enabled policies (100 when there are none). */
  percent: number;
  covered: number;
  total: number;
  uncovered: UncoveredPolicy[];
}

/**
 * Coverage over every policy set the run used: a policy is covered when it was the first match
 * of at least one case. Sets are told apart by identity; policies by file, line and name.
 */
export function computeCoverage(runs: { set: CompiledPolicySet; results: readonly CaseResult[] }[]): Coverage {
  const all = new Map<string, UncoveredPolicy>();
  const covered = new Set<string>();
  const key = (p: UncoveredPolicy) => `${p.file}\u0000${p.line}\u0000${p.name}`;
  for (const { set, results } of runs) {
    const byName = new Map(set.ordered.map((cp) => [cp.policy.name, cp.policy]));
    for (const cp of set.ordered) {
      const p = { name: cp.policy.name, file: cp.policy.location.file, line: cp.policy.location.line };
      all.set(key(p), p);
    }
    for (const r of results) {
      const policy = r.actual?.policy ? byName.get(r.actual.policy) : undefined;
      if (policy) covered.add(key({ name: policy.name, file: policy.location.file, line: policy.location.line }));
    }
  }
  const uncovered = [...all.entries()].filter(([k]) => !covered.has(k)).map(([, p]) => p);
  const total = all.size;
  const coveredCount = total - uncovered.length;
  return { percent: total === 0 ? 100 : (coveredCount / total) * 100, covered: coveredCount, total, uncovered };
}
