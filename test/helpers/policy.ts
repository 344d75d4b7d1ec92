// Small builders for engine tests: a policy document from YAML text, compiled, or its findings.
import assert from 'node:assert/strict';
import { compilePolicySet, type CompiledPolicySet } from '../../src/policy/compile.ts';
import { formatDiagnostic, sortDiagnostics, type Diagnostic } from '../../src/policy/diagnostics.ts';
import { findTies, findUnreachable } from '../../src/policy/lint.ts';
import { loadPolicyText } from '../../src/policy/load.ts';

export function compileYaml(text: string, file = 'policy.yaml'): CompiledPolicySet {
  const { document, diagnostics } = loadPolicyText(text, file);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  assert.deepEqual(errors.map(formatDiagnostic), [], 'the test policy should be valid');
  return compilePolicySet(document);
}

/** Compiles a list of policies given as objects (JSON is YAML). */
export function compilePolicies(policies: object[], extra: object = {}): CompiledPolicySet {
  return compileYaml(JSON.stringify({ version: 'test-1', policies, ...extra }), 'policy.json');
}

/** Every finding `policy check` would print (errors, and warnings when the document is valid). */
export function check(text: string, file = 'policy.yaml'): Diagnostic[] {
  const { document, diagnostics } = loadPolicyText(text, file);
  if (diagnostics.some((d) => d.severity === 'error')) return sortDiagnostics(diagnostics);
  return sortDiagnostics([...diagnostics, ...findUnreachable(document), ...findTies(document)]);
}

export function codes(diagnostics: Diagnostic[]): string[] {
  return diagnostics.map((d) => `${d.severity === 'warning' ? 'warning:' : ''}${d.code}@${d.line}`);
}

export const p = (over: Record<string, unknown>) => ({ tool: 'mcp', actionPattern: '*', mode: 'allow', priority: 100, ...over });
