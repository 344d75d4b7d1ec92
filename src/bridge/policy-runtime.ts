// What the bridge needs to load a policy document, in one module it imports lazily: the YAML
// parser and the validator (~30 ms to load) then stay off the start-up path and load while the
// first initialize is on the wire.
export { compilePolicySet } from '../policy/compile.ts';
export { formatDiagnostic, hasErrors } from '../policy/diagnostics.ts';
export { loadPolicyPath, loadPolicyText } from '../policy/load.ts';
