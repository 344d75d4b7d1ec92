// `sentrail login` with OAuth 2.1, from discovery to a stored token (docs/login.md):
//   store reachable? → discovery (discovery.ts) → flow choice → client (registration.ts) →
//   authorization code + PKCE S256 + state + resource (+ iss) through the loopback listener, or the
//   device grant → the token checked against the gate (a 403 insufficient_scope steps up once) →
//   stored → the gate becomes the default.
// It reports through LoginEvents and throws CliErrors; it never writes to the terminal, and no
// error it throws carries a token, a code or a verifier (no `cause` from the OAuth layer either).
import { createHttpClient } from '../../bridge/http-client.ts';
import { resolveGateAddress } from '../../bridge/gate-address.ts';
import { CliError } from '../../cli/errors.ts';
import { ExitCode } from '../../cli/exit-codes.ts';
import { readCliConfig, updateCliConfig, type CredentialStorage } from '../../config/cli-config.ts';
import type { OpenStore } from '../credential-sources.ts';
import { checkCredential, whoAmI } from '../gate-check.ts';
import { previousEntry, recordLogin } from '../login-record.ts';
import { gateResource, normalizeGateUrl, type StoredEntry } from '../token-entry.ts';
import type { TokenStore } from '../token-store.ts';
import { canOpenBrowser, openBrowser } from './browser-open.ts';
import { bearerChallenge } from './challenge.ts';
import { discover, type Discovery } from './discovery.ts';
import type { LoginListener } from './login-events.ts';
import { startCallbackListener, type CallbackListener } from './loopback.ts';
import { oauthFetch } from './oauth-fetch.ts';
import { createConfiguration, oidc } from './openid.ts';
import { oauthErrorText, resolveClient, type ResolvedClient } from './registration.ts';

