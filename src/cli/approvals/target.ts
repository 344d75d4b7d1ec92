// Which gate `sentrail approvals` talks to, and with which credential.
//  - The gate: --gate, else the default gate (`sentrail login` remembers it), else the local gate
//    at its default address. Given as the MCP URL (…/mcp-gate/sse) or as the base `C` itself.
//  - The reviewer's key: --admin-key, else SENTRAIL_ADMIN_KEY, else, for a gate on this machine
//    (a loopback address), the key that gate generated and left in its state folder.
//  - `status` and `wait` read the agent's status endpoint: the reviewer's key when there is one,
//    else the agent's credential, found as the bridge finds it (--api-key, SENTRAIL_API_KEY, the
//    stored login).
// The hosted gate takes a reviewer's Supabase session for decisions and reviews; sentrail has no
// such login, so without an admin key a non-local gate gets an error that says so.
import { createGateCredentialSource } from '../../auth/credential-sources.ts';
import { bridgeCredentials } from '../../bridge/credentials.ts';
import { isLoopback, resolveGateAddress } from '../../bridge/gate-address.ts';
import { readCliConfig } from '../../config/cli-config.ts';
import { adminKeyFile, readAdminKeyFile } from '../../config/gate-admin-key.ts';
import { ADMIN_KEY_PATTERN } from '../../gate/admin-auth.ts';
import { CliError, usageError } from '../errors.ts';
import { ExitCode } from '../exit-codes.ts';

export const LOCAL_GATE_URL = 'http://127.0.0.1:7391/mcp-gate/sse';

export interface ApprovalsOptions {
  gate?: string;
  adminKey?: string;
  apiKey?: string;
  stateDir?: string;
  allowHttp?: boolean;
  json?: boolean;
}

export interface GateTarget {
  /** The gate as the user knows it (for messages). */
  gate: string;
  /** `C`: the endpoints hang off it. */
  base: string;
  local: boolean;
}

export interface Credential {
  token: string;
  /** For messages: where it came from (never the value). */
  from: string;
  kind: 'admin' | 'agent';
}

export async function resolveTarget(opts: ApprovalsOptions): Promise<GateTarget> {
  let given = opts.gate;
  if (!given) {
    const { config } = await readCliConfig();
    given = config.defaultGate ?? LOCAL_GATE_URL;
  }
  const address = resolveGateAddress(given, { allowHttp: opts.allowHttp });
  const base = address.cloudBase ?? address.mcpUrl.href.replace(/\/+$/, '');
  return { gate: given, base, local: isLoopback(address.mcpUrl) };
}

/** The reviewer's key, or null when there is none to be found. */
export async function findAdminKey(target: GateTarget, opts: ApprovalsOptions, env: NodeJS.ProcessEnv = process.env): Promise<Credential | null> {
  const given = opts.adminKey ?? (env.SENTRAIL_ADMIN_KEY || undefined);
  if (given !== undefined) {
    const from = opts.adminKey !== undefined ? 'the --admin-key flag' : 'the SENTRAIL_ADMIN_KEY environment variable';
    // Never echo it: it may be a real key, merely mistyped.
    if (!ADMIN_KEY_PATTERN.test(given)) throw usageError(`${opts.adminKey !== undefined ? '--admin-key' : 'SENTRAIL_ADMIN_KEY'}: not a Sentrail admin key (expected sak_ followed by 40 letters and digits)`);
    return { token: given, from, kind: 'admin' };
  }
  if (!target.local) return null;
  const port = new URL(target.base).port || '80';
  const file = adminKeyFile(port, opts.stateDir);
  const saved = await readAdminKeyFile(file);
  return saved ? { token: saved.adminKey, from: `${file} (written by the gate)`, kind: 'admin' } : null;
}

/** For decisions and reviews: the admin key, or an error naming what is missing. */
export async function reviewerCredential(target: GateTarget, opts: ApprovalsOptions): Promise<Credential> {
  const key = await findAdminKey(target, opts);
  if (key) return key;
  if (!target.local) {
    throw new CliError(
      'reviewer-session-needed',
      `deciding and reviewing approvals on ${target.gate} needs a reviewer's Supabase session (the hosted gate's /approval-decision takes a signed-in reviewer, not an API key), and sentrail has no reviewer login`,
      { exitCode: ExitCode.NOT_LOGGED_IN, hint: 'Decide it in the Sentrail dashboard; or, for a local sentrail gate on another host, pass its --admin-key (or set SENTRAIL_ADMIN_KEY).' },
    );
  }
  throw new CliError('no-admin-key', `no admin key for the gate at ${target.base}`, {
    exitCode: ExitCode.NOT_LOGGED_IN,
    hint: `Pass --admin-key (or set SENTRAIL_ADMIN_KEY) with the key the gate printed, or run this on the gate's machine: a gate that generates its key leaves it in ${adminKeyFile(new URL(target.base).port || '80', opts.stateDir)} (another state folder: --state-dir).`,
  });
}

/** For the status read: the reviewer's key when there is one, else the agent's credential. */
export async function statusCredential(target: GateTarget, opts: ApprovalsOptions): Promise<Credential> {
  const key = await findAdminKey(target, opts);
  if (key) return key;
  const stored = createGateCredentialSource({ gate: target.gate });
  const agent = await bridgeCredentials({ ...(opts.apiKey ? { apiKey: opts.apiKey } : {}), ...(stored ? { store: stored.source } : {}) }).get();
  if (agent) return { token: agent.token, from: agent.origin === 'flag' ? 'the --api-key flag' : agent.origin === 'env' ? 'the SENTRAIL_API_KEY environment variable' : 'your sentrail login', kind: 'agent' };
  throw new CliError('no-credential', `no credential for ${target.gate}: neither an admin key nor the agent's`, {
    exitCode: ExitCode.NOT_LOGGED_IN,
    hint: 'Pass --admin-key or --api-key (or set SENTRAIL_ADMIN_KEY or SENTRAIL_API_KEY), or log in: sentrail login.',
  });
}
