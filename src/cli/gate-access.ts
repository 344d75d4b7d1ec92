// The gate a command talks to and the credential it uses, found as the bridge finds them:
// --gate, else the default gate `sentrail login` remembered; --api-key / SENTRAIL_API_KEY, else
// the stored login. Shared by `policy pull`, `policy diff gate:`, `policy test --remote`, `init` and `doctor`.
import { createGateCredentialSource } from '../auth/credential-sources.ts';
import { bridgeCredentials, type Credential } from '../bridge/credentials.ts';
import { resolveGateAddress } from '../bridge/gate-address.ts';
import { createHttpClient, type HttpClient } from '../bridge/http-client.ts';
import { readCliConfig } from '../config/cli-config.ts';
import { CliError } from './errors.ts';
import { ExitCode } from './exit-codes.ts';

export interface GateAccessOptions {
  gate?: string;
  cloudUrl?: string;
  apiKey?: string;
  allowHttp?: boolean;
}

export interface GateAccess {
  gate: string;
  /** `C`: the base the gate's other endpoints hang off. */
  cloudBase: string;
  headers: { authorization: string };
  http: HttpClient;
}

/** The credential the bridge would use for `gate` (flag, SENTRAIL_API_KEY, keychain, file), or null. */
export async function lookupCredential(gate: string, apiKey?: string, warn: (message: string) => void = (m) => process.stderr.write(`warning: ${m}\n`)): Promise<Credential | null> {
  const stored = createGateCredentialSource({ gate, warn });
  return bridgeCredentials({ apiKey, ...(stored ? { store: stored.source } : {}) }).get();
}

export async function openGateAccess(command: string, given: GateAccessOptions): Promise<GateAccess> {
  const gate = given.gate ?? (await readCliConfig()).config.defaultGate ?? undefined;
  if (!gate) throw new CliError('usage', 'which gate? pass --gate <gate URL>, or log in once (sentrail login remembers the gate)', { exitCode: ExitCode.INVALID_INPUT, hint: `e.g. sentrail ${command} --gate https://<ref>.supabase.co/functions/v1/mcp-gate/sse` });
  const address = resolveGateAddress(gate, { cloudUrl: given.cloudUrl, allowHttp: given.allowHttp });
  if (!address.cloudBase) throw new CliError('no-policy-endpoint', `${gate} has no /mcp-gate base the other endpoints hang off`, { exitCode: ExitCode.INVALID_INPUT, hint: 'Pass --cloud-url.' });
  const credential = await lookupCredential(gate, given.apiKey);
  if (!credential) throw new CliError('not-logged-in', `not logged in to ${gate}`, { exitCode: ExitCode.NOT_LOGGED_IN, hint: 'Run sentrail login (or set SENTRAIL_API_KEY).' });
  return { gate, cloudBase: address.cloudBase, headers: { authorization: `Bearer ${credential.token}` }, http: await createHttpClient() };
}
