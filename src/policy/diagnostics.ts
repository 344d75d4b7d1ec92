// Load and check findings, reported as `file:line: code: message` (the shape opa and compilers use),
// collected rather than thrown so one run shows every problem.

export type Severity = 'error' | 'warning';

export type DiagnosticCode =
  // errors
  | 'not-found'
  | 'read-error'
  | 'parse-error'
  | 'duplicate-key'
  | 'wrong-type'
  | 'missing-field'
  | 'unknown-key'
  | 'invalid-value'
  | 'duplicate-name'
  | 'mcp-only-field'
  | 'bad-wildcard'
  | 'invalid-regex'
  | 'unsafe-regex'
  | 'unsupported-regex'
  | 'invalid-pointer'
  | 'conflict'
  // `policy fmt` refusals
  | 'yaml-alias'
  | 'format-unsafe'
  // warnings
  | 'unreachable-policy'
  | 'arguments-extension'
  | 'never-matches'
  | 'ambiguous-field';

export interface Diagnostic {
  severity: Severity;
  code: DiagnosticCode;
  file: string;
  line: number;
  /** The field the finding is about, as a path: `policies[3].conditions.allowedAgents`. */
  field?: string;
  message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}` : d.file;
  const prefix = d.severity === 'warning' ? 'warning: ' : '';
  return `${where}: ${prefix}${d.code}: ${d.message}`;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Stable order for output: by file, then line, errors before warnings on the same line. */
export function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      a.file.localeCompare(b.file) ||
      a.line - b.line ||
      (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1),
  );
}
