// `sentrail policy pull`: fetch the gate's org policy into the per-gate cache by hand (the bridge
// does it at start and per max-age); the other policy commands then use it.
import { createGateCredentialSource } from '../../auth/credential-sources.ts';
import { bridgeCredentials } from '../../bridge/credentials.ts';
import { resolveGateAddress } from '../../bridge/gate-address.ts';
import { createHttpClient } from '../../bridge/http-client.ts';
import { pullOrgPolicy } from '../../bridge/org-policy-pull.ts';
import { readCliConfig } from '../../config/cli-config.ts';
import { readCachedPolicy } from '../../config/policy-cache.ts';
import { CliError } from '../errors.ts';
import { ExitCode } from '../exit-codes.ts';

export interface PullOptions {
  gate?: string;
  cloudUrl?: string;
  apiKey?: string;
  allowHttp?: boolean;
  json?: boolean;
}

export async function runPolicyPull(given: PullOptions): Promise<number> {
  // Like the bridge: --gate, else the default gate `sentrail login` remembered; the same credentials.
  const opts = { ...given, gate: given.gate ?? (await readCliConfig()).config.defaultGate ?? undefined };
  if (!opts.gate) throw new CliError('usage', 'which gate? pass --gate <gate URL>, or log in once (sentrail login remembers the gate)', { exitCode: ExitCode.INVALID_INPUT, hint: 'e.g. sentrail policy pull --gate https://<ref>.supabase.co/functions/v1/mcp-gate/sse' });
  const address = resolveGateAddress(opts.gate, { cloudUrl: opts.cloudUrl, allowHttp: opts.allowHttp });
  if (!address.cloudBase) throw new CliError('no-policy-endpoint', `${opts.gate} has no /mcp-gate base to pull the org policy from`, { exitCode: ExitCode.INVALID_INPUT, hint: 'Pass --cloud-url.' });
  const stored = createGateCredentialSource({ gate: opts.gate, warn: (m) => process.stderr.write(`warning: ${m}\n`) });
  const credential = await bridgeCredentials({ apiKey: opts.apiKey, ...(stored ? { store: stored.source } : {}) }).get();
  if (!credential) throw new CliError('not-logged-in', `not logged in to ${opts.gate}`, { exitCode: ExitCode.NOT_LOGGED_IN, hint: 'Run sentrail login (or set SENTRAIL_API_KEY).' });
  const cached = await readCachedPolicy(opts.gate);
  const endpoint = `${address.cloudBase}/mcp-gate/policy`;
  let outcome;
  try {
    outcome = await pullOrgPolicy({ gate: opts.gate, endpoint, http: await createHttpClient(), headers: { authorization: `Bearer ${credential.token}` }, etag: cached?.meta.etag ?? null });
  } catch (err) {
    throw new CliError('gate-unreachable', `could not pull from ${endpoint}: ${(err as Error).message}`);
  }
  const report = (line: string, data: Record<string, unknown>, code: number) => {
    if (opts.json) process.stdout.write(JSON.stringify({ gate: opts.gate, endpoint, ...data }, null, 2) + '\n');
    else (code === ExitCode.OK ? process.stdout : process.stderr).write(line + '\n');
    return code;
  };
  switch (outcome.kind) {
    case 'updated':
      return report(`pulled org policy ${outcome.version ?? '(no version)'} (${outcome.policies} policies) into ${outcome.file}`, { status: 'updated', version: outcome.version, policies: outcome.policies, file: outcome.file }, ExitCode.OK);
    case 'unchanged':
      return report(`org policy unchanged (${cached?.meta.version ?? 'cached'}): ${cached?.file}`, { status: 'unchanged', version: cached?.meta.version ?? null, file: cached?.file ?? null }, ExitCode.OK);
    case 'no-endpoint':
      return report(`sentrail: ${endpoint} does not exist (404): this gate does not hand out its org policy; the bridge leaves every decision to it`, { status: 'no-endpoint' }, ExitCode.FAILURE);
    case 'invalid':
      return report(`sentrail: ${outcome.message}`, { status: 'invalid', message: outcome.message }, ExitCode.FAILURE);
    case 'not-policy':
      return report(`sentrail: ${outcome.message}; nothing was cached (check --gate / --cloud-url)`, { status: 'not-policy', message: outcome.message }, ExitCode.FAILURE);
    case 'refused':
      return report(`sentrail: ${outcome.message}${outcome.status === 401 ? '; check your credential' : ''}`, { status: 'refused', httpStatus: outcome.status, message: outcome.message }, outcome.status === 401 ? ExitCode.NOT_LOGGED_IN : ExitCode.FAILURE);
  }
}
