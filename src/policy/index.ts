// The policy engine's public surface: load → compile once → decide / explain many times.
export * from './types.ts';
export { compilePolicySet, type CompiledPolicySet } from './compile.ts';
export { decide, decideLocally, explain, isHiddenFromListing, type LocalDecision } from './decide.ts';
export { inferMcpRisk } from './risk.ts';
export { formatDiagnostic, hasErrors, sortDiagnostics, type Diagnostic } from './diagnostics.ts';
export { loadPolicyPath, loadPolicyText, type LoadResult } from './load.ts';
export { findTies, findUnreachable } from './lint.ts';