export interface OAuthLoginOptions {
  gate: string;
  /** --device */
  device?: boolean;
  /** --no-browser: the browser flow, with the URL printed instead of opened. */
  noBrowser?: boolean;
  callbackPort?: number;
  clientId?: string;
  clientMetadataUrl?: string;
  storage: CredentialStorage;
  store: TokenStore;
  /** Opens the other store, to remove a credential left there by an earlier login. */
  openStore: OpenStore;
  listener: LoginListener;
  signal: AbortSignal;
  /** How long to wait for the user (browser or device), ms. */
  waitMs?: number;
  allowHttp?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface OAuthLoginResult {
  entry: StoredEntry;
  subject: string | null;
  tools: number | null;
  note?: string;
}

export const DEFAULT_WAIT_MS = 5 * 60_000;

interface Tokens {
  accessToken: string;
  refreshToken: string | null;
  expiresIn: number | null;
  scopes: string[];
  /** When the token endpoint answered: expires_in counts from here, not from when the entry is written. */
  obtainedAt: Date;
}

export async function runOAuthLogin(opts: OAuthLoginOptions): Promise<OAuthLoginResult> {
  const gate = normalizeGateUrl(opts.gate);
  const address = resolveGateAddress(gate, { allowHttp: opts.allowHttp });
  const resource = gateResource(gate);
  const emit = opts.listener;
  const env = opts.env ?? process.env;

  const previous = await previousEntry(opts.store, gate, resource);

  const f = await oauthFetch(env);
  const http = await createHttpClient(env);
  const { config } = await readCliConfig();
  let requiredScopes: string[] | undefined;

  for (let attempt = 0; ; attempt++) {
    emit({ type: 'step', step: 'discovering', detail: gate });
    const found = await discover(gate, { fetch: f, signal: opts.signal, ...(requiredScopes ? { requiredScopes } : {}) });
    const deviceOffered = typeof found.metadata.device_authorization_endpoint === 'string';
    emit({ type: 'discovered', issuer: found.issuer, resource: found.resource, scopes: found.scopes, deviceFlow: deviceOffered });

    const flow = chooseFlow(opts, deviceOffered, env);
    if (flow.warning) emit({ type: 'warning', message: flow.warning });
    if (flow.kind === 'browser') requireS256(found);

    const remembered = config.clients[found.issuer] ?? null;
    const listener = flow.kind === 'browser' ? await listen(opts.callbackPort, remembered?.redirectUris) : null;
    try {
      emit({ type: 'step', step: 'registering', detail: found.issuer });
      const client = await resolveClient({
        issuer: found.issuer,
        metadata: found.metadata,
        redirectUri: listener?.redirectUri ?? null,
        ...(opts.clientId ? { clientId: opts.clientId } : {}),
        ...(opts.clientMetadataUrl ? { clientMetadataUrl: opts.clientMetadataUrl } : {}),
        remembered,
        fetch: f,
        signal: opts.signal,
        warn: (message) => emit({ type: 'warning', message }),
      });
      emit({ type: 'registered', clientId: client.registration.clientId, method: client.registration.method, reused: client.reused });
      if (client.remember) await rememberClient(found.issuer, client);

      const configuration = createConfiguration({ metadata: found.metadata, client: client.registration, fetch: f });
      const tokens =
        flow.kind === 'browser'
          ? await browserFlow(configuration, found, resource, listener!, { opened: !opts.noBrowser, env, emit, signal: opts.signal, waitMs: opts.waitMs ?? DEFAULT_WAIT_MS })
          : await deviceFlow(configuration, found, resource, { emit, signal: opts.signal, waitMs: opts.waitMs ?? DEFAULT_WAIT_MS });

      emit({ type: 'step', step: 'checking', detail: gate });
      const check = await checkCredential(http, address.mcpUrl, tokens.accessToken);
      if (check.kind === 'refused' && check.status === 403 && attempt === 0) {
        // Step-up (MCP authorization spec, "Scope Challenge Handling"): ask again for what the gate wants.
        const wanted = bearerChallenge(check.wwwAuthenticate)?.params.scope?.split(/\s+/).filter(Boolean) ?? [];
        if (wanted.length > 0) {
          emit({ type: 'warning', message: `the gate needs the scope ${wanted.join(' ')}; asking the authorization server again` });
          requiredScopes = [...new Set([...found.scopes, ...wanted])];
          continue;
        }
      }
      if (check.kind === 'refused') {
        throw new CliError('token-refused', `the gate refused the token ${found.issuer} issued (HTTP ${check.status}); nothing was stored`, {
          exitCode: ExitCode.NOT_LOGGED_IN,
          hint: check.status === 403 ? 'Your account lacks the scope the gate requires; ask your Sentrail admin.' : `The gate does not trust tokens from ${found.issuer} for ${resource}; ask your Sentrail admin.`,
        });
      }
      if (check.kind === 'failed') throw new CliError('gate-check-failed', `cannot check the new token against the gate: ${check.message}. Nothing was stored.`);

      const who = address.cloudBase ? await whoAmI(http, address.cloudBase, tokens.accessToken) : null;
      emit({ type: 'step', step: 'storing' });
      const entry = oauthEntry({ gate, resource, tokens, issuer: found.issuer, client, metadata: found.metadata, previous });
      await opts.store.set(entry);
      await recordLogin({ gate, resource, storage: opts.storage, before: config.gates[gate]?.storage ?? null, openStore: opts.openStore, warn: (message) => emit({ type: 'warning', message }) });
      return { entry, subject: who?.kind === 'ok' ? who.whoami.subject : null, tools: check.tools, ...(check.note ? { note: check.note } : {}) };
    } finally {
      await listener?.close();
    }
  }
}

type FlowChoice = { kind: 'browser' | 'device'; warning?: string };

export function chooseFlow(opts: Pick<OAuthLoginOptions, 'device' | 'noBrowser'>, deviceOffered: boolean, env: NodeJS.ProcessEnv): FlowChoice {
  if (opts.device) {
    if (!deviceOffered) {
      throw new CliError('no-device-flow', 'the authorization server does not offer the device flow (RFC 8628), so --device cannot be used', {
        exitCode: ExitCode.INVALID_INPUT,
        hint: 'Log in with the browser instead; on a machine without one: sentrail login --no-browser (it prints the URL to open elsewhere).',
      });
    }
    return { kind: 'device' };
  }
  if (opts.noBrowser) return { kind: 'browser' };
  if (!canOpenBrowser(env) && deviceOffered) return { kind: 'device', warning: 'no browser can be opened here; using the device flow instead (open the link on any device)' };
  return { kind: 'browser' };
}

function requireS256(found: Discovery): void {
  const methods = found.metadata.code_challenge_methods_supported;
  if (!Array.isArray(methods) || !methods.includes('S256')) {
    throw new CliError('no-pkce-s256', `the authorization server ${found.issuer} does not offer PKCE with S256 (code_challenge_methods_supported: ${JSON.stringify(methods ?? null)}); refusing the browser flow, as OAuth 2.1 requires`, {
      exitCode: ExitCode.FAILURE,
      hint: found.metadata.device_authorization_endpoint ? 'It offers the device flow: sentrail login --device' : undefined,
    });
  }
}

/** The loopback listener: --callback-port, else the port the remembered registration names (no new registration), else any. */
async function listen(fixed: number | undefined, registeredUris: string[] | undefined): Promise<CallbackListener> {
  if (fixed !== undefined) return startCallbackListener({ port: fixed });
  const remembered = registeredUris?.map((u) => new URL(u)).find((u) => u.hostname === '127.0.0.1' && u.port !== '');
  if (remembered) {
    try {
      return await startCallbackListener({ port: Number(remembered.port) });
    } catch {
      // taken now: any port, and a new registration for it
    }
  }
  return startCallbackListener();
}

async function rememberClient(issuer: string, client: ResolvedClient): Promise<void> {
  const r = client.registration;
  if (r.clientSecret) return; // a confidential registration stays in the credential entry only
  await updateCliConfig((c) => {
    c.clients[issuer] = { clientId: r.clientId, method: r.method, redirectUris: r.redirectUris ?? [], registeredAt: r.registeredAt ?? new Date().toISOString() };
  });
}

/** Waiting for the user ends with Ctrl-C (`signal`) or after `waitMs`. */
const deadline = (signal: AbortSignal, waitMs: number): AbortSignal => AbortSignal.any([signal, AbortSignal.timeout(waitMs)]);

function waitError(outer: AbortSignal, waitMs: number, what: string): CliError {
  if (outer.aborted) return new CliError('cancelled', 'login cancelled; nothing was stored', { exitCode: ExitCode.FAILURE });
  return new CliError('login-timeout', `no ${what} within ${Math.round(waitMs / 1000)} s; nothing was stored`, { exitCode: ExitCode.FAILURE, hint: 'Run sentrail login again when you are ready.' });
}

async function browserFlow(
  configuration: oidc.Configuration,
  found: Discovery,
  resource: string,
  listener: CallbackListener,
  ctx: { opened: boolean; env: NodeJS.ProcessEnv; emit: LoginListener; signal: AbortSignal; waitMs: number },
): Promise<Tokens> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const params: Record<string, string> = {
    redirect_uri: listener.redirectUri,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    resource,
  };
  if (found.scopes.length) params.scope = found.scopes.join(' ');
  // OpenID Connect servers issue a refresh token for offline_access only with consent (OIDC Core §11).
  if (found.scopes.includes('offline_access')) params.prompt = 'consent';
  const url = oidc.buildAuthorizationUrl(configuration, params).href;

