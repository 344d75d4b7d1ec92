// Loads a policy for a command that needs a valid one; an invalid policy is exit 2 with every
// finding printed (file:line: code: message) on stderr.
import { compilePolicySet, type CompiledPolicySet } from '../../policy/compile.ts';
import { formatDiagnostic, hasErrors, sortDiagnostics, type Diagnostic } from '../../policy/diagnostics.ts';
import { loadPolicyPath } from '../../policy/load.ts';
import type { PolicyDocument } from '../../policy/types.ts';
import { CliError } from '../errors.ts';
import { ExitCode } from '../exit-codes.ts';

export async function loadCompiled(target: string): Promise<{ set: CompiledPolicySet; document: PolicyDocument; diagnostics: Diagnostic[] }> {
  const { document, diagnostics } = await loadPolicyPath(target);
  if (hasErrors(diagnostics)) {
    const lines = sortDiagnostics(diagnostics).filter((d) => d.severity === 'error').map(formatDiagnostic);
    throw new CliError('invalid-policy', `${target} is not a valid policy:\n${lines.join('\n')}`, { exitCode: ExitCode.INVALID_INPUT });
  }
  return { set: compilePolicySet(document), document, diagnostics };
}
