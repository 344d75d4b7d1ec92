// `sentrail login` without --with-api-key: the OAuth flow (src/auth/oauth/login-flow.ts) behind the
// login view (src/cli/login-view/). Ctrl-C, caught by the view, aborts the flow's signal: nothing
// stored, the loopback port freed.
import { defaultOpenStore } from '../auth/credential-sources.ts';
import { runOAuthLogin } from '../auth/oauth/login-flow.ts';
import { readCliConfig, type CredentialStorage } from '../config/cli-config.ts';
import { usageError } from './errors.ts';
import { ExitCode } from './exit-codes.ts';
import type { LoginOptions } from './login.ts';
import { createLoginView, loginViewOptions } from './login-view/index.ts';

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535) throw usageError(`--callback-port ${value}: not a port number (1-65535)`);
  return n;
}

export async function runOAuthLoginCommand(opts: LoginOptions): Promise<number> {
  const callbackPort = parsePort(opts.callbackPort);
  if (opts.device && opts.browser === false) throw usageError('--device and --no-browser are two different flows; pick one', '--no-browser prints a URL to open in a browser anywhere; --device shows a code to type at a URL.');
  if (opts.device && callbackPort !== undefined) throw usageError('--callback-port is for the browser flow; the device flow has no callback');
  const { config } = await readCliConfig();
  const gate = opts.gate ?? config.defaultGate;
  if (!gate) throw usageError('which gate? pass --gate <gate URL> (e.g. https://<ref>.supabase.co/functions/v1/mcp-gate/sse)', 'login remembers it as the default gate for status, logout and the bridge.');

  const storage: CredentialStorage = opts.insecureStorage ? 'file' : 'keychain';
  const view = await createLoginView(loginViewOptions({ json: Boolean(opts.json) }));
  try {
    const openStore = defaultOpenStore();
    const store = await openStore(storage);
    const result = await runOAuthLogin({
      gate,
      storage,
      store,
      openStore,
      listener: view.listener,
      signal: view.signal,
      ...(opts.device ? { device: true } : {}),
      ...(opts.browser === false ? { noBrowser: true } : {}),
      ...(callbackPort !== undefined ? { callbackPort } : {}),
      ...(opts.clientId ? { clientId: opts.clientId } : {}),
      ...(opts.clientMetadataUrl ? { clientMetadataUrl: opts.clientMetadataUrl } : {}),
      ...(opts.allowHttp ? { allowHttp: true } : {}),
    });
    const e = result.entry;
    if (result.note) view.listener({ type: 'warning', message: result.note });
    if (storage === 'file') view.listener({ type: 'warning', message: `--insecure-storage: the token is kept unencrypted in a file under ${store.location} (readable by you only, mode 0600). Prefer the OS keychain where there is one.` });
    view.listener({
      type: 'done',
      gate: e.gate,
      issuer: e.issuer ?? '',
      subject: result.subject,
      scopes: e.scopes,
      expiresAt: e.expiresAt,
      refreshable: e.refreshToken !== null,
      storage,
      location: store.location,
    });
    await view.close();
    if (!opts.json) process.stderr.write(`${e.gate} is now the default gate for sentrail status, sentrail logout and sentrail bridge.\n`);
    return ExitCode.OK;
  } catch (err) {
    // The view shows it (✗ message + hint, or the JSON error line) and gives the exit code.
    return view.fail(err);
  } finally {
    await view.close();
  }
}