  const opened = ctx.opened ? await openBrowser(url, ctx.env) : false;
  ctx.emit({ type: 'authorize-url', url, opened, callback: listener.redirectUri });
  ctx.emit({ type: 'step', step: 'waiting-for-browser' });

  const signal = deadline(ctx.signal, ctx.waitMs);
  let callback: URL;
  try {
    callback = await listener.next(signal);
  } catch {
    throw waitError(ctx.signal, ctx.waitMs, 'answer from the browser');
  }
  ctx.emit({ type: 'step', step: 'exchanging' });
  try {
    const response = await oidc.authorizationCodeGrant(configuration, callback, { pkceCodeVerifier: verifier, expectedState: state, idTokenExpected: false }, { resource });
    listener.respond({ ok: true });
    return tokensOf(response);
  } catch (err) {
    const error = authorizationError(err, found.issuer);
    listener.respond({ ok: false, message: error.message });
    throw error;
  }
}

async function deviceFlow(configuration: oidc.Configuration, found: Discovery, resource: string, ctx: { emit: LoginListener; signal: AbortSignal; waitMs: number }): Promise<Tokens> {
  const params: Record<string, string> = { resource };
  if (found.scopes.length) params.scope = found.scopes.join(' ');
  let started: Awaited<ReturnType<typeof oidc.initiateDeviceAuthorization>>;
  try {
    started = await oidc.initiateDeviceAuthorization(configuration, params);
  } catch (err) {
    throw new CliError('device-start-failed', `the authorization server ${found.issuer} refused to start the device flow: ${oauthErrorText(err)}`);
  }
  const waitMs = Math.min(ctx.waitMs, started.expires_in * 1000);
  ctx.emit({
    type: 'device-code',
    verificationUri: started.verification_uri,
    verificationUriComplete: started.verification_uri_complete ?? null,
    userCode: started.user_code,
    expiresAt: new Date(Date.now() + started.expires_in * 1000).toISOString(),
  });
  ctx.emit({ type: 'step', step: 'waiting-for-device' });
  const signal = deadline(ctx.signal, waitMs);
  try {
    return tokensOf(await oidc.pollDeviceAuthorizationGrant(configuration, started, { resource }, { signal }));
  } catch (err) {
    if (signal.aborted) throw waitError(ctx.signal, waitMs, 'approval of the device code');
    throw authorizationError(err, found.issuer);
  }
}

