// Renews one stored OAuth entry with its refresh token (RFC 6749 §6, with the RFC 8707 `resource`),
// one process at a time per gate + resource (refresh-lock.ts). Under the lock the store is read
// again first: when another process has renewed meanwhile, its tokens are used and no request is
// made (refresh tokens rotate: the one we hold may already be spent). openid-client is imported
// only when a request is really made.
//
// Never throws for what the authorization server or the network does; the outcome says what
// happened, in words that hold no secret.
import { CliError } from '../../cli/errors.ts';
import { acquireLock, LockTimeoutError, refreshLockFile, type LockOptions } from '../refresh-lock.ts';
import { entryTimes, refreshDue } from '../refresh-timing.ts';
import type { StoredEntry } from '../token-entry.ts';
import type { TokenStore } from '../token-store.ts';

export type RefreshOutcome =
  /** This process renewed the entry (and stored it, unless `notStored` says why not). */
  | { kind: 'refreshed'; entry: StoredEntry; notStored?: string }
  /** Another process had renewed it, or a new login replaced it: the stored entry is good. */
  | { kind: 'taken-from-store'; entry: StoredEntry }
  /** Only a new `sentrail login` helps. */
  | { kind: 'needs-login'; reason: string }
  /** Worth trying again later (the authorization server or the store did not answer). */
  | { kind: 'failed'; reason: string };

export interface RefreshRequest {
  store: TokenStore;
  gate: string;
  resource: string;
  /** The access token the caller holds (rejected, or about to expire). */
  seen: string;
  lock?: LockOptions & { stateDir?: string };
  /** Seconds openid-client waits for the token endpoint. */
  timeoutS?: number;
  /** Default: Node's fetch, or undici's through HTTPS_PROXY / HTTP_PROXY (oauth-fetch.ts). */
  fetch?: typeof fetch;
  now?: () => Date;
}

/** An error from the token endpoint, as openid-client reports it (ResponseBodyError). */
function oauthErrorCode(err: unknown): { error: string; status: number } | null {
  const e = err as { code?: unknown; error?: unknown; status?: unknown };
  return e && e.code === 'OAUTH_RESPONSE_BODY_ERROR' && typeof e.error === 'string' ? { error: e.error, status: Number(e.status) } : null;
}

/** The renewed entry: rotated refresh token if one came, absolute expiry from expires_in. */
function renewed(entry: StoredEntry, tokens: { access_token: string; refresh_token?: string; expires_in?: number; scope?: string }, now: Date): StoredEntry {
  return {
    ...entry,
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token ?? entry.refreshToken,
    expiresAt: typeof tokens.expires_in === 'number' ? new Date(now.getTime() + tokens.expires_in * 1000).toISOString() : null,
    scopes: tokens.scope ? tokens.scope.split(' ').filter(Boolean) : entry.scopes,
    updatedAt: now.toISOString(),
  };
}

/** Replaces every secret in a text that may quote the server (defence in depth: none is expected). */
function scrub(text: string, secrets: (string | null | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 8) out = out.split(s).join('[redacted]');
  return out;
}

export async function refreshStoredEntry(req: RefreshRequest): Promise<RefreshOutcome> {
  const now = req.now ?? (() => new Date());
  let lock;
  try {
    lock = await acquireLock(refreshLockFile(req.gate, req.resource, req.lock?.stateDir), req.lock);
  } catch (err) {
    if (err instanceof LockTimeoutError) return { kind: 'failed', reason: err.message };
    return { kind: 'failed', reason: `cannot take the refresh lock: ${(err as Error).message}` };
  }
  try {
    return await refreshHoldingLock(req, now);
  } finally {
    await lock.release();
  }
}

async function readStore(req: RefreshRequest): Promise<StoredEntry | null | { problem: string }> {
  try {
    return await req.store.get(req.gate, req.resource);
  } catch (err) {
    return { problem: err instanceof CliError ? err.message : `cannot read the stored credential: ${(err as Error).message}` };
  }
}

async function refreshHoldingLock(req: RefreshRequest, now: () => Date): Promise<RefreshOutcome> {
  const current = await readStore(req);
  if (current === null) return { kind: 'needs-login', reason: 'there is no stored login for this gate any more' };
  if ('problem' in current) return { kind: 'failed', reason: current.problem };
  if (current.accessToken !== req.seen && !refreshDue(entryTimes(current), now().getTime())) return { kind: 'taken-from-store', entry: current };
  if (current.type !== 'oauth') return { kind: 'needs-login', reason: 'the gate refused the stored API key' };
  if (!current.refreshToken) return { kind: 'needs-login', reason: 'the login has expired and the authorization server gave no refresh token to renew it' };
  if (!current.issuer || !current.client || !current.endpoints) return { kind: 'needs-login', reason: 'the stored login lacks the authorization server details needed to renew it' };

  const sent = current.refreshToken;
  const secrets = [sent, current.accessToken, current.client.clientSecret];
  let tokens;
  try {
    const [{ oidc, configurationFromEntry }, { oauthFetch }] = await Promise.all([import('./openid.ts'), import('./oauth-fetch.ts')]);
    // Behind HTTPS_PROXY the token endpoint is reached through the proxy, as the gate is.
    const config = configurationFromEntry(current, req.fetch ?? (await oauthFetch()));
    config.timeout = req.timeoutS ?? 10;
    tokens = await oidc.refreshTokenGrant(config, sent, { resource: current.resource });
  } catch (err) {
    return scrubbed(await afterError(req, err, current, sent), secrets);
  }
  const entry = renewed(current, tokens, now());
  try {
    await req.store.set(entry);
    return { kind: 'refreshed', entry };
  } catch (err) {
    // The new tokens still work in this process; the rotated refresh token is lost to the others.
    return { kind: 'refreshed', entry, notStored: scrub((err as Error).message, [...secrets, entry.accessToken, entry.refreshToken]) };
  }
}

function scrubbed(outcome: RefreshOutcome, secrets: (string | null | undefined)[]): RefreshOutcome {
  return outcome.kind === 'needs-login' || outcome.kind === 'failed' ? { ...outcome, reason: scrub(outcome.reason, secrets) } : outcome;
}

async function afterError(req: RefreshRequest, err: unknown, current: StoredEntry, sent: string): Promise<RefreshOutcome> {
  const oauth = oauthErrorCode(err);
  const issuer = current.issuer ?? 'the authorization server';
  if (oauth?.error === 'invalid_grant') {
    // Spent, expired or revoked. Another process (or a new login) may have replaced it while the
    // request was out: clear the entry only if it still holds the refresh token that was refused.
    const stored = await readStore(req);
    if (stored && !('problem' in stored) && stored.refreshToken !== sent) return { kind: 'taken-from-store', entry: stored };
    if (stored && !('problem' in stored)) await req.store.delete(req.gate, req.resource).catch(() => false);
    return { kind: 'needs-login', reason: `the login has expired: ${issuer} no longer accepts its refresh token` };
  }
  if (oauth && oauth.status < 500) {
    return { kind: 'needs-login', reason: `${issuer} refused to renew the login (${oauth.error})` };
  }
  const why = oauth ? `${oauth.error}, HTTP ${oauth.status}` : ((err as Error).cause as Error | undefined)?.message ?? (err as Error).message;
  return { kind: 'failed', reason: `the authorization server ${issuer} cannot be reached (${why})` };
}
