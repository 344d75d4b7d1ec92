// The live org policy of a gate, fetched as `sentrail policy pull` fetches it (the default gate of
// `sentrail login` unless --gate, the same stored credential) but loaded in memory only: the
// per-gate cache is not touched (`policy diff gate:`).
import { createGateCredentialSource } from '../../auth/credential-sources.ts';
import { bridgeCredentials } from '../../bridge/credentials.ts';
import { resolveGateAddress } from '../../bridge/gate-address.ts';
import { createHttpClient } from '../../bridge/http-client.ts';
import { fetchOrgPolicy } from '../../bridge/org-policy-pull.ts';
import { readCliConfig } from '../../config/cli-config.ts';
import type { PolicyDocument } from '../../policy/types.ts';
import { CliError } from '../errors.ts';
import { ExitCode } from '../exit-codes.ts';

export interface GateOptions {
  gate?: string;
  cloudUrl?: string;
  apiKey?: string;
  allowHttp?: boolean;
}

/** --gate, else the default gate `sentrail login` remembered; a usage error when there is neither. */
export async function chosenGate(gate: string | undefined): Promise<string> {
  const chosen = gate ?? (await readCliConfig()).config.defaultGate ?? undefined;
  if (!chosen) throw new CliError('usage', 'which gate? pass --gate <gate URL>, or log in once (sentrail login remembers the gate)', { exitCode: ExitCode.INVALID_INPUT });
  return chosen;
}

/**
 * Exit codes (docs/exit-codes.md, `policy diff`): no credential or a 401 is 4; anything else that
 * leaves no document (no endpoint, a refusal, no answer, a document that does not load) is 2, so
 * that 1 keeps meaning "decisions change".
 */
export async function fetchGatePolicy(opts: GateOptions): Promise<{ gate: string; endpoint: string; document: PolicyDocument }> {
  const gate = await chosenGate(opts.gate);
  const address = resolveGateAddress(gate, { cloudUrl: opts.cloudUrl, allowHttp: opts.allowHttp });
  if (!address.cloudBase) throw new CliError('no-policy-endpoint', `${gate} has no /mcp-gate base to fetch the org policy from`, { exitCode: ExitCode.INVALID_INPUT, hint: 'Pass --cloud-url.' });
  const stored = createGateCredentialSource({ gate, warn: (m) => process.stderr.write(`warning: ${m}\n`) });
  const credential = await bridgeCredentials({ apiKey: opts.apiKey, ...(stored ? { store: stored.source } : {}) }).get();
  if (!credential) throw new CliError('not-logged-in', `not logged in to ${gate}`, { exitCode: ExitCode.NOT_LOGGED_IN, hint: 'Run sentrail login (or set SENTRAIL_API_KEY).' });
  const endpoint = `${address.cloudBase}/mcp-gate/policy`;
  let outcome;
  try {
    outcome = await fetchOrgPolicy({ endpoint, http: await createHttpClient(), headers: { authorization: `Bearer ${credential.token}` }, etag: null });
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
