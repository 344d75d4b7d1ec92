// `sentrail policy check <policy>`: schema, errors and warnings of policy.md, as file:line: code: message.
import { findTies, findUnreachable } from '../../policy/lint.ts';
import { loadPolicyPath } from '../../policy/load.ts';
import { formatDiagnostic, hasErrors, sortDiagnostics } from '../../policy/diagnostics.ts';
import { ExitCode } from '../exit-codes.ts';
import { createTerminal } from '../terminal.ts';
import { cachedOrgPolicy } from './resolve-policy.ts';

export interface CheckOptions {
  policy?: string;
  gate?: string;
  json?: boolean;
}

export async function runPolicyCheck(opts: CheckOptions): Promise<number> {
  const target = opts.policy ?? (await cachedOrgPolicy(opts.gate)).target;
  const { document, diagnostics } = await loadPolicyPath(target);
  const invalid = hasErrors(diagnostics);
  const all = sortDiagnostics(invalid ? diagnostics : [...diagnostics, ...findUnreachable(document), ...findTies(document)]);
  const errors = all.filter((d) => d.severity === 'error').length;
  const warnings = all.length - errors;
  if (opts.json) {
    process.stdout.write(
      JSON.stringify({ valid: !invalid, target, version: document.version, policies: document.policies.length, errors, warnings, diagnostics: all }, null, 2) + '\n',
    );
  } else {
    const t = createTerminal(process.stdout);
    for (const d of all) {
      const line = formatDiagnostic(d);
      process.stdout.write((d.severity === 'error' ? t.color.red(line) : t.color.yellow(line)) + '\n');
    }
    const counts = [errors && `${errors} error${errors === 1 ? '' : 's'}`, warnings && `${warnings} warning${warnings === 1 ? '' : 's'}`].filter(Boolean).join(', ');
    if (invalid) {
      process.stdout.write(t.color.red(`✖ ${target}: invalid (${counts})`) + '\n');
    } else {
      const version = document.version ? `, version ${document.version}` : '';
      process.stdout.write(
        t.color.green(`✔ ${target}: ${document.policies.length} ${document.policies.length === 1 ? 'policy' : 'policies'}${version}, valid`) + (counts ? ` (${counts})` : '') + '\n',
      );
    }
  }
  return invalid ? ExitCode.INVALID_INPUT : ExitCode.OK;
}