function tokensOf(response: oidc.TokenEndpointResponse): Tokens {
  return {
    accessToken: response.access_token,
    refreshToken: typeof response.refresh_token === 'string' ? response.refresh_token : null,
    expiresIn: typeof response.expires_in === 'number' ? response.expires_in : null,
    scopes: typeof response.scope === 'string' ? response.scope.split(/\s+/).filter(Boolean) : [],
    obtainedAt: new Date(),
  };
}

/** What went wrong in an authorization response or a token request, for a person; never a secret. */
export function authorizationError(err: unknown, issuer: string): CliError {
  const e = err as { error?: string; error_description?: string; message?: string; code?: string };
  if (e.error === 'access_denied') {
    return new CliError('access-denied', `the authorization was declined (access_denied${e.error_description ? `: ${e.error_description}` : ''}); nothing was stored`, { exitCode: ExitCode.NOT_LOGGED_IN });
  }
  // openid-client wraps oauth4webapi's finding ("unexpected \"state\" response parameter value") as the cause.
  const message = e.message ?? '';
  const detail = `${message} ${(e as { cause?: { message?: string } }).cause?.message ?? ''}`;
  if (/"state"/.test(detail)) {
    return new CliError('bad-state', 'the browser came back with a state that does not belong to this login (a forged or stale redirect); refused, nothing was stored', {
      exitCode: ExitCode.FAILURE,
      hint: 'Run sentrail login again, and finish it in the browser tab it opens.',
    });
  }
  if (/"iss"/.test(detail)) {
    return new CliError('issuer-mismatch', `the authorization response came from another issuer than ${issuer} (RFC 9207 "iss" check); refused, nothing was stored`, { exitCode: ExitCode.FAILURE });
  }
  if (e.error === 'expired_token') return new CliError('device-code-expired', 'the device code expired before it was approved; nothing was stored', { hint: 'Run sentrail login --device again.' });
  if (e.error) return new CliError('authorization-failed', `the authorization server ${issuer} refused: ${oauthErrorText(err)}; nothing was stored`);
  return new CliError('authorization-failed', `the login failed: ${detail.trim() || String(err)}; nothing was stored`);
}

function oauthEntry(x: { gate: string; resource: string; tokens: Tokens; issuer: string; client: ResolvedClient; metadata: Discovery['metadata']; previous: StoredEntry | null }): StoredEntry {
  const now = x.tokens.obtainedAt;
  return {
    type: 'oauth',
    gate: x.gate,
    resource: x.resource,
    accessToken: x.tokens.accessToken,
    refreshToken: x.tokens.refreshToken,
    expiresAt: x.tokens.expiresIn === null ? null : new Date(now.getTime() + x.tokens.expiresIn * 1000).toISOString(),
    issuer: x.issuer,
    client: x.client.registration,
    endpoints: { token: x.metadata.token_endpoint!, revocation: x.metadata.revocation_endpoint ?? null },
    scopes: x.tokens.scopes,
    createdAt: x.previous?.createdAt ?? now.toISOString(),
    updatedAt: now.toISOString(),
  };
}
