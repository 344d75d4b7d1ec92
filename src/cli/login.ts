// `sentrail login [--gate URL]`: OAuth 2.1 in the browser or with a device code
// (src/auth/oauth/login-flow.ts, shown by the login view); or `--with-api-key`: reads an agk_ key
// from standard input, checks it against the gate (a tools/list after initialize; 401: refused).
// Either way the credential goes to the OS keychain (or a 0600 file with --insecure-storage) and
// the gate becomes the default.
import { resolveGateAddress } from '../bridge/gate-address.ts';
import { createHttpClient } from '../bridge/http-client.ts';
import { defaultOpenStore } from '../auth/credential-sources.ts';
import { checkCredential } from '../auth/gate-check.ts';
import { readSecret } from '../auth/read-secret.ts';
import { apiKeyEntry, gateResource, normalizeGateUrl } from '../auth/token-entry.ts';
import type { TokenStore } from '../auth/token-store.ts';
import { readCliConfig, type CredentialStorage } from '../config/cli-config.ts';
import { previousEntry, recordLogin } from '../auth/login-record.ts';
import { maskKey } from '../log/redact.ts';
import { CliError, usageError } from './errors.ts';
import { ExitCode } from './exit-codes.ts';

export interface LoginOptions {
  gate?: string;
  withApiKey?: boolean;
  insecureStorage?: boolean;
  allowHttp?: boolean;
  device?: boolean;
  /** commander's --no-browser: false when given. */
  browser?: boolean;
  callbackPort?: string;
  clientId?: string;
  clientMetadataUrl?: string;
  json?: boolean;
}

/** The gate API key format (gate-protocol.md, "Auth"). */
export const API_KEY_FORMAT = /^agk_[A-Za-z0-9]{40}$/;

export async function runLogin(opts: LoginOptions): Promise<number> {
  return login(opts);
}

async function login(opts: LoginOptions): Promise<number> {
  if (!opts.withApiKey) return (await import('./login-oauth.ts')).runOAuthLoginCommand(opts);
  const err = process.stderr;
  const { config } = await readCliConfig();
  const given = opts.gate ?? config.defaultGate;
  if (!given) throw usageError('which gate? pass --gate <gate URL> (e.g. https://<ref>.supabase.co/functions/v1/mcp-gate/sse)', 'login remembers it as the default gate for status, logout and the bridge.');
  const address = resolveGateAddress(given, { allowHttp: opts.allowHttp });
  const gate = normalizeGateUrl(given);
  const resource = gateResource(gate);

  let key: string;
  try {
    key = await readSecret();
  } catch (e) {
    if ((e as { code?: unknown }).code === 'cancelled') throw new CliError('cancelled', 'cancelled; nothing was stored');
    throw e;
  }
  if (key === '') {
    throw usageError('no API key on standard input', 'Pipe it in, e.g.: printenv SENTRAIL_API_KEY | sentrail login --with-api-key (never put it on the command line).');
  }
  if (!API_KEY_FORMAT.test(key)) {
    // Never echo what was read: it may be a real secret of another kind.
    throw usageError('what was read from standard input is not a Sentrail API key (agk_ followed by 40 letters and digits)');
  }

  const storage: CredentialStorage = opts.insecureStorage ? 'file' : 'keychain';
  const openStore = defaultOpenStore();
  const store = await openStore(storage);
  // Ask the store first: no keychain is found out in milliseconds, before the gate is contacted.
  const previous = await previousEntry(store, gate, resource);

  const outcome = await checkCredential(await createHttpClient(), address.mcpUrl, key);
  if (outcome.kind === 'refused') {
    throw new CliError('key-refused', `the gate refused this API key (HTTP ${outcome.status}): it is wrong, expired, revoked, or lacks the mcp scope. Nothing was stored.`, {
      exitCode: ExitCode.NOT_LOGGED_IN,
      hint: 'Check the key in Sentrail (Settings → API keys) and that --gate is the URL you were given.',
    });
  }
  if (outcome.kind === 'failed') throw new CliError('gate-check-failed', `cannot check the key: ${outcome.message}. Nothing was stored.`);

  await store.set(apiKeyEntry(gate, resource, key, new Date(), previous));
  await recordLogin({ gate, resource, storage, before: config.gates[gate]?.storage ?? null, openStore, warn: (m) => err.write(`warning: ${m}\n`) });

  if (storage === 'file') {
    const file = (store as TokenStore & { fileFor?: (g: string, r: string) => string }).fileFor?.(gate, resource) ?? store.location;
    err.write(`warning: --insecure-storage: the key is kept unencrypted in ${file} (readable by you only, mode 0600). Prefer the OS keychain where there is one; in CI and containers, SENTRAIL_API_KEY.\n`);
  }
  const seen = outcome.tools === null ? '' : ` (${outcome.tools} tool${outcome.tools === 1 ? '' : 's'} visible)`;
  if (outcome.note) err.write(`note: ${outcome.note}\n`);
  err.write(`Logged in to ${gate} with API key ${maskKey(key)}${seen}; stored in ${storage === 'file' ? 'a file (--insecure-storage)' : store.location}.\n`);
  err.write(`${gate} is now the default gate for sentrail status, sentrail logout and sentrail bridge.\n`);
  return ExitCode.OK;
}
