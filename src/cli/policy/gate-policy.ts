// The live org policy of a gate, fetched as `sentrail policy pull` fetches it (the default gate of
// `sentrail login` unless --gate, the same stored credential) but loaded in memory only: the
// per-gate cache is not touched (`policy diff gate:`).
import { fetchOrgPolicy } from '../../bridge/org-policy-pull.ts';
import type { PolicyDocument } from '../../policy/types.ts';
import { CliError } from '../errors.ts';
import { ExitCode } from '../exit-codes.ts';
import { openGateAccess, type GateAccessOptions } from '../gate-access.ts';

export type GateOptions = GateAccessOptions;

/**
 * Exit codes (docs/exit-codes.md, `policy diff`): no credential or a 401 is 4; anything else that
 * leaves no document (no endpoint, a refusal, no answer, a document that does not load) is 2, so
 * that 1 keeps meaning "decisions change".
 */
export async function fetchGatePolicy(opts: GateOptions): Promise<{ gate: string; endpoint: string; document: PolicyDocument }> {
  const access = await openGateAccess('policy diff', opts);
  const gate = access.gate;
  const endpoint = `${access.cloudBase}/mcp-gate/policy`;
  let outcome;
  try {
    outcome = await fetchOrgPolicy({ endpoint, http: access.http, headers: access.headers, etag: null });
  } catch (err) {
    throw new CliError('gate-unreachable', `could not fetch the org policy from ${endpoint}: ${(err as Error).message}`, { exitCode: ExitCode.INVALID_INPUT });
  }
  const fail = (message: string, exitCode: ExitCode = ExitCode.INVALID_INPUT) => new CliError('gate-policy', message, { exitCode });
  switch (outcome.kind) {
    case 'fetched':
      return { gate, endpoint, document: outcome.document };
    case 'no-endpoint':
      throw fail(`${endpoint} does not exist (404): this gate does not hand out its org policy`);
    case 'refused':
      throw fail(`${outcome.message}${outcome.status === 401 ? '; check your credential' : ''}`, outcome.status === 401 ? ExitCode.NOT_LOGGED_IN : ExitCode.INVALID_INPUT);
    case 'invalid':
    case 'not-policy':
      throw fail(outcome.message);
    case 'unchanged':
      // Not conditional (no ETag sent), so a 304 is the gate's error.
      throw fail(`${endpoint} answered 304 Not Modified to an unconditional request`);
  }
}
